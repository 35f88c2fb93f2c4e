// The demo tool: a tiny web app that stands in for JupyterLab & co. so berth can
// be tried end to end with no external image. It serves a page saying whose
// tool it is, a readiness path, a WebSocket echo (to show the proxy carries
// WebSockets), file endpoints under $HOME (files.ts: the home folder s3sync
// keeps in step with the user's files) and busy work on request (spin.ts:
// `POST /spin?seconds=N`, `GET /spin`, or the WebSocket message `spin:N`), so
// the culler can be seen leaving a busy tool alone. Run by ecs-local through examples/demo/images.yaml, or by hand:
//   HOST=127.0.0.1 PORT=8888 node examples/demo/server.ts
import { createServer } from 'node:http';
import { hostname } from 'node:os';
import { WebSocketServer } from 'ws';
import { handleFiles } from './files.ts';
import { spin, spinRequest, spinState } from './spin.ts';

const port = Number(process.env.PORT ?? 8888);
const startedAt = new Date();

/** ecs-local sets HOST to the task's own address; on Fargate the ENI is the only interface, so any address will do. */
async function bindHost(): Promise<string> {
  if (process.env.HOST) return process.env.HOST;
  const metadata = process.env.ECS_CONTAINER_METADATA_URI_V4;
  if (metadata) {
    try {
      const res = await fetch(`${metadata}/task`, { signal: AbortSignal.timeout(2000) });
      const task = (await res.json()) as {
        Containers?: Array<{ Networks?: Array<{ IPv4Addresses?: string[] }> }>;
      };
      const ip = task.Containers?.[0]?.Networks?.[0]?.IPv4Addresses?.[0];
      if (ip) return ip;
    } catch {
      // fall through to every interface
    }
  }
  return '0.0.0.0';
}

// What the page shows about itself: who launched it and which tool it is. Only
// these variables, never the whole environment (it may hold credentials).
const SHOWN = [
  'BERTH_USER',
  'BERTH_TOOL',
  'BERTH_INSTANCE',
  'BERTH_NAMESPACE',
  'BERTH_SIZE',
  'DEMO_GREETING',
];

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(host: string): string {
  const who = process.env.BERTH_USER ?? 'someone';
  const rows = SHOWN.filter((k) => process.env[k] !== undefined)
    .map((k) => `<tr><th>${k}</th><td>${escapeHtml(process.env[k]!)}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>berth demo: ${escapeHtml(who)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto}th{text-align:left;padding-right:1rem}#log{background:#f4f4f4;padding:.5rem;min-height:3rem;white-space:pre-wrap}</style>
</head><body>
<h1>Hello, <span id="who">${escapeHtml(who)}</span></h1>
<p>This is the berth demo tool, listening on ${escapeHtml(host)}:${port} (host ${escapeHtml(hostname())}, pid ${process.pid}), up since ${startedAt.toISOString()}.</p>
<table>${rows}</table>
<h2>WebSocket echo</h2>
<form id="f"><input id="msg" value="hello" autocomplete="off"> <button>send</button> <span id="state">connecting…</span></form>
<div id="log"></div>
<script>
const log = (t) => { document.getElementById('log').textContent += t + '\\n'; };
const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws');
ws.onopen = () => { document.getElementById('state').textContent = 'connected'; };
ws.onclose = () => { document.getElementById('state').textContent = 'closed'; };
ws.onmessage = (e) => log('echo: ' + e.data);
document.getElementById('f').onsubmit = (e) => { e.preventDefault(); ws.send(document.getElementById('msg').value); };
</script>
</body></html>
`;
}

const host = await bindHost();
const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const path = url.pathname;
  if (await handleFiles(req, res, url)) return;
  if (path === '/spin' && (req.method === 'POST' || req.method === 'GET')) {
    const seconds = Number(url.searchParams.get('seconds') ?? '60');
    if (req.method === 'POST' && !(Number.isFinite(seconds) && seconds >= 0)) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('seconds must be a number >= 0\n');
      return;
    }
    const state = req.method === 'POST' ? spin(seconds) : spinState();
    res.writeHead(200, { 'content-type': 'application/json' }).end(`${JSON.stringify(state)}\n`);
  } else if (path === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
  } else if (path === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page(host));
  } else {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  }
});

const wss = new WebSocketServer({ server, path: '/ws' });
wss.on('connection', (socket) => {
  socket.on('message', (data, isBinary) => {
    const seconds = isBinary ? undefined : spinRequest(String(data));
    if (seconds !== undefined) socket.send(JSON.stringify(spin(seconds)));
    else socket.send(data, { binary: isBinary });
  });
});

server.listen(port, host, () => {
  console.log(JSON.stringify({ msg: 'demo listening', host, port }));
});

// ECS sends SIGTERM on StopTask; close cleanly well within the stop timeout.
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    console.log(JSON.stringify({ msg: 'demo stopping', signal }));
    for (const c of wss.clients) c.close(1001, 'server stopping');
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
