// The gate: a reverse proxy in the tool's task, on the task's published port.
// It admits a request or WebSocket upgrade only when its `x-berth-tool-secret`
// header equals this launch's secret (which only berth's proxy can derive),
// removes that header, and forwards to the tool on its own port. Anything else
// gets a short 403 that names no secret. HTTP goes through node:http with a
// keep-alive Agent, streamed both ways with backpressure (pipe); a WebSocket
// upgrade is passed as raw bytes over a plain TCP connection to the tool, whose
// answer (a 101 and then frames, or a refusal) flows back unchanged.
// node:http rather than undici: the gate runs in every task, and loading the
// undici package costs ~28 MB of resident memory for nothing node:http lacks here.
import { createHash, timingSafeEqual } from 'node:crypto';
import {
  Agent,
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { GateConfig } from './config.ts';

export const SECRET_HEADER = 'x-berth-tool-secret';
/** Answered only to a request with the secret, so it shadows no path a browser can reach. */
export const HEALTH_PATH = '/_berth_gate/healthz';
const REFUSAL = "Forbidden: this tool admits only berth's proxy.\n";

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
]);

export interface RunningGate {
  server: Server;
  port: number;
  close(): Promise<void>;
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/**
 * Whether the raw headers carry the secret exactly once. Digests make the
 * comparison constant-time whatever the lengths.
 */
function admits(rawHeaders: string[], expected: Buffer): boolean {
  let given: string | undefined;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() !== SECRET_HEADER) continue;
    if (given !== undefined) return false;
    given = rawHeaders[i + 1]!;
  }
  return given !== undefined && timingSafeEqual(digest(given), expected);
}

/** The client's headers without the secret and (for plain HTTP) the hop-by-hop ones. */
function forwardedHeaders(raw: string[], keepHopByHop: boolean): string[] {
  const named = new Set<string>();
  if (!keepHopByHop) {
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i]!.toLowerCase() !== 'connection') continue;
      for (const t of raw[i + 1]!.split(',')) named.add(t.trim().toLowerCase());
    }
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name === SECRET_HEADER) continue;
    if (!keepHopByHop && (HOP_BY_HOP.has(name) || named.has(name))) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/** The tool's response headers for the client, hop-by-hop ones removed. */
function responseHeaders(raw: string[]): string[] {
  return forwardedHeaders(raw, false);
}

function refuse(res: ServerResponse): void {
  res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(REFUSAL);
}

export async function startGate(config: GateConfig): Promise<RunningGate> {
  const expected = digest(config.secret);
  // No timeouts: the proxy in front keeps the clocks (long polls, streams and quiet notebooks are the tool's business).
  const agent = new Agent({ keepAlive: true, maxFreeSockets: 32 });
  const sockets = new Set<Duplex>();

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (!admits(req.rawHeaders, expected)) {
      refuse(res);
      return;
    }
    if (req.url === HEALTH_PATH) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\n');
      return;
    }
    forward(req, res);
  };

  const forward = (req: IncomingMessage, res: ServerResponse): void => {
    const up = request({
      host: config.upstreamHost,
      port: config.upstreamPort,
      method: req.method,
      path: req.url ?? '/',
      headers: forwardedHeaders(req.rawHeaders, false),
      agent,
      // Host is the browser's, kept in the headers (Jupyter checks Origin against it).
      setHost: false,
    });
    up.on('response', (answer) => {
      res.writeHead(
        answer.statusCode ?? 502,
        answer.statusMessage,
        responseHeaders(answer.rawHeaders),
      );
      answer.pipe(res);
      answer.on('error', () => res.destroy());
    });
    up.on('error', () => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('The tool is not answering (yet).\n');
    });
    // The client (the proxy) went away: so does the request to the tool.
    res.once('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  };

  const onUpgrade = (req: IncomingMessage, client: Duplex, head: Buffer): void => {
    client.on('error', () => {});
    if (!admits(req.rawHeaders, expected)) {
      client.end(
        `HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(REFUSAL)}\r\nconnection: close\r\n\r\n${REFUSAL}`,
      );
      return;
    }
    const tool: Socket = connect(config.upstreamPort, config.upstreamHost);
    sockets.add(client);
    sockets.add(tool);
    const done = () => {
      client.destroy();
      tool.destroy();
      sockets.delete(client);
      sockets.delete(tool);
    };
    tool.on('error', () => {
      if (!tool.bytesRead && client.writable) {
        client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
      }
      done();
    });
    client.on('close', done);
    tool.on('close', () => {
      if (client.writable) client.end();
    });
    // The request head again, as the client sent it but for the secret; then both ways as bytes.
    const list = forwardedHeaders(req.rawHeaders, true);
    let text = `${req.method} ${req.url} HTTP/1.1\r\n`;
    for (let i = 0; i < list.length; i += 2) text += `${list[i]}: ${list[i + 1]}\r\n`;
    tool.write(`${text}\r\n`);
    if (head.length) tool.write(head);
    tool.pipe(client);
    client.pipe(tool);
  };

  const server = createServer({ requestTimeout: 0, headersTimeout: 60_000 }, onRequest);
  server.on('upgrade', onUpgrade);
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.listenHost, () => resolve());
  });
  const address = server.address();
  return {
    server,
    port: typeof address === 'object' && address ? address.port : config.port,
    async close() {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
