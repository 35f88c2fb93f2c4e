// A small AWS Secrets Manager (AWS JSON 1.1, X-Amz-Target `secretsmanager.*`):
// GetSecretValue and DescribeSecret over secrets from the config or set through
// the signed admin endpoint, so the unmodified @aws-sdk/client-secrets-manager
// reads Database admin credentials locally as it would in AWS. Values are kept in
// memory only and never logged.
import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AwsError, compact, epochSeconds } from './protocol.ts';

export const SECRETS_TARGET_PREFIX = 'secretsmanager';

/** A secret's name, as AWS allows it. */
export const secretName = z
  .string()
  .regex(/^[A-Za-z0-9/_+=.@-]{1,512}$/, 'must be 1 to 512 of A-Z a-z 0-9 / _ + = . @ -');

export const secretConfigSchema = z.strictObject({
  name: secretName,
  secretString: z.string().max(65_536),
});
export type SecretConfig = z.infer<typeof secretConfigSchema>;

interface Secret {
  name: string;
  arn: string;
  value: string;
  versionId: string;
  createdAt: number;
  changedAt: number;
}

const requestSchema = z.looseObject({ SecretId: z.string().min(1).max(2048) });

const notFound = () =>
  new AwsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");

export class SecretsManager {
  readonly #byName = new Map<string, Secret>();
  readonly #region: string;
  readonly #accountId: string;

  constructor(region: string, accountId: string, initial: readonly SecretConfig[]) {
    this.#region = region;
    this.#accountId = accountId;
    for (const s of initial) this.put(s.name, s.secretString);
  }

  /** Creates or replaces a secret's value (a new version); returns its ARN. */
  put(name: string, value: string): { arn: string; name: string; versionId: string } {
    const now = Date.now();
    const old = this.#byName.get(name);
    // AWS appends 6 random characters to a secret's ARN; here they derive from the name,
    // so an ARN put in a Database spec stays valid across restarts.
    const suffix = createHash('sha256').update(name).digest('base64url').slice(0, 6);
    const secret: Secret = {
      name,
      arn:
        old?.arn ??
        `arn:aws:secretsmanager:${this.#region}:${this.#accountId}:secret:${name}-${suffix}`,
      value,
      versionId: randomUUID(),
      createdAt: old?.createdAt ?? now,
      changedAt: now,
    };
    this.#byName.set(name, secret);
    return { arn: secret.arn, name, versionId: secret.versionId };
  }

  /** Handles `secretsmanager.<operation>`; throws AwsError. */
  handle(operation: string, body: unknown): unknown {
    if (operation !== 'GetSecretValue' && operation !== 'DescribeSecret')
      throw new AwsError('UnknownOperationException', `Unknown operation ${operation}`);
    const r = requestSchema.safeParse(body);
    if (!r.success)
      throw new AwsError('InvalidParameterException', 'SecretId: expected a secret name or ARN.');
    const secret = this.#find(r.data.SecretId);
    if (!secret) throw notFound();
    if (operation === 'GetSecretValue')
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: secret.versionId,
        SecretString: secret.value,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: epochSeconds(secret.changedAt),
      };
    return compact({
      ARN: secret.arn,
      Name: secret.name,
      CreatedDate: epochSeconds(secret.createdAt),
      LastChangedDate: epochSeconds(secret.changedAt),
      VersionIdsToStages: { [secret.versionId]: ['AWSCURRENT'] },
    });
  }

  /** By name, full ARN, or ARN without the random suffix (AWS accepts all three). */
  #find(id: string): Secret | undefined {
    if (!id.startsWith('arn:')) return this.#byName.get(id);
    for (const s of this.#byName.values()) {
      if (s.arn === id) return s;
      const partial = `arn:aws:secretsmanager:${this.#region}:${this.#accountId}:secret:${s.name}`;
      if (id === partial) return s;
    }
    return undefined;
  }
}
