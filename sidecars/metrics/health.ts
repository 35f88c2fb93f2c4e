// `main.ts healthcheck` (the ECS health check, ["CMD", "metrics", "healthcheck"]):
// exit 0 when /healthz answers 200. ECS runs it every 30 s in every task, so it
// imports only node:http: loading settings/ (zod) and fetch (undici) made each run
// cost ~280 ms of CPU, ~1 % of a core; node:http alone ~40 ms. Its two settings are
// read here with the same names, defaults and messages as config.ts's.
import { get } from 'node:http';

/** The exit code of the health check: 0 healthy, 1 not, 2 a bad setting (one line to stderr). */
export async function healthcheckMain(env: Record<string, string | undefined>): Promise<number> {
  const rawPort = env.METRICS_PORT?.trim() || '8889';
  const port = /^\d{1,5}$/.test(rawPort) ? Number(rawPort) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) {
    process.stderr.write(
      'berth metrics: metrics healthcheck settings: METRICS_PORT: must be an integer from 1 to 65535\n',
    );
    return 2;
  }
  return (await checkHealth(env.BERTH_BIND_HOST?.trim() || '0.0.0.0', port)) ? 0 : 1;
}

/** True when http://host:port/healthz answers 200 within `timeoutMs`. */
export function checkHealth(host: string, port: number, timeoutMs = 3000): Promise<boolean> {
  // A wildcard address is where it listens, not where to connect.
  const target = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return new Promise((resolve) => {
    const req = get({ host: target, port, path: '/healthz', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
  });
}
