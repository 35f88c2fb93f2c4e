// The CLI's configuration: which API server to talk to and which bearer token to
// send. Stored as a small YAML file in the user's config directory (mode 0600,
// since it holds a secret); BERTH_SERVER and BERTH_TOKEN override the file. The
// environment is read by the one settings loader (settings/).
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { ConfigError, loadSettings, setting } from '../settings/index.ts';

/** Where `make run` serves the API unless told otherwise. */
const DEFAULT_SERVER = 'http://127.0.0.1:8080';

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

/** The CLI's environment: where its config file is, and overrides of what the file says. */
export const cliEnvSchema = z.object({
  configFile: setting(z.string().min(1).optional(), {
    env: 'BERTH_CONFIG',
    shownDefault: '`$XDG_CONFIG_HOME/berth/config.yaml`',
    shownValue: 'a file path',
    description: 'The config file (`berth config set` writes it, mode 0600).',
  }),
  xdgConfigHome: setting(z.string().min(1).optional(), {
    env: 'XDG_CONFIG_HOME',
    shownDefault: '`~/.config`',
    shownValue: 'a folder path',
    description: 'Where the config file is when BERTH_CONFIG is not set.',
  }),
  server: setting(z.url({ error: 'must be a URL such as http://127.0.0.1:8080' }).optional(), {
    env: 'BERTH_SERVER',
    shownDefault: "the config file's, else `http://127.0.0.1:8080`",
    description: 'The API server to talk to.',
  }),
  token: setting(z.string().min(1).optional(), {
    env: 'BERTH_TOKEN',
    shownDefault: "the config file's",
    description: 'The bearer token to send (never printed).',
  }),
});

function cliEnv(env: NodeJS.ProcessEnv) {
  return loadSettings(cliEnvSchema, env, { component: 'CLI' });
}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const e = cliEnv(env);
  if (e.configFile) return e.configFile;
  return join(e.xdgConfigHome ?? join(homedir(), '.config'), 'berth', 'config.yaml');
}

async function readConfigFile(path = configPath()): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new ConfigError('CLI config file', [
      `${path}: cannot read it: ${(err as Error).message}`,
    ]);
  }
  let data: unknown;
  try {
    data = parse(text) ?? {};
  } catch (err) {
    throw new ConfigError('CLI config file', [
      `${path}: not valid YAML: ${(err as Error).message}`,
    ]);
  }
  const parsed = fileSchema.safeParse(data);
  if (!parsed.success) {
    throw new ConfigError(
      'CLI config file',
      parsed.error.issues.map((i) => `${path}: ${i.path.join('.') || '(root)'}: ${i.message}`),
    );
  }
  return parsed.data;
}

/** The effective configuration: env over file over defaults. */
export async function loadConfig(env: NodeJS.ProcessEnv = process.env): Promise<CliConfig> {
  const path = configPath(env);
  const e = cliEnv(env);
  const file = await readConfigFile(path);
  const server = e.server ?? file.server;
  const token = e.token ?? file.token;
  return {
    path,
    server: (server ?? DEFAULT_SERVER).replace(/\/+$/, ''),
    token: token || undefined,
    source: {
      server: e.server ? 'env' : file.server ? 'file' : 'default',
      token: e.token ? 'env' : file.token ? 'file' : 'none',
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
