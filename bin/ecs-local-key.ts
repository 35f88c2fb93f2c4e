// The key pair `berth up` makes for its ecs-local at each start, kept (mode 0600)
// in <BERTH_DATA_DIR>/ecs-local/access-key.json so that `berth doctor` beside it
// can sign its requests too. A fresh pair per start: a key from an earlier run
// opens nothing.
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { AccessKeyPair } from '../ecs-local/index.ts';

const root = join(import.meta.dirname, '..');

const keySchema = z.object({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1) });

/** Where berth up keeps its ecs-local's key pair (BERTH_DATA_DIR, else `.data/` in the clone). */
export function ecsLocalKeyPath(env: Record<string, string | undefined>): string {
  return join(env.BERTH_DATA_DIR || join(root, '.data'), 'ecs-local', 'access-key.json');
}

export async function writeEcsLocalKey(path: string, key: AccessKeyPair): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(key), { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

/** The pair berth up wrote, or undefined when there is none (or it is unreadable). */
export async function readEcsLocalKey(path: string): Promise<AccessKeyPair | undefined> {
  try {
    return keySchema.parse(JSON.parse(await readFile(path, 'utf8')));
  } catch {
    return undefined;
  }
}

/** BERTH_ECS_* settings that make the ECS driver sign with `key`. */
export function driverKeyEnv(key: AccessKeyPair): Record<string, string> {
  return {
    BERTH_ECS_ACCESS_KEY_ID: key.accessKeyId,
    BERTH_ECS_SECRET_ACCESS_KEY: key.secretAccessKey,
  };
}
