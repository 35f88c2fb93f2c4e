// WebSocket echo messages per second, direct vs through berth's proxy (same
// upstream, same run), then the proxy's memory with many idle WebSockets open
// (bytes per connection). berth's proxy runs as the command (`berth proxy`).
// 10,000 connections need 20,000+ descriptors in the proxy (client side + tool
// side); when `ulimit -n` (per process, and not raisable here) is lower, the idle
// part runs the proxy with as many workers (BERTH_PROXY_WORKERS) as the limit
// needs and sums their memory.
import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { benchDatabase, rssOf, spawnNode, startBerthProxyCommand, TOOL_HOST } from './setup.lib.ts';

const seconds = Number(process.env.BENCH_DURATION ?? 5);
const clients = 20;
const wanted = Number(process.env.BENCH_IDLE_WEBSOCKETS ?? 10_000);

function openWs(url: string, headers: Record<string, string>): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

async function echoRate(url: string, headers: Record<string, string>): Promise<number> {
  const sockets = await Promise.all(Array.from({ length: clients }, () => openWs(url, headers)));
  let count = 0;
  const until = Date.now() + seconds * 1000;
  const msg = Buffer.alloc(128, 1);
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          ws.on('message', () => {
            count++;
            if (Date.now() < until) ws.send(msg);
            else resolve();
          });
          ws.send(msg);
        }),
    ),
  );
  for (const ws of sockets) ws.close();
  return count / seconds;
}

/** RSS of a `berth proxy` process and its workers. */
function proxyRss(pid: number): number {
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  const pids = [pid, ...(children ? children.split(/\s+/).map(Number) : [])];
  return pids.reduce((sum, p) => sum + rssOf(p), 0);
}

const upstream = await spawnNode(join(import.meta.dirname, 'upstream.lib.ts'));
const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
const db = await benchDatabase(upstreamUrl);
let berth = await startBerthProxyCommand(db.url, '1');
try {
  const auth = { authorization: `Bearer ${db.token}` };
  await echoRate(`ws://127.0.0.1:${upstream.port}/`, auth); // warm-up
  const direct = await echoRate(`ws://127.0.0.1:${upstream.port}/`, auth);
  const via = await echoRate(`ws://127.0.0.1:${berth.port}/`, { ...auth, host: TOOL_HOST });
  console.log(`WebSocket echo, ${clients} connections, 128-byte messages, ${seconds}s each`);
  console.log(`direct        ${direct.toFixed(0).padStart(8)} msg/s`);
  console.log(
    `berth proxy   ${via.toFixed(0).padStart(8)} msg/s   ratio ${(via / direct).toFixed(2)}`,
  );

  const limit = Number(execSync('sh -c "ulimit -n"').toString().trim());
  // Two descriptors per connection in the proxy, and some head room per process;
  // one worker more than that when it takes several, since the kernel does not
  // hand out connections to the workers evenly.
  const needed = Math.ceil((2 * wanted) / (limit - 500));
  const workers = needed > 1 ? needed + 1 : 1;
  const n = wanted;
  if (workers > 1) {
    console.log(
      `ulimit -n is ${limit} per process: the proxy holds 2 descriptors per WebSocket, so the idle part runs berth proxy with ${workers} workers`,
    );
    await berth.stop();
    berth = await startBerthProxyCommand(db.url, String(workers));
  }
  const before = proxyRss(berth.proc.pid!);
  const idle: WebSocket[] = [];
  for (let i = 0; i < n; i += 200) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(200, n - i) }, () =>
        openWs(`ws://127.0.0.1:${berth.port}/`, { ...auth, host: TOOL_HOST }),
      ),
    );
    idle.push(...batch);
  }
  await new Promise((r) => setTimeout(r, 1000));
  const after = proxyRss(berth.proc.pid!);
  console.log(
    `${idle.length} idle WebSockets (${workers} worker${workers > 1 ? 's' : ''}): proxy RSS ${(before / 1048576).toFixed(0)} MB -> ${(after / 1048576).toFixed(0)} MB, ${((after - before) / idle.length).toFixed(0)} bytes per connection`,
  );
  for (const ws of idle) ws.terminate();
} finally {
  await berth.stop();
  await upstream.stop();
  await db.stop();
}
