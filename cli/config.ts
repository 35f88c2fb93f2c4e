// The CLI's configuration: which API server to talk to and which bearer token to
// send. Stored as a small YAML file in the user's config directory (mode 0600,
// since it holds a secret); BERTH_SERVER and BERTH_TOKEN override the file.
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { z } from 'zod';

/** Where `make run` serves the API unless told otherwise. */
export const DEFAULT_SERVER = 'http://127.0.0.1:8080';

const fileSchema = z
  .object({
    server: z.string().url('must be a URL such as http://127.0.0.1:8080').optional(),
    token: z.string().min(1).optional(),
  })
  .passthrough();

export type ConfigFile = z.infer<typeof fileSchema>;

export interface CliConfig {
  path: string;
  server: string;
  token: string | undefined;
  /** Where each value came from, for `config view` and error hints. */
  source: { server: 'env' | 'file' | 'default'; token: 'env' | 'file' | 'none' };
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.BERTH_CONFIG) return env.BERTH_CONFIG;
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'berth', 'config.yaml');
}

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

export async function readConfigFile(path = configPath()): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = parse(text) ?? {};
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid YAML: ${(err as Error).message}`);
  }
  const parsed = fileSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(
      `config file ${path}: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
    );
  }
  return parsed.data;
}

/** The effective configuration: env over file over defaults. */
export async function loadConfig(env: NodeJS.ProcessEnv = process.env): Promise<CliConfig> {
  const path = configPath(env);
  const file = await readConfigFile(path);
  const server = env.BERTH_SERVER || file.server;
  const token = env.BERTH_TOKEN || file.token;
  return {
    path,
    server: (server ?? DEFAULT_SERVER).replace(/\/+$/, ''),
    token: token || undefined,
    source: {
      server: env.BERTH_SERVER ? 'env' : file.server ? 'file' : 'default',
      token: env.BERTH_TOKEN ? 'env' : file.token ? 'file' : 'none',
    },
  };
}

/**
 * Merges `patch` into the config file and writes it with mode 0600 (atomically,
 * via a temporary file). Returns the file's path. Used by `berth config set` and
 * by `berth up` to store the bootstrap admin token.
 */
export async function updateConfig(
  patch: { server?: string; token?: string },
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const path = configPath(env);
  const current = await readConfigFile(path);
  const next = fileSchema.parse({ ...current, ...patch });
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, stringify(next), { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
  return path;
}

/** `abcd…` style masking, as `kubectl config view` prints REDACTED. */
export function maskToken(token: string | undefined): string | undefined {
  if (!token) return token;
  return 'REDACTED';
}
