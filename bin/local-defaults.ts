// What `make run` (berth up) uses when nothing says otherwise, shared with `berth
// doctor`, which checks that setup.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { generateToolSecretKey, type ResourceStore } from '../store/index.ts';

/** ecs-local's port when berth up starts it (ECS_LOCAL_PORT). */
export const ECS_LOCAL_DEFAULT_PORT = 4566;

/** ecs-local's network (see ecs-local/README.md). */
export const ECS_LOCAL_DEFAULTS = {
  BERTH_ECS_SUBNETS: 'subnet-0a1b2c3d4e5f60001,subnet-0a1b2c3d4e5f60002',
  BERTH_ECS_SECURITY_GROUPS: 'sg-0a1b2c3d4e5f60001',
  BERTH_PROXY_SECURITY_GROUP: 'sg-0a1b2c3d4e5f60002',
};

/** ecs-local's address beside `make run`. */
export function ecsLocalUrl(env: Record<string, string | undefined>): string {
  return `http://127.0.0.1:${env.ECS_LOCAL_PORT || ECS_LOCAL_DEFAULT_PORT}`;
}

/** The example Quotas `berth up` starts a local install with. */
export const EXAMPLE_QUOTAS = ['quota.yaml', 'quota-power-users.yaml'].map((f) =>
  join(import.meta.dirname, '..', 'examples', f),
);

/**
 * Creates the example Quotas (examples/quota*.yaml) when there is no Quota at all,
 * so a local install has limits as a deployment would; an admin's own Quotas are
 * left alone. Returns the names created.
 */
export async function ensureExampleQuotas(store: ResourceStore): Promise<string[]> {
  if ((await store.list('Quota', { limit: 1 })).items.length > 0) return [];
  const created: string[] = [];
  for (const file of EXAMPLE_QUOTAS) {
    const manifest = parse(await readFile(file, 'utf8')) as { metadata: { name: string } };
    await store.apply('Quota', manifest, { fieldManager: 'berth-up' });
    created.push(manifest.metadata.name);
  }
  return created;
}

/** Where `berth up` keeps its BERTH_TOOL_SECRET_KEY, inside BERTH_DATA_DIR. */
export function toolSecretKeyPath(dataDir: string): string {
  return join(dataDir, 'tool-secret.key');
}

/**
 * `berth up`'s tool secret key: the one in its data folder, made (mode 0600)
 * the first time. Kept, not made per start, so a restarted `make run` still
 * reaches the tools it launched before (their gates hold secrets derived from it).
 */
export function localToolSecretKey(dataDir: string): string {
  return keptKey(toolSecretKeyPath(dataDir), dataDir);
}

/** Where `berth up` keeps its BERTH_CREDENTIALS_KEY, inside BERTH_DATA_DIR. */
export function credentialsKeyPath(dataDir: string): string {
  return join(dataDir, 'credentials.key');
}

/**
 * `berth up`'s BERTH_CREDENTIALS_KEY (database logins' passwords derive from it):
 * the one in its data folder, made (mode 0600) the first time, so the logins of
 * tools launched before a restart keep working.
 */
export function localCredentialsKey(dataDir: string): string {
  return keptKey(credentialsKeyPath(dataDir), dataDir);
}

function keptKey(path: string, dataDir: string): string {
  mkdirSync(dataDir, { recursive: true });
  try {
    // 'wx': two starts at once cannot both write; the second reads the first's.
    writeFileSync(path, `${generateToolSecretKey()}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as { code?: string }).code !== 'EEXIST') throw err;
  }
  return readFileSync(path, 'utf8').trim();
}
