// GET /metrics (the task's figures, read from the metadata endpoint now) and
// GET /healthz (200 while the process serves). Nothing runs between requests.
// Scrapes that arrive together share one read. When the metadata endpoint cannot
// be read, /metrics answers 503 with the reason: Prometheus marks the target
// down and the series go stale, rather than old figures passing for new.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Identity, sidecarMetrics } from './metrics.ts';
import { snapshot } from './snapshot.ts';
import { MetadataUnavailable, readTask } from './task-metadata.ts';

export interface MetricsServerOptions extends Identity {
  host: string;
  port: number;
  metadataUri: string;
  /** Called when reading the metadata starts or stops failing (one line per outage). */
  onOutage?: (reason: string | undefined) => void;
}

export interface MetricsServer {
  port: number;
  close(): Promise<void>;
}

type Scrape = { ok: true; text: string } | { ok: false; reason: string };

export async function startMetricsServer(o: MetricsServerOptions): Promise<MetricsServer> {
  const metrics = sidecarMetrics(o);
  let inFlight: Promise<Scrape> | undefined;
  let failing = false;

  async function scrape(): Promise<Scrape> {
    try {
      const { task, stats } = await readTask(o.metadataUri);
      metrics.update(snapshot(task, stats));
      const text = await metrics.registry.metrics();
      if (failing) o.onOutage?.(undefined);
      failing = false;
      return { ok: true, text };
    } catch (err) {
      if (!(err instanceof MetadataUnavailable)) throw err;
      if (!failing) o.onOutage?.(err.message);
      failing = true;
      return { ok: false, reason: err.message };
    }
  }

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"ok"}');
      return;
    }
    if (req.method === 'GET' && path === '/metrics') {
      inFlight ??= scrape().finally(() => {
        inFlight = undefined;
      });
      void inFlight.then(
        (s) => {
          if (s.ok) {
            res.writeHead(200, { 'content-type': metrics.registry.contentType });
            res.end(s.text);
          } else {
            res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' });
            res.end(`the task metadata endpoint could not be read: ${s.reason}\n`);
          }
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
          res.end(`scrape failed: ${(err as Error).message}\n`);
        },
      );
      return;
    }
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end('{"status":"not found"}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, resolve);
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
