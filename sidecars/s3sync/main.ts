// The s3sync process: `node sidecars/s3sync/main.ts` (image berth/s3sync:latest),
// or `main.ts healthcheck` (the ECS health check: exit 0 when /healthz says ok).
// Logs are pino JSON lines on stdout. A bad setting is one line naming it and
// exit 2. SIGTERM drains: exit 0 when everything local is in S3, else 1 after one
// line naming what was not sent.
import { mkdir, realpath } from 'node:fs/promises';
import { pino } from 'pino';
import { ConfigError } from '../../settings/index.ts';
import { loadHealthcheckConfig, loadS3syncConfig, type S3syncConfig } from './config.ts';
import { drain } from './drain.ts';
import { excluder } from './excludes.ts';
import { checkHealth, startHealthServer } from './health.ts';
import { ChangeMarker } from './marker.ts';
import { s3syncMetrics } from './metrics.ts';
import { s3Client } from './s3.ts';
import { errText, Syncer } from './sync.ts';
import { SyncState } from './sync-state.ts';
import { type Watching, watchHome } from './watcher.ts';

function settings<T>(load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`berth s3sync: ${err.message}\n`);
    process.exit(2);
  }
}

if (process.argv[2] === 'healthcheck') {
  const c = settings(() => loadHealthcheckConfig());
  process.exit((await checkHealth(c.host, c.port)) ? 0 : 1);
}

const config: S3syncConfig = settings(() => loadS3syncConfig());
const log = pino({ base: { component: 's3sync' }, timestamp: pino.stdTimeFunctions.isoTime });
await mkdir(config.home, { recursive: true });
const homeReal = await realpath(config.home);
const state = new SyncState(homeReal);
const { found } = await state.load();
const metrics = s3syncMetrics();
const client = s3Client(config);
const marker = new ChangeMarker({
  client,
  bucket: config.bucket,
  prefix: config.prefix,
  coalesceMs: 500,
  onBumpFailed: (err, first) => {
    metrics.errors.inc({ operation: 'marker' });
    // Once per outage: it is retried every 2 s.
    if (first) log.warn({ err: errText(err) }, 'change marker not bumped; will retry');
  },
});
const syncer = new Syncer({
  config,
  homeReal,
  client,
  state,
  isExcluded: excluder(config.exclude, config.syncLocalOnly ? undefined : config.localOnlyFolder),
  metrics,
  log,
  marker,
});

let ready = false;
let watcherDied: string | undefined;
const health = await startHealthServer(
  config.host,
  config.port,
  () => {
    if (watcherDied) return `the file watcher stopped: ${watcherDied}`;
    const stuck = syncer.stuckReason(Date.now());
    if (stuck) return stuck;
    return ready ? undefined : 'the initial sync has not finished';
  },
  metrics.registry,
  () => {
    metrics.pending.set(
      syncer.queue.pending.size + syncer.queue.inFlight.size + syncer.debouncing(),
    );
    const oldest = syncer.queue.oldestLocal();
    metrics.lag.set(oldest === undefined ? 0 : (Date.now() - oldest) / 1000);
  },
);
log.info(
  {
    host: config.host,
    port: health.port,
    bucket: config.bucket,
    prefix: config.prefix,
    state: found,
  },
  's3sync listening',
);

let watching: Watching | undefined;
try {
  watching = await watchHome(
    homeReal,
    (rel) => syncer.localChange(rel),
    (err) => {
      watcherDied = errText(err);
      log.error({ err: watcherDied }, 'file watcher failed');
    },
  );
} catch (err) {
  watcherDied = errText(err);
  log.error({ err: watcherDied }, 'file watcher could not start');
}

let pollTimer: NodeJS.Timeout | undefined;
let polling = true;
const stopPolling = () => {
  polling = false;
  clearTimeout(pollTimer);
};
const schedulePoll = () => {
  if (!polling) return;
  pollTimer = setTimeout(
    () => {
      void syncer.tick().finally(schedulePoll);
    },
    Math.min(config.markerIntervalMs, config.pollIntervalMs),
  );
};

let draining = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    draining = true;
    void drain(syncer, state, stopPolling, watching, config.drainTimeoutMs).then(async (r) => {
      // Other tools learn of the last uploads now rather than at their next full
      // listing; bounded, so a silent S3 cannot hold the exit past ECS's stop timeout.
      await Promise.race([
        marker.flush().catch(() => {}),
        new Promise((r) => setTimeout(r, 2000).unref()),
      ]);
      if (r.left.length > 0)
        log.error(
          { count: r.left.length, paths: r.left.slice(0, 100), ms: r.ms },
          `drain: ${r.left.length} local change(s) not uploaded`,
        );
      else log.info({ ms: r.ms }, 'drain: everything uploaded');
      await health.close();
      process.exit(r.left.length > 0 ? 1 : 0);
    });
  });
}

const started = Date.now();
await syncer.initialSync();
if (!draining) {
  ready = true;
  log.info({ ms: Date.now() - started, paths: state.entries.size }, 'initial sync done');
  await state.flush();
  schedulePoll();
}
