// Task volumes, as Fargate's task storage: each volume of a task is a fresh
// folder, <volumesDir>/<taskId>/<volume>, removed when the task stops (and, at
// the next start, when an ecs-local that died left it). A local process cannot
// be given a mount, so a container sees its mounts through its environment:
// every value equal to a mountPoint's containerPath, or under it, is rewritten
// to the local folder. readOnly cannot be enforced locally.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { isLive, processIdentity } from './process-records.ts';
import { clientError } from './protocol.ts';

export const volumeSchema = z.looseObject({
  name: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,255}$/, 'letters, numbers, hyphens and underscores, up to 255'),
  host: z.looseObject({ sourcePath: z.string().optional() }).optional(),
});

export const mountPointSchema = z.object({
  sourceVolume: z.string().min(1),
  containerPath: z.string().regex(/^\//, 'an absolute path'),
  readOnly: z.boolean().optional(),
});
export type MountPoint = z.infer<typeof mountPointSchema>;

export function checkVolumes(
  volumes: z.infer<typeof volumeSchema>[],
  containers: { name: string; mountPoints?: MountPoint[] | undefined }[],
  fargate: boolean,
): void {
  const names = new Set<string>();
  for (const v of volumes) {
    if (names.has(v.name)) throw clientError(`Duplicate volume name: ${v.name}`);
    names.add(v.name);
    if (fargate && v.host?.sourcePath !== undefined) {
      throw clientError('Fargate compatible task definitions do not support sourcePath');
    }
  }
  for (const c of containers) {
    for (const m of c.mountPoints ?? []) {
      if (!names.has(m.sourceVolume)) throw clientError(`Unknown volume '${m.sourceVolume}'.`);
    }
  }
}

/** Marks whose a task's folder is, so a later ecs-local removes only a dead one's. */
const OWNER_FILE = '.ecs-local-owner';
const TEMP_PREFIX = 'ecs-local-volumes-';

export class TaskVolumes {
  readonly root: string;
  private readonly temporary: boolean;
  private readonly owner = processIdentity(process.pid);

  /** `dir`: the volumes folder; none: a fresh folder under the OS temp folder, removed at close. */
  constructor(dir: string | undefined) {
    this.temporary = dir === undefined;
    if (dir === undefined) {
      sweep(tmpdir(), (name) => name.startsWith(TEMP_PREFIX));
      this.root = mkdtempSync(join(tmpdir(), TEMP_PREFIX));
      writeFileSync(join(this.root, OWNER_FILE), JSON.stringify(this.owner));
    } else {
      this.root = dir;
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      sweep(dir, () => true);
    }
  }

  /** Makes the task's volume folders; their local paths by volume name. */
  create(taskId: string, names: string[]): Record<string, string> {
    if (names.length === 0) return {};
    const taskDir = join(this.root, taskId);
    mkdirSync(taskDir, { recursive: true, mode: 0o700 });
    writeFileSync(join(taskDir, OWNER_FILE), JSON.stringify(this.owner));
    return Object.fromEntries(
      names.map((name) => {
        const path = join(taskDir, name);
        mkdirSync(path, { recursive: true });
        return [name, path];
      }),
    );
  }

  /** The task stopped: its storage goes with it. */
  remove(taskId: string): Promise<void> {
    return rm(join(this.root, taskId), { recursive: true, force: true });
  }

  /** At close: every task's folders (and the temporary root) go. */
  close(taskIds: string[]): void {
    if (this.temporary) rmSync(this.root, { recursive: true, force: true });
    else for (const id of taskIds) rmSync(join(this.root, id), { recursive: true, force: true });
  }
}

/** Removes the folders under `dir` whose owner file names an ecs-local that is gone. */
function sweep(dir: string, matches: (name: string) => boolean): void {
  for (const name of readdirSync(dir)) {
    if (!matches(name)) continue;
    const path = join(dir, name);
    let owner: unknown;
    try {
      owner = JSON.parse(readFileSync(join(path, OWNER_FILE), 'utf8'));
    } catch {
      continue; // not ours (or not a folder)
    }
    const parsed = z.object({ pid: z.number(), startTime: z.number() }).safeParse(owner);
    if (parsed.success && !isLive(parsed.data)) rmSync(path, { recursive: true, force: true });
  }
}

/**
 * The local stand-in for mounts: each value equal to a mount's containerPath,
 * or starting with it and `/`, gets the local folder instead (longest path first).
 */
export function rewriteMountedPaths(
  env: Record<string, string>,
  mounts: { containerPath: string; localPath: string }[],
): Record<string, string> {
  if (mounts.length === 0) return env;
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) out[key] = rewritePath(value, mounts);
  return out;
}

export function rewritePath(
  value: string,
  mounts: { containerPath: string; localPath: string }[],
): string {
  const sorted = [...mounts].sort((a, b) => b.containerPath.length - a.containerPath.length);
  for (const m of sorted) {
    const base = m.containerPath.replace(/\/+$/, '') || '/';
    if (value === base) return m.localPath;
    if (value.startsWith(base === '/' ? '/' : `${base}/`)) {
      return join(m.localPath, value.slice(base.length));
    }
  }
  return value;
}
