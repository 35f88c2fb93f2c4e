// The metrics sidecar: `node sidecars/metrics/main.ts` (image berth/metrics:latest),
// or `main.ts healthcheck` (the ECS health check: exit 0 when /healthz answers 200).
// One JSON line when listening and one per metadata outage (start and end); a bad
// setting is one line naming it and exit 2; SIGTERM closes it and exits 0.

// The health check first, before anything heavy is loaded: ECS runs it every 30 s.
if (process.argv[2] === 'healthcheck') {
  const { healthcheckMain } = await import('./health.ts');
  process.exit(await healthcheckMain(process.env));
}

const { ConfigError } = await import('../../settings/index.ts');
const { loadMetricsConfig } = await import('./config.ts');

function line(msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(
    `${JSON.stringify({ time: new Date().toISOString(), component: 'metrics', msg, ...fields })}\n`,
  );
}

function settings<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`berth metrics: ${err.message}\n`);
    process.exit(2);
  }
}

const config = settings(() => loadMetricsConfig());
// Loaded only here, so the health check (run every interval) stays cheap.
const { startMetricsServer } = await import('./server.ts');
const server = await startMetricsServer({
  ...config,
  onOutage: (reason) =>
    reason
      ? line('task metadata endpoint unavailable; /metrics answers 503', { reason })
      : line('task metadata endpoint readable again'),
});
line('metrics listening', { host: config.host, port: server.port, tool: config.tool });
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void server.close().then(() => process.exit(0));
  });
}
