// GET /healthz (200 {status:"ok"} once the initial sync is done and nothing is
// stuck, else 503 {status:"unhealthy", reason}) and GET /metrics.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export async function startHealthServer(
  host: string,
  port: number,
  unhealthyReason: () => string | undefined,
  registry: Registry,
  beforeScrape: () => void,
): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') {
      const reason = unhealthyReason();
      res.writeHead(reason ? 503 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reason ? { status: 'unhealthy', reason } : { status: 'ok' }));
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      beforeScrape();
      void registry.metrics().then((text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      });
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"status":"not found"}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** `main.ts healthcheck`: true when /healthz answers 200 within `timeoutMs`. */
export async function checkHealth(host: string, port: number, timeoutMs = 5000): Promise<boolean> {
  try {
    const res = await fetch(`http://${host.includes(':') ? `[${host}]` : host}:${port}/healthz`, {
      signal: AbortSignal.timeout(timeoutMs),
    });
    return res.status === 200;
  } catch {
    return false;
  }
}
