// Where a Database's admin login comes from: an environment variable of the
// controllers or an AWS Secrets Manager secret, both holding the JSON of an RDS
// secret ({"username": …, "password": …}). Errors name the reference and what is
// wrong with it, never a value.
import { z } from 'zod';
import type { Database } from '../../crds/index.ts';

export interface AdminCredentials {
  username: string;
  password: string;
}

/** Why a database could not be used; `reason` goes into its Connected condition. */
export class DatabaseUnavailable extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.name = 'DatabaseUnavailable';
    this.reason = reason;
  }
}

const secretJson = z.looseObject({
  username: z.string().min(1).max(63),
  password: z.string().min(1).max(4096),
});

/** Reads a Secrets Manager secret's SecretString (the driver lives in secrets-manager.ts). */
export type SecretReader = (arn: string) => Promise<string>;

export interface CredentialSources {
  env: Record<string, string | undefined>;
  /** Absent: a Database naming a Secrets Manager ARN is AdminCredentialsMissing. */
  readSecret?: SecretReader;
}

/** The admin username and password of `db`; throws DatabaseUnavailable naming what is wrong. */
export async function resolveAdminCredentials(
  db: Pick<Database, 'metadata' | 'spec'>,
  sources: CredentialSources,
): Promise<AdminCredentials> {
  const ref = db.spec.adminCredentials;
  let raw: string | undefined;
  let where: string;
  if (ref.fromEnv) {
    where = `environment variable ${ref.fromEnv}`;
    raw = sources.env[ref.fromEnv];
    if (raw === undefined || raw === '')
      throw new DatabaseUnavailable(
        'AdminCredentialsMissing',
        `${where} is not set in the controllers' environment`,
      );
  } else {
    where = `Secrets Manager secret ${ref.secretsManagerArn}`;
    if (!sources.readSecret)
      throw new DatabaseUnavailable(
        'AdminCredentialsMissing',
        `${where}: no Secrets Manager client`,
      );
    try {
      raw = await sources.readSecret(ref.secretsManagerArn!);
    } catch (err) {
      const e = err as { name?: string; message?: string };
      throw new DatabaseUnavailable(
        'AdminCredentialsUnreadable',
        `${where} could not be read (${e.name ?? 'Error'}: ${e.message ?? ''})`,
      );
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new DatabaseUnavailable(
      'AdminCredentialsInvalid',
      `${where} must hold JSON {"username": "…", "password": "…"}`,
    );
  }
  const r = secretJson.safeParse(parsed);
  if (!r.success)
    throw new DatabaseUnavailable(
      'AdminCredentialsInvalid',
      `${where} must hold JSON {"username": "…", "password": "…"} (${r.error.issues.map((i) => i.path.join('.') || 'value').join(', ')} missing or not text)`,
    );
  return { username: r.data.username, password: r.data.password };
}
