// s3sync's Prometheus metrics (berth_s3sync_*), in a registry of its own.
import { Counter, Gauge, Registry } from 'prom-client';

export type Op = 'upload' | 'download' | 'delete_local' | 'delete_remote';

export function s3syncMetrics() {
  const registry = new Registry();
  const files = new Counter({
    name: 'berth_s3sync_files_total',
    help: 'Files moved, by operation (upload, download, delete_local, delete_remote).',
    labelNames: ['op'],
    registers: [registry],
  });
  const bytes = new Counter({
    name: 'berth_s3sync_bytes_total',
    help: 'Bytes moved, by operation (upload, download).',
    labelNames: ['op'],
    registers: [registry],
  });
  const conflicts = new Counter({
    name: 'berth_s3sync_conflicts_total',
    help: 'Paths changed on both sides: both versions kept.',
    registers: [registry],
  });
  const errors = new Counter({
    name: 'berth_s3sync_errors_total',
    help: 'Failed operations (each retried), by operation.',
    labelNames: ['operation'],
    registers: [registry],
  });
  const pending = new Gauge({
    name: 'berth_s3sync_pending_changes',
    help: 'Paths waiting to be synced (including retries).',
    registers: [registry],
  });
  const lag = new Gauge({
    name: 'berth_s3sync_lag_seconds',
    help: 'Age of the oldest local change not yet in S3.',
    registers: [registry],
  });
  const lastPoll = new Gauge({
    name: 'berth_s3sync_last_successful_poll_timestamp_seconds',
    help: 'When the prefix was last listed in full.',
    registers: [registry],
  });
  const watched = new Gauge({
    name: 'berth_s3sync_files_watched',
    help: 'Files and folders in step (the state).',
    registers: [registry],
  });
  return { registry, files, bytes, conflicts, errors, pending, lag, lastPoll, watched };
}

export type S3syncMetrics = ReturnType<typeof s3syncMetrics>;
