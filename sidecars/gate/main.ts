// The gate's process: `node sidecars/gate/main.ts` (ecs-local's image map runs it
// for `berth/gate:latest`). One JSON line when listening; a bad setting is one
// line naming it and exit 2; SIGTERM closes it and exits 0.
import { ConfigError } from '../../settings/index.ts';
import { loadGateConfig } from './config.ts';
import { startGate } from './gate.ts';

function line(msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), msg, ...fields })}\n`);
}

let config: ReturnType<typeof loadGateConfig>;
try {
  config = loadGateConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`berth gate: ${err.message}\n`);
  process.exit(2);
}
const gate = await startGate(config);
line('gate listening', {
  host: config.listenHost,
  port: gate.port,
  upstream: `${config.upstreamHost}:${config.upstreamPort}`,
});
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void gate.close().then(() => process.exit(0));
  });
}
