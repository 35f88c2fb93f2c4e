// berth's proxy in its own process for the benchmarks; prints {"port":N}.
import { startProxy } from '../../proxy/index.ts';
import { createPool } from '../../store/index.ts';

const pool = createPool(process.env.DATABASE_URL!, { applicationName: 'berth-proxy-bench' });
const proxy = await startProxy({ pool, port: 0, config: { baseDomain: 'localhost' } });
process.stdout.write(`${JSON.stringify({ port: proxy.port })}\n`);
process.on('SIGTERM', () => {
  void proxy
    .close()
    .then(() => pool.end())
    .then(() => process.exit(0));
});
