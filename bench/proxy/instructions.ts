// Instructions per request, counted by valgrind (cachegrind without its cache
// simulation), of the upstream alone, configurable-http-proxy 5, the bare
// node:http + undici forwarder and berth's proxy (`bin/berth.ts proxy`, 1 worker).
// req/s and CPU time move with this shared VM's load and speed (±30 % a round,
// http.ts); an instruction count does not: the same build answering the same
// requests counts the same to a fraction of a percent, so this bench tells berth's
// own cost apart from its stack's exactly and shows a change of a few percent that
// the timed benches cannot. It counts user-space instructions only: the kernel's
// work for the sockets (about half of a proxy's CPU time here) is not in it, and an
// instruction is not a fixed time (cache misses, branches).
// Each target runs twice, in a fresh process under valgrind, answering first N1
// and then N2 requests (fixed-load.lib.ts, 10 connections, bearer token on each,
// the way http.ts sends them); (I(N2) - I(N1)) / (N2 - N1) is what a request costs
// with start-up and shutdown taken out. Not yet the steady state: a young process's
// requests cost more (JIT tiers, heap growth), and the figure still falls with
// longer runs (the bare forwarder: 249.8k at 2000,8000, 216.7k at 4000,16000, 201.0k
// at 5000,20000), so compare rows of one run, or runs with the same counts.
// The upstream runs under valgrind for its own row and natively for the others.
// Env: BENCH_REQUESTS ("N1,N2", default "5000,20000"). Takes ~14 min.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, generateToolSecretKey } from '../../store/index.ts';
import {
  benchDatabase,
  CHP_ENV,
  chpArgs,
  ensureValgrind,
  spawnNode,
  TOOL_HOST,
  waitForPort,
} from './setup.lib.ts';

const [n1, n2] = (process.env.BENCH_REQUESTS ?? '5000,20000').split(',').map(Number) as [
  number,
  number,
];
if (!(n1 > 0 && n2 > n1)) {
  console.error(
    `BENCH_REQUESTS must be "N1,N2" with 0 < N1 < N2, got ${process.env.BENCH_REQUESTS}`,
  );
  process.exit(2);
}
const connections = 10;
const here = import.meta.dirname;

interface Counted {
  name: string;
  /** node arguments of the process to count, to listen on `port`. */
  args: (port: number) => string[];
  env?: Record<string, string>;
  /** Host header to send, when it is not the address's. */
  host?: string;
}

/** User-space instructions the process spent from start to exit, answering `count` requests. */
async function instructions(target: Counted, count: number, headers: Record<string, string>) {
  const port = await freePort();
  const log = join(logs, `${target.name.replace(/\W+/g, '-')}-${count}.log`);
  const proc = spawn(
    'valgrind',
    [
      '--tool=cachegrind',
      '--cache-sim=no',
      '--cachegrind-out-file=/dev/null',
      `--log-file=${log}`,
      process.execPath,
      '--disable-warning=ExperimentalWarning',
      ...target.args(port),
    ],
    // BERTH_PROXY_PORT: berth takes its port from the environment, the others from args.
    { env: { ...process.env, ...target.env, BERTH_PROXY_PORT: String(port) }, stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  try {
    // Under valgrind a node process takes 20-60 s to start.
    await Promise.race([
      waitForPort(port, 180_000),
      exited.then(() => {
        const tail = readFileSync(log, 'utf8').split('\n').slice(-20).join('\n');
        throw new Error(`${target.name} exited under valgrind:\n${tail}`);
      }),
    ]);
    const load = spawnSync(
      process.execPath,
      [
        '--disable-warning=ExperimentalWarning',
        join(here, 'fixed-load.lib.ts'),
        `http://127.0.0.1:${port}/`,
        String(count),
        String(connections),
        JSON.stringify(target.host ? { ...headers, Host: target.host } : headers),
      ],
      { encoding: 'utf8' },
    );
    if (load.status !== 0) throw new Error(`${target.name}: ${load.stdout}${load.stderr}`);
  } finally {
    proc.kill('SIGTERM');
    await exited;
  }
  const refs = /I\s+refs:\s+([\d,]+)/.exec(readFileSync(log, 'utf8'))?.[1];
  if (!refs) throw new Error(`${target.name}: no instruction count in ${log}`);
  return Number(refs.replaceAll(',', ''));
}

if (!ensureValgrind()) process.exit(2);
const logs = mkdtempSync(join(tmpdir(), 'berth-bench-instructions-'));
const upstream = await spawnNode(join(here, 'upstream.lib.ts'));
const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
const db = await benchDatabase(upstreamUrl);
const chpApiPort = await freePort();
const targets: Counted[] = [
  {
    name: 'upstream alone (direct)',
    args: (port) => [join(here, 'upstream.lib.ts'), String(port)],
  },
  {
    name: 'configurable-http-proxy 5',
    args: (port) => chpArgs(port, chpApiPort, upstreamUrl),
    env: CHP_ENV,
  },
  {
    name: 'bare node:http + undici',
    args: (port) => [join(here, 'bare-forwarder.lib.ts'), upstreamUrl, String(port)],
  },
  {
    name: 'berth proxy, 1 worker',
    args: () => [join(here, '..', '..', 'bin', 'berth.ts'), 'proxy'],
    env: {
      DATABASE_URL: db.url,
      BERTH_PROXY_WORKERS: '1',
      BERTH_BASE_DOMAIN: 'localhost',
      BERTH_TOOL_SECRET_KEY: generateToolSecretKey(),
    },
    host: TOOL_HOST,
  },
];
const perRequest: number[] = [];
try {
  console.log(
    `instructions per request (valgrind, user space): requests ${n1 + 1}..${n2} of ${n2}, ${connections} connections, bearer token on each`,
  );
  console.log(`${'target'.padEnd(28)} ${'per request'.padStart(12)}  ${'x upstream'.padStart(10)}`);
  for (const t of targets) {
    const headers = { Authorization: `Bearer ${db.token}` };
    const first = await instructions(t, n1, headers);
    const second = await instructions(t, n2, headers);
    const each = (second - first) / (n2 - n1);
    perRequest.push(each);
    const times = (each / perRequest[0]!).toFixed(2);
    console.log(
      `${t.name.padEnd(28)} ${Math.round(each).toLocaleString('en').padStart(12)}  ${times.padStart(10)}`,
    );
  }
  const [, chp, bare, berth] = perRequest as [number, number, number, number];
  console.log(`berth / bare (berth's own code on top of its stack) = ${(berth / bare).toFixed(3)}`);
  console.log(`configurable-http-proxy / berth = ${(chp / berth).toFixed(2)}`);
} finally {
  await upstream.stop();
  await db.stop();
  rmSync(logs, { recursive: true, force: true });
}
