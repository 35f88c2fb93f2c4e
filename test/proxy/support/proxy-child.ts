// A proxy in its own process, so a test can measure the proxy's memory alone.
// Reads DATABASE_URL, prints {"port": N} on stdout once listening, stops on SIGTERM.
import { startProxy } from '../../../proxy/index.ts';
import { createPool } from '../../../store/index.ts';

const pool = createPool(process.env.DATABASE_URL!, { applicationName: 'berth-proxy-test' });
const proxy = await startProxy({ pool, port: 0, config: { baseDomain: 'localhost' } });
process.stdout.write(`${JSON.stringify({ port: proxy.port })}\n`);
process.on('SIGTERM', () => {
  void proxy
    .close()
    .then(() => pool.end())
    .then(() => process.exit(0));
});
