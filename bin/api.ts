// `berth api`: the API server alone, against DATABASE_URL (migrated at start).
// Configuration: BERTH_API_* (see api/config.ts). Logs are JSON lines.
import pino from 'pino';
import { ConfigError, loadApiConfig, startApi } from '../api/index.ts';
import { CONTROLLED_KINDS, ReconcileQueue, reconcileOnWrite } from '../controllers/index.ts';
import { ResourceStore } from '../store/index.ts';
import { openMigratedPool, requireDatabaseUrl } from './database.ts';
import { onShutdown } from './shutdown.ts';

export async function runApi(): Promise<void> {
  const log = pino({ name: 'berth-api' });
  const url = requireDatabaseUrl('api');
  if (!url) return;
  let config: ReturnType<typeof loadApiConfig>;
  try {
    config = loadApiConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`berth api: ${err.message}`);
      process.exitCode = 2;
      return;
    }
    throw err;
  }
  const pool = await openMigratedPool(url, log, { applicationName: 'berth-api' });
  try {
    // Writes through this API enqueue their reconcile in the same transaction, so
    // the controllers (other processes) see every change even if they are down now.
    const queue = await ReconcileQueue.start({
      pool,
      kinds: CONTROLLED_KINDS,
      role: 'producer',
      onError: (err) => log.error({ err }, 'reconcile queue error'),
    });
    const store = new ResourceStore(pool, {
      onWrite: reconcileOnWrite(queue),
      onBackgroundError: (err, what) => log.error({ err, what }, 'store background work failed'),
    });
    const api = await startApi({ pool, config, store });
    log.info({ url: api.url }, 'API listening');
    onShutdown(log, async () => {
      await api.close();
      await store.close();
      await queue.stop();
      await pool.end();
    });
  } catch (err) {
    await pool.end().catch(() => {});
    throw err;
  }
}
