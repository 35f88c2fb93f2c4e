// Runs `bin/berth up` (what `make run` runs) as a child process, for tests of
// what a user sees across stops, crashes and restarts.
//
//   const berth = await startBerthUp();          // temp data dir, free ports, own CLI config
//   berth.apiUrl, berth.proxyUrl, berth.ecsLocalUrl, berth.token (admin, from the CLI config)
//   berth.api('GET', '/apis/...')                // fetch against the API with the admin token
//   await berth.cli('apply', '-f', 'examples/demo.yaml') // bin/berth with this berth's CLI config:
//                                                // { code, stdout, stderr }
//   berth.output()                               // everything it printed so far (stdout + stderr)
//   await berth.stop('SIGINT' | 'SIGTERM')       // clean stop; resolves with { code, signal }
//   await berth.kill()                           // SIGKILL of the `berth up` process only (not its
//                                                // children: they must go by themselves)
//   await berth.restart()                        // a new `berth up` on the same data dir, ports,
//                                                // config file and environment; this object then
//                                                // speaks for it (pid, output, token)
//   await berth.dispose()                        // in `after()`: stops it if running (after an
//                                                // unclean exit, starts and stops it once more so
//                                                // its PostgreSQL goes too), removes the temp dir
//
// Also: berth.dataDir, berth.configPath, berth.ports ({ pg, ecsLocal, api, proxy, prometheus }: free
// ports chosen once, kept across restarts; the controller metrics port is 0, any free one),
// berth.addressOctet, berth.pid.
//
// Options: `env` (extra variables, e.g. BERTH_TASK_POLL_MS), `dataDir`
// (kept afterwards), `startTimeoutMs` (default 90 s: PostgreSQL's first initdb
// is slow on a loaded machine). Task addresses get a random 127.<octet> block
// (ECS_LOCAL_ADDRESS_OCTET), so parallel runs never share an address.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { AccessKeyPair } from '../../ecs-local/index.ts';
import { waitFor } from './wait.ts';

const root = join(import.meta.dirname, '..', '..');

export interface BerthUpOptions {
  env?: Record<string, string>;
  dataDir?: string;
  startTimeoutMs?: number;
}

export interface BerthUpPorts {
  pg: number;
  ecsLocal: number;
  api: number;
  proxy: number;
  /** The Prometheus berth up starts when the binary is installed. */
  prometheus: number;
}

export interface BerthUpExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface BerthUp {
  readonly dataDir: string;
  readonly configPath: string;
  readonly ports: BerthUpPorts;
  readonly apiUrl: string;
  readonly proxyUrl: string;
  readonly ecsLocalUrl: string;
  /** The key pair the current `berth up` made for its ecs-local (from its data folder). */
  ecsLocalKey(): AccessKeyPair;
  /** Task addresses are 127.<addressOctet>.x.y. */
  readonly addressOctet: number;
  /** The admin token `berth up` wrote to the CLI config. */
  readonly token: string;
  /** Pid of the running `berth up`. */
  readonly pid: number;
  /** What the current `berth up` printed (stdout and stderr). */
  output(): string;
  /** An API request with the admin token; JSON body in and out. */
  api(method: string, path: string, body?: unknown, contentType?: string): Promise<Response>;
  /** Runs `bin/berth <args>` as this berth's admin (its CLI config), from the repository root. */
  cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
  stop(signal?: 'SIGINT' | 'SIGTERM'): Promise<BerthUpExit>;
  kill(): Promise<BerthUpExit>;
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

interface Running {
  child: ChildProcess;
  text: string;
  exit: Promise<BerthUpExit>;
  exited: BerthUpExit | undefined;
}

export async function startBerthUp(options: BerthUpOptions = {}): Promise<BerthUp> {
  const tempDir = mkdtempSync(join(tmpdir(), 'berth-up-'));
  // Run as root, the embedded PostgreSQL runs as user postgres, which must reach its data.
  chmodSync(tempDir, 0o755);
  const dataDir = options.dataDir ?? join(tempDir, 'data');
  const configPath = join(tempDir, 'cli-config.yaml');
  const ports: BerthUpPorts = {
    pg: await freePort(),
    ecsLocal: await freePort(),
    api: await freePort(),
    proxy: await freePort(),
    prometheus: await freePort(),
  };
  const addressOctet = 100 + Math.floor(Math.random() * 150);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    BERTH_DATA_DIR: dataDir,
    BERTH_PG_PORT: String(ports.pg),
    ECS_LOCAL_PORT: String(ports.ecsLocal),
    ECS_LOCAL_ADDRESS_OCTET: String(addressOctet),
    BERTH_API_PORT: String(ports.api),
    BERTH_PROXY_PORT: String(ports.proxy),
    BERTH_PROMETHEUS_PORT: String(ports.prometheus),
    BERTH_CONTROLLER_METRICS_PORT: '0',
    BERTH_CONFIG: configPath,
    ...options.env,
  };
  // Never the caller's CLI settings, database or ECS: this berth is self-contained.
  // (BERTH_TOOL_SECRET_KEY too: berth up keeps its own in its data folder.)
  for (const name of [
    'BERTH_SERVER',
    'BERTH_TOKEN',
    'DATABASE_URL',
    'BERTH_ECS_ENDPOINT',
    'BERTH_TOOL_SECRET_KEY',
    'BERTH_PROMETHEUS_URL',
    'BERTH_PROMETHEUS_SD_TOKEN',
  ]) {
    if (!options.env?.[name]) delete env[name];
  }
  const timeoutMs = options.startTimeoutMs ?? 90_000;
  let current: Running;
  try {
    current = await launch(env, timeoutMs);
  } catch (err) {
    rmSync(tempDir, { recursive: true, force: true });
    throw err;
  }
  let token = readToken(configPath);

  const berth: BerthUp = {
    dataDir,
    configPath,
    ports,
    apiUrl: `http://127.0.0.1:${ports.api}`,
    proxyUrl: `http://127.0.0.1:${ports.proxy}`,
    ecsLocalUrl: `http://127.0.0.1:${ports.ecsLocal}`,
    ecsLocalKey: () =>
      JSON.parse(
        readFileSync(join(dataDir, 'ecs-local', 'access-key.json'), 'utf8'),
      ) as AccessKeyPair,
    addressOctet,
    get token() {
      return token;
    },
    get pid() {
      return current.child.pid!;
    },
    output: () => current.text,
    api: (method, path, body, contentType = 'application/json') =>
      fetch(`${berth.apiUrl}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': contentType }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
    cli: (...args) =>
      new Promise((resolve, reject) => {
        const child = spawn(
          process.execPath,
          ['--disable-warning=ExperimentalWarning', join(root, 'bin', 'berth.ts'), ...args],
          {
            cwd: root,
            env: { ...env, BERTH_CONFIG: configPath },
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c: Buffer) => {
          stdout += c.toString();
        });
        child.stderr.on('data', (c: Buffer) => {
          stderr += c.toString();
        });
        child.once('error', reject);
        child.once('close', (code) => resolve({ code, stdout, stderr }));
      }),
    async stop(signal = 'SIGINT') {
      if (current.exited) return current.exited;
      current.child.kill(signal);
      return current.exit;
    },
    async kill() {
      if (current.exited) return current.exited;
      current.child.kill('SIGKILL');
      return current.exit;
    },
    async restart() {
      if (!current.exited) throw new Error('berth up is still running: stop() or kill() it first');
      current = await launch(env, timeoutMs);
      token = readToken(configPath);
    },
    async dispose() {
      // What an unclean exit left (its PostgreSQL) is stopped by a clean start and stop.
      if (current.exited && !cleanExit(current.exited)) {
        await berth.restart().catch(() => {});
      }
      if (!current.exited) {
        current.child.kill('SIGTERM');
        const done = await Promise.race([
          current.exit,
          new Promise((r) => setTimeout(r, 30_000, undefined)),
        ]);
        if (!done) {
          current.child.kill('SIGKILL');
          await current.exit;
        }
      }
      rmSync(tempDir, { recursive: true, force: true });
    },
  };
  return berth;
}

async function launch(env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Running> {
  const child = spawn(
    process.execPath,
    ['--disable-warning=ExperimentalWarning', join(root, 'bin', 'berth.ts'), 'up'],
    { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const running: Running = {
    child,
    text: '',
    exited: undefined,
    exit: new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        running.exited = { code, signal };
        resolve(running.exited);
      }),
    ),
  };
  child.stdout!.on('data', (c: Buffer) => {
    running.text += c.toString();
  });
  child.stderr!.on('data', (c: Buffer) => {
    running.text += c.toString();
  });
  try {
    await waitFor(
      () => {
        if (running.exited) {
          throw new Error(
            `berth up exited (${JSON.stringify(running.exited)}) before it was up:\n${running.text}`,
          );
        }
        // The last line of its start-up banner.
        return /berth proxy: http/.test(running.text) && /berth API: http/.test(running.text);
      },
      timeoutMs,
      'berth up to print its addresses',
    );
  } catch (err) {
    if (!running.exited) {
      child.kill('SIGKILL');
      await running.exit;
      throw new Error(`${(err as Error).message}; it printed:\n${running.text}`);
    }
    throw err;
  }
  return running;
}

function cleanExit(exit: BerthUpExit): boolean {
  return exit.code === 0 && exit.signal === null;
}

function readToken(configPath: string): string {
  const file = parse(readFileSync(configPath, 'utf8')) as { token?: string };
  if (!file?.token) throw new Error(`berth up wrote no token to ${configPath}`);
  return file.token;
}
