// The floor of berth's proxy stack, measured beside it: node:http in front of an
// undici Pool, forwarding every request to one upstream through a dispatch
// handler, and nothing else: no routing, no authentication, no header rewriting,
// no metrics, no activity, no error pages. Whatever berth's proxy costs beyond
// this row is berth's own code; what this row costs against the direct upstream
// is the price of node:http + undici on the machine. Not a proxy to use: it
// leaks hop-by-hop headers and credentials. Args: upstream origin, port (default:
// any free one); prints {"port":N}.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Dispatcher, Pool } from 'undici';

const pool = new Pool(process.argv[2]!, { connections: 128, pipelining: 1 });

// The server option berth's proxy uses too (no body stream events for GETs).
const server = createServer({ optimizeEmptyRequests: true }, (req, res) => {
  const handler: Dispatcher.DispatchHandler = {
    onRequestStart() {},
    onResponseStart(_c, status: number, headers: IncomingHttpHeaders) {
      res.writeHead(status, headers);
    },
    onResponseData(_c, chunk: Buffer) {
      res.write(chunk);
    },
    onResponseEnd() {
      res.end();
    },
    onResponseError() {
      if (res.headersSent) res.destroy();
      else res.writeHead(502).end();
    },
  };
  pool.dispatch(
    { path: req.url ?? '/', method: req.method as Dispatcher.HttpMethod, headers: req.rawHeaders },
    handler,
  );
});
server.listen(Number(process.argv[3] ?? 0), '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
