// `berth proxy`: the proxy alone, against DATABASE_URL (migrated at start).
// Configuration: BERTH_PROXY_* and BERTH_BASE_DOMAIN (see proxy/config.ts). Logs are JSON lines.
import pino from 'pino';
import { loadProxyConfig, ProxyConfigError, startProxy } from '../proxy/index.ts';
import { openMigratedPool, requireDatabaseUrl } from './database.ts';
import { onShutdown } from './shutdown.ts';

export async function runProxy(): Promise<void> {
  const log = pino({ name: 'berth-proxy' });
  const url = requireDatabaseUrl('proxy');
  if (!url) return;
  let config: ReturnType<typeof loadProxyConfig>;
  try {
    config = loadProxyConfig();
  } catch (err) {
    if (err instanceof ProxyConfigError) {
      console.error(`berth proxy: ${err.message}`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
  const pool = await openMigratedPool(url, log, { applicationName: 'berth-proxy' });
  try {
    const proxy = await startProxy({ pool, config, log });
    log.info({ url: proxy.url, baseDomain: config.baseDomain }, 'proxy listening');
    onShutdown(log, async () => {
      await proxy.close();
      await pool.end();
    });
  } catch (err) {
    await pool.end().catch(() => {});
    throw err;
  }
}
