// The credentials controller's settings, read by the one settings loader
// (settings/). The key is optional: without it berth still launches tools, only
// without database credentials (each instance says so in a Credentials
// condition), so a missing key never takes the controllers down.
import { z } from 'zod';
import { durationMs, loadSettings, setting } from '../../settings/index.ts';
import { credentialsKeySchema } from './engine.ts';

export const credentialsConfigSchema = z.object({
  key: setting(credentialsKeySchema().optional(), {
    env: 'BERTH_CREDENTIALS_KEY',
    secret: true,
    shownDefault: 'none (tools get no database credentials)',
    shownValue: 'at least 32 bytes as hex or base64',
    description:
      "The key each launch's database password is derived from (HMAC of instance uid, attempt and Database name). Absent while a Database exists: tools launch without database credentials and their instances say Credentials=False KeyMissing.",
  }),
  gcIntervalMs: setting(durationMs(100, 86_400_000).default(60_000), {
    env: 'BERTH_CREDENTIALS_GC_INTERVAL_MS',
    description:
      'How often the login garbage collector drops database logins whose launch is over (in every Database).',
  }),
  gcGraceMs: setting(durationMs(0, 86_400_000).default(120_000), {
    env: 'BERTH_CREDENTIALS_GC_GRACE_MS',
    description:
      'The login garbage collector leaves logins younger than this alone (a launch may not have written its status yet).',
  }),
});

export interface CredentialsConfig {
  /** BERTH_CREDENTIALS_KEY: never logged, never written anywhere. */
  key: Buffer | undefined;
  gcIntervalMs: number;
  gcGraceMs: number;
}

/** Reads the credentials settings; throws ConfigError naming each bad variable. */
export function loadCredentialsConfig(
  env: Record<string, string | undefined> = process.env,
): CredentialsConfig {
  const e = loadSettings(credentialsConfigSchema, env, { component: 'credentials' });
  return {
    key: e.key,
    gcIntervalMs: e.gcIntervalMs,
    gcGraceMs: e.gcGraceMs,
  };
}
