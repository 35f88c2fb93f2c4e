// Shared set-up of the proxy benchmarks: an embedded PostgreSQL (or DATABASE_URL),
// a user with a token, a ToolDefinition and a Ready ToolInstance pointing at the
// upstream, berth's proxy in its own process, configurable-http-proxy's command
// line, and the tools they need (wrk, valgrind).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { API_VERSION, KINDS } from '../../crds/index.ts';
import {
  createPool,
  freePort,
  generateToolSecretKey,
  Identity,
  migrate,
  ResourceStore,
} from '../../store/index.ts';
import { startBenchPostgres } from '../postgres.lib.ts';

export interface Child {
  proc: ChildProcess;
  port: number;
  stop(): Promise<void>;
}

/** A child process listening on `port`, stopped by SIGTERM. */
function childOf(proc: ChildProcess, port: number): Child {
  return {
    proc,
    port,
    stop: async () => {
      if (proc.exitCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

/** Spawns `node [nodeArgs] script [scriptArgs]` with env; resolves with the port it prints as {"port": N}. */
export async function spawnNode(
  script: string,
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
  scriptArgs: string[] = [],
): Promise<Child> {
  const argv = ['--disable-warning=ExperimentalWarning', ...nodeArgs, script, ...scriptArgs];
  const proc = spawn(process.execPath, argv, {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`${script} exited (${code})`)));
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /\{"port":(\d+)\}/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
  });
  return childOf(proc, port);
}

export interface BenchDb {
  url: string;
  token: string;
  stop(): Promise<void>;
}

/** A database with user `bench` (token), ToolDefinition `demo` and bench/demo Ready at `endpoint`. */
export async function benchDatabase(endpoint: string): Promise<BenchDb> {
  const server = await startBenchPostgres();
  const url = await server.createDatabase('proxy');
  const pool = createPool(url, { applicationName: 'berth-bench' });
  await migrate(pool);
  const store = new ResourceStore(pool, { kinds: [...KINDS] });
  const token = (await new Identity(pool).createToken({ user: 'bench' })).token;
  await store.apply(
    'ToolDefinition',
    {
      apiVersion: API_VERSION,
      kind: 'ToolDefinition',
      metadata: { name: 'demo' },
      spec: {
        displayName: 'demo',
        image: 'demo',
        port: 8888,
        sizes: { s: { cpu: 256, memory: 512 } },
        defaultSize: 's',
      },
    },
    { fieldManager: 'bench' },
  );
  await store.apply(
    'ToolInstance',
    {
      apiVersion: API_VERSION,
      kind: 'ToolInstance',
      metadata: { name: 'demo', namespace: 'bench' },
      spec: { toolRef: 'demo', state: 'Running' },
    },
    { fieldManager: 'bench' },
  );
  await store.patchStatus('ToolInstance', 'bench', 'demo', {
    status: {
      phase: 'Ready',
      endpoint,
      conditions: [{ type: 'Ready', status: 'True', reason: 'Bench' }],
    },
  });
  await store.close();
  await pool.end();
  return { url, token, stop: () => server.close() };
}

export const TOOL_HOST = 'demo--bench.localhost';

/**
 * `berth proxy` as deployed (bin/berth.ts, its own process) with `workers`
 * processes; resolves once every worker listens. BENCH_PROXY_NODE_ARGS: extra
 * node flags for it (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`).
 */
export async function startBerthProxyCommand(dbUrl: string, workers: string): Promise<Child> {
  const port = await freePort();
  const nodeArgs = (process.env.BENCH_PROXY_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const proc = spawn(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      ...nodeArgs,
      join(import.meta.dirname, '..', '..', 'bin', 'berth.ts'),
      'proxy',
    ],
    {
      env: {
        ...process.env,
        DATABASE_URL: dbUrl,
        BERTH_PROXY_PORT: String(port),
        BERTH_PROXY_WORKERS: workers,
        BERTH_BASE_DOMAIN: 'localhost',
        BERTH_TOOL_SECRET_KEY: process.env.BERTH_TOOL_SECRET_KEY || generateToolSecretKey(),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  await new Promise<void>((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`berth proxy exited (${code})`)));
    let buf = '';
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes(workers === '1' ? '"proxy listening"' : 'proxy listening (all workers)'))
        resolve();
    });
  });
  proc.stdout!.resume();
  return childOf(proc, port);
}

/**
 * node arguments (after the node binary) of configurable-http-proxy 5 on `port`, its
 * API on `apiPort`, sending everything to `target`; run it with CHP_ENV.
 */
export function chpArgs(port: number, apiPort: number, target: string): string[] {
  return [
    join(
      import.meta.dirname,
      '..',
      '..',
      'node_modules/configurable-http-proxy/bin/configurable-http-proxy',
    ),
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--api-ip',
    '127.0.0.1',
    '--api-port',
    String(apiPort),
    '--default-target',
    target,
    '--log-level',
    'error',
  ];
}
export const CHP_ENV = { CONFIGPROXY_AUTH_TOKEN: 'bench' };

/** Resolves once something accepts connections on 127.0.0.1:`port`. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`port ${port} never opened`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function rssOf(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

/** `command` on PATH (checked by running it with `versionArg`), installing Debian's `pkg` with apt-get when we can. */
function ensureCommand(command: string, versionArg: string, pkg: string, hint: string): boolean {
  const present = () => spawnSync(command, [versionArg]).error === undefined;
  if (present()) return true;
  console.log(`${command} not found; trying apt-get install -y ${pkg} ...`);
  const r = spawnSync('sh', ['-c', `apt-get update -qq && apt-get install -y -qq ${pkg}`], {
    stdio: 'inherit',
  });
  if (r.status === 0 && present()) return true;
  console.error(`${command} is missing: install it (${hint}) and rerun.`);
  return false;
}

/** wrk on PATH, installing it with apt-get when we can. */
export function ensureWrk(): boolean {
  return ensureCommand(
    'wrk',
    '--version',
    'wrk',
    'Debian/Ubuntu: `apt-get install wrk`, macOS: `brew install wrk`',
  );
}

/** valgrind on PATH, installing it with apt-get when we can. */
export function ensureValgrind(): boolean {
  return ensureCommand(
    'valgrind',
    '--version',
    'valgrind',
    'Debian/Ubuntu: `apt-get install valgrind`',
  );
}
