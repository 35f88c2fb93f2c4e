// The syncer: brings one path into step (decide with plan.ts, then act), the
// initial pass, and the poll of S3 (the change marker often, a full listing when
// it moved or is due); local changes come through local-changes.ts.
import { mkdir, rename, rmdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import type { S3syncConfig } from './config.ts';
import { conflictName } from './conflicts.ts';
import { downloadFile } from './downloader.ts';
import type { IsExcluded } from './excludes.ts';
import { LocalChanges } from './local-changes.ts';
import { type LocalEntry, type LocalLook, lookLocal, md5File, scanTree } from './local-scan.ts';
import type { ChangeMarker } from './marker.ts';
import type { S3syncMetrics } from './metrics.ts';
import { keyFromRel } from './paths.ts';
import { type Action, plan, type RemoteObject } from './plan.ts';
import { type Job, WorkQueue } from './queue.ts';
import { listRemote } from './remote-list.ts';
import { deleteObject, headObject, putFolder } from './s3.ts';
import { stuckReason } from './stuck.ts';
import type { SyncState } from './sync-state.ts';
import { uploadFile } from './uploader.ts';

export interface SyncerDeps {
  config: S3syncConfig;
  homeReal: string;
  client: S3Client;
  state: SyncState;
  isExcluded: IsExcluded;
  metrics: S3syncMetrics;
  log: Logger;
  /** Bumped after this sidecar changed S3; checked by tick(). */
  marker: ChangeMarker;
}

export class Syncer {
  readonly queue: WorkQueue;
  /** When each path's state entry last changed: a listing started before that is stale for it. */
  private readonly touched = new Map<string, number>();
  private readonly locals: LocalChanges;
  private readonly loggedOnce = new Set<string>();
  /** The poll in progress (for /healthz), and the last complete listing. */
  pollStartedAt: number | undefined;
  lastPollOk: number | undefined;
  /** The marker's HEAD in progress (for /healthz), and the last that answered. */
  markerStartedAt: number | undefined;
  lastMarkerOk: number | undefined;
  /** When the last full listing started (a full listing is due every pollIntervalMs). */
  private lastListAt: number | undefined;
  private markerFailing = false;

  private readonly d: SyncerDeps;

  constructor(d: SyncerDeps) {
    this.d = d;
    this.queue = new WorkQueue(
      d.config.concurrency,
      (job) => this.syncPath(job),
      (job, err) => {
        d.metrics.errors.inc({ operation: 'sync' });
        d.log.warn(
          { path: job.rel, attempts: job.attempts + 1, err: errText(err) },
          'sync failed; will retry',
        );
      },
    );
    this.locals = new LocalChanges({
      homeReal: d.homeReal,
      isExcluded: d.isExcluded,
      debounceMs: d.config.debounceMs,
      state: d.state,
      queue: this.queue,
      once: (what, rel) => this.once(what, rel),
    });
  }

  private once(what: string, rel: string, fields: Record<string, unknown> = {}): void {
    if (this.loggedOnce.has(`${what}\0${rel}`)) return;
    this.loggedOnce.add(`${what}\0${rel}`);
    this.d.log.warn({ path: rel, ...fields }, what);
  }

  private key(rel: string): string | undefined {
    const k = keyFromRel(this.d.config.prefix, rel);
    if ('skip' in k) {
      this.once('not synced: its key would be too long', rel, { reason: k.skip });
      return undefined;
    }
    return k.key;
  }

  private async look(rel: string): Promise<LocalEntry | undefined> {
    const l: LocalLook = await lookLocal(this.d.homeReal, rel);
    if (l.kind === 'symlink') this.once('symlink not followed', rel);
    return l.kind === 'entry' ? l.entry : undefined;
  }

  private record(rel: string, size: number, mtimeMs: number, etag: string): void {
    this.d.state.set(rel, { size, mtimeMs, etag });
    this.touched.set(rel, Date.now());
    this.d.metrics.watched.set(this.d.state.entries.size);
  }

  private forget(rel: string): void {
    this.d.state.delete(rel);
    this.touched.set(rel, Date.now());
    this.d.metrics.watched.set(this.d.state.entries.size);
  }

  /** Brings one path into step. Throws to be retried. */
  async syncPath(job: Job): Promise<void> {
    const { rel } = job;
    const { bucket } = this.d.config;
    if (this.d.isExcluded(rel)) return;
    const key = this.key(rel);
    if (!key) return;
    const local = await this.look(rel);
    const base = this.d.state.get(rel);
    let remote: RemoteObject | undefined;
    const hint = job.hint;
    if (hint && (this.touched.get(rel) ?? 0) < hint.listedAt) remote = hint.remote;
    else remote = await headObject(this.d.client, bucket, key);
    const action: Action = plan(local, remote, base);
    if (action === 'none') return;
    const folder = rel.endsWith('/');
    switch (action) {
      case 'forget':
        this.forget(rel);
        return;
      case 'upload':
        return this.upload(rel, key, local as LocalEntry);
      case 'download':
        return this.download(rel, key, local);
      case 'deleteLocal': {
        // Only if still as the state says it was in step.
        const now = await this.look(rel);
        if (!now || !base || now.size !== base.size || now.mtimeMs !== base.mtimeMs) return;
        try {
          if (folder) await rmdir(join(this.d.homeReal, rel));
          else await unlink(join(this.d.homeReal, rel));
        } catch (err) {
          if (!folder) throw err;
          // Not empty: wait while files the state knows under it are still to go;
          // else it holds files kept here (changed, or never synced) and stays.
          for (const r of this.d.state.entries.keys())
            if (r !== rel && r.startsWith(rel)) throw new Error('folder not empty yet');
        }
        this.forget(rel);
        this.d.metrics.files.inc({ op: 'delete_local' });
        this.d.log.info({ path: rel }, 'deleted locally (deleted in S3)');
        return;
      }
      case 'deleteRemote':
        await deleteObject(this.d.client, bucket, key);
        this.d.marker.touch();
        this.forget(rel);
        this.d.metrics.files.inc({ op: 'delete_remote' });
        this.d.log.info({ path: rel }, 'deleted in S3 (deleted locally)');
        return;
      case 'compare': {
        const l = local as LocalEntry;
        const r = remote as RemoteObject;
        if (folder || (await this.sameContent(rel, key, l, r))) {
          this.record(rel, l.size, l.mtimeMs, r.etag);
          return;
        }
        return this.conflict(rel, key);
      }
    }
  }

  /** Equal size and (single-part ETag = local MD5, or the mtime kept in metadata = local mtime). */
  private async sameContent(
    rel: string,
    key: string,
    l: LocalEntry,
    r: RemoteObject,
  ): Promise<boolean> {
    if (l.size !== r.size) return false;
    if (/^[0-9a-f]{32}$/.test(r.etag))
      return (await md5File(join(this.d.homeReal, rel))) === r.etag;
    const h = await headObject(this.d.client, this.d.config.bucket, key);
    return h !== undefined && h.mtimeMs === l.mtimeMs;
  }

  private async upload(rel: string, key: string, local: LocalEntry): Promise<void> {
    const { bucket } = this.d.config;
    if (local.folder) {
      this.record(rel, 0, 0, await putFolder(this.d.client, bucket, key));
      this.d.marker.touch();
      return;
    }
    const etag = await uploadFile(this.d.client, {
      bucket,
      key,
      path: join(this.d.homeReal, rel),
      size: local.size,
      mtimeMs: local.mtimeMs,
      multipartThresholdBytes: this.d.config.multipartThresholdBytes,
      partsInFlight: this.d.config.concurrency,
      onProgress: () => this.queue.progress(rel),
    });
    // Recorded as it was before reading: if it changed meanwhile, it differs and goes again.
    this.record(rel, local.size, local.mtimeMs, etag);
    this.d.marker.touch();
    this.d.metrics.files.inc({ op: 'upload' });
    this.d.metrics.bytes.inc({ op: 'upload' }, local.size);
    this.d.log.info({ path: rel, size: local.size }, 'uploaded');
    const now = await this.look(rel);
    if (now && (now.size !== local.size || now.mtimeMs !== local.mtimeMs))
      this.queue.add(rel, { local: true });
  }

  private async download(rel: string, key: string, seen: LocalEntry | undefined): Promise<void> {
    if (rel.endsWith('/')) {
      await mkdir(join(this.d.homeReal, rel), { recursive: true });
      const h = await headObject(this.d.client, this.d.config.bucket, key);
      this.record(rel, 0, 0, h?.etag ?? '');
      return;
    }
    const got = await downloadFile(
      this.d.client,
      this.d.config.bucket,
      key,
      this.d.homeReal,
      rel,
      async () => {
        const now = await this.look(rel);
        return now?.size === seen?.size && now?.mtimeMs === seen?.mtimeMs;
      },
      () => this.queue.progress(rel),
    );
    if (got === 'changed') {
      this.queue.add(rel, { local: true }); // decide again with the new local version
      return;
    }
    const now = await this.look(rel);
    if (now) this.record(rel, now.size, now.mtimeMs, got.etag);
    this.d.metrics.files.inc({ op: 'download' });
    this.d.metrics.bytes.inc({ op: 'download' }, got.size);
    this.d.log.info({ path: rel, size: got.size }, 'downloaded');
  }

  /** Both changed: the local version moves aside (and is uploaded), S3's takes the name. */
  private async conflict(rel: string, key: string): Promise<void> {
    const at = new Date();
    let aside = conflictName(rel, at);
    for (
      let n = 2;
      (await lookLocal(this.d.homeReal, aside)).kind !== 'absent' || this.d.state.get(aside);
      n++
    )
      aside = conflictName(rel, at, n);
    await rename(join(this.d.homeReal, rel), join(this.d.homeReal, aside));
    this.d.metrics.conflicts.inc();
    this.d.log.warn(
      { path: rel, keptAs: aside },
      'conflict: both changed; the local version is kept under a new name',
    );
    this.queue.add(aside, { local: true });
    await this.download(rel, key, undefined);
  }

  /** The first pass: every path on either side or in the state; resolves when all are done. */
  async initialSync(): Promise<void> {
    for (;;) {
      try {
        // The marker as it was before the listing: a bump after it means list again.
        await this.checkMarker();
        const listedAt = Date.now();
        const remote = await this.list();
        const local = await scanTree(this.d.homeReal, this.d.isExcluded, (rel) =>
          this.once('symlink not followed', rel),
        );
        const all = new Set([...remote.keys(), ...local.keys(), ...this.d.state.entries.keys()]);
        // Files before folders, deepest folders last to go (a folder is emptied first).
        const order = [...all].sort(
          (a, b) => Number(a.endsWith('/')) - Number(b.endsWith('/')) || b.length - a.length,
        );
        for (const rel of order)
          this.queue.add(rel, { local: false, hint: { remote: remote.get(rel), listedAt } });
        await this.queue.idle();
        return;
      } catch (err) {
        this.d.metrics.errors.inc({ operation: 'list' });
        this.d.log.warn({ err: errText(err) }, 'initial listing failed; will retry');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  private async list(): Promise<Map<string, RemoteObject>> {
    this.pollStartedAt = Date.now();
    this.lastListAt = this.pollStartedAt;
    try {
      const out = await listRemote(
        this.d.client,
        this.d.config.bucket,
        this.d.config.prefix,
        (key, reason) => this.once('S3 key skipped: not a safe local path', key, { reason }),
      );
      const excluded = [...out.keys()].filter((rel) => this.d.isExcluded(rel));
      for (const rel of excluded) out.delete(rel);
      this.lastPollOk = Date.now();
      this.d.metrics.lastPoll.set(this.lastPollOk / 1000);
      return out;
    } finally {
      this.pollStartedAt = undefined;
    }
  }

  /**
   * Whether another writer moved the marker. A failed HEAD says no (the next one
   * that answers compares with the last seen) and is logged once per outage.
   */
  private async checkMarker(): Promise<boolean> {
    this.markerStartedAt = Date.now();
    try {
      const moved = await this.d.marker.changed();
      this.lastMarkerOk = Date.now();
      if (this.markerFailing) this.d.log.info('change marker answers again');
      this.markerFailing = false;
      return moved;
    } catch (err) {
      this.d.metrics.errors.inc({ operation: 'marker' });
      if (!this.markerFailing)
        this.d.log.warn({ err: errText(err) }, 'change marker check failed; will retry');
      this.markerFailing = true;
      return false;
    } finally {
      this.markerStartedAt = undefined;
    }
  }

  /**
   * Every S3SYNC_MARKER_INTERVAL_MS: one HEAD of the change marker, and a full
   * listing when another writer moved it or one is due (S3SYNC_POLL_INTERVAL_MS).
   */
  async tick(): Promise<void> {
    const moved = await this.checkMarker();
    const due =
      this.lastListAt === undefined || Date.now() - this.lastListAt >= this.d.config.pollIntervalMs;
    if (moved || due) await this.poll();
  }

  /** One poll: paths whose S3 side differs from the state are queued with what the listing said. */
  async poll(): Promise<void> {
    const listedAt = Date.now();
    let remote: Map<string, RemoteObject>;
    try {
      remote = await this.list();
    } catch (err) {
      // A failed or partial listing decides nothing (and deletes nothing).
      this.d.metrics.errors.inc({ operation: 'list' });
      this.d.log.warn({ err: errText(err) }, 'listing failed; nothing decided');
      return;
    }
    for (const [rel, r] of remote) {
      const base = this.d.state.get(rel);
      if (!base || base.etag !== r.etag || base.size !== r.size)
        this.queue.add(rel, { local: false, hint: { remote: r, listedAt } });
    }
    for (const rel of this.d.state.entries.keys())
      if (!remote.has(rel))
        this.queue.add(rel, { local: false, hint: { remote: undefined, listedAt } });
  }

  /** A watcher event (local-changes.ts debounces it, then queues it). */
  localChange(relNoSlash: string): void {
    this.locals.change(relNoSlash);
  }

  /** The drain: every debounced change queued now. */
  flushDebounced(): Promise<void> {
    return this.locals.flush();
  }

  /** How many local changes wait for their debounce. */
  debouncing(): number {
    return this.locals.pending();
  }

  /** The drain's sweep: every path that differs from the state, queued. */
  queueLocalDifferences(): Promise<void> {
    return this.locals.queueDifferences();
  }

  /** Why the sync is stuck, if it is (stuck.ts). */
  stuckReason(now: number): string | undefined {
    return stuckReason(this, this.d.config, now);
  }
}

export function errText(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`.slice(0, 300);
  return String(err).slice(0, 300);
}
