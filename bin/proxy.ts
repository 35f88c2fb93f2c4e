// `berth proxy`: the proxy alone, against DATABASE_URL (migrated at start).
// Configuration: BERTH_PROXY_* and BERTH_BASE_DOMAIN (see proxy/config.ts). Logs are JSON lines.
// With BERTH_PROXY_WORKERS > 1 (or auto) this process becomes a node:cluster
// primary (bin/proxy-primary.ts) and each worker runs this same command.
import cluster from 'node:cluster';
import pino from 'pino';
import { ConfigError, loadProxyConfig, startProxy, workerCount } from '../proxy/index.ts';
import { openMigratedPool, requireDatabaseUrl } from './database.ts';
import { runProxyPrimary, STOP_MESSAGE } from './proxy-primary.ts';
import { onShutdown } from './shutdown.ts';

export async function runProxy(): Promise<void> {
  const worker = cluster.isWorker ? cluster.worker : undefined;
  const log = pino({
    name: 'berth-proxy',
    ...(worker ? { base: { pid: process.pid, worker: worker.id } } : {}),
  });
  const url = requireDatabaseUrl('proxy');
  if (!url) return;
  let config: ReturnType<typeof loadProxyConfig>;
  try {
    config = loadProxyConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`berth proxy: ${err.message}`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
  const workers = workerCount(config);
  const pool = await openMigratedPool(url, log, { applicationName: 'berth-proxy' });
  if (!worker && workers > 1) {
    // The primary only migrates (once, before any worker starts) and supervises.
    await pool.end();
    runProxyPrimary(workers, log);
    return;
  }
  try {
    const proxy = await startProxy({ pool, config, log, clusterWorker: worker !== undefined });
    if (!worker) log.info({ url: proxy.url, baseDomain: config.baseDomain }, 'proxy listening');
    const stop = onShutdown(log, async () => {
      await proxy.close();
      await pool.end();
    });
    // In a cluster the primary decides when workers stop (it forwards the signal).
    process.on('message', (m: unknown) => {
      if ((m as { type?: unknown } | null)?.type === STOP_MESSAGE) stop('primary');
    });
  } catch (err) {
    await pool.end().catch(() => {});
    throw err;
  }
}
