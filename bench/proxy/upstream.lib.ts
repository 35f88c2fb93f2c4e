// The benchmark upstream: a plain node:http server with a small response, and a
// ws echo server on the same port. Arg: port (default: any free one); prints {"port":N}.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

const body = Buffer.from('hello from the tool\n');
const server = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(body.length) });
  res.end(body);
});
const wss = new WebSocketServer({ server, perMessageDeflate: false });
wss.on('connection', (ws) =>
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })),
);
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
