// The change marker: one small object, `<prefix>.s3sync/changed`, that every
// berth writer to a home (this sidecar, other tools' sidecars, the API) rewrites
// after it changed something there. Listing 10,000 keys costs a quarter of a
// second of CPU (the SDK's XML parsing); a HEAD of the marker costs almost
// nothing, so the sidecar HEADs it often and lists in full only when it moved
// (and, for writers that never bump it, every S3SYNC_POLL_INTERVAL_MS).
// Its own bumps carry an id in `x-amz-meta-writer` so the sidecar does not list
// after each of them. `.s3sync` is always excluded, so it is never a local file.
import { randomUUID } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { bareEtag, headObject } from './s3.ts';

/** The marker's path inside a home (the API writes the same key). */
export const MARKER_PATH = '.s3sync/changed';

/** How many of its own recent bump ids the sidecar recognises. */
const OWN_IDS_KEPT = 16;

export interface ChangeMarkerDeps {
  client: S3Client;
  bucket: string;
  prefix: string;
  /** At most one PUT this often while busy. */
  coalesceMs: number;
  /** A bump failed (it is tried again); `first` when the one before had succeeded. */
  onBumpFailed: (err: unknown, first: boolean) => void;
}

export class ChangeMarker {
  readonly key: string;
  /** The ETag last seen or written: undefined before the first look, null while there is none. */
  private seen: string | null | undefined;
  private readonly ownIds: string[] = [];
  /** Another writer's bump, seen just before one of ours replaced it: list at the next check. */
  private missed = false;
  /** Marker requests one at a time, so a check and a bump never race over `seen`. */
  private chain: Promise<unknown> = Promise.resolve();
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  private lastPutAt = 0;
  private closed = false;
  private failing = false;
  private readonly d: ChangeMarkerDeps;

  constructor(d: ChangeMarkerDeps) {
    this.d = d;
    this.key = d.prefix + MARKER_PATH;
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.chain.then(work, work);
    this.chain = run.catch(() => {});
    return run;
  }

  /**
   * HEADs the marker: true when another writer bumped it since the last look
   * (always true on the first look). A marker that does not exist is a state
   * like any other. Throws when the HEAD fails.
   */
  changed(): Promise<boolean> {
    return this.serial(async () => {
      const h = await headObject(this.d.client, this.d.bucket, this.key);
      const tag = h ? h.etag : null;
      const before = this.seen;
      this.seen = tag;
      const missed = this.missed;
      this.missed = false;
      if (before === undefined || missed) return true;
      if (tag === before) return false;
      return !(h?.writer && this.ownIds.includes(h.writer));
    });
  }

  /** This sidecar changed something in S3: a bump soon, at most one PUT per coalesceMs. */
  touch(): void {
    if (this.closed) return;
    this.dirty = true;
    if (this.timer) return;
    const wait = Math.max(0, this.lastPutAt + this.d.coalesceMs - Date.now());
    this.timer = setTimeout(() => void this.bumpNow(), wait);
  }

  private async bumpNow(): Promise<void> {
    this.timer = undefined;
    if (!this.dirty) return;
    this.dirty = false;
    this.lastPutAt = Date.now();
    try {
      await this.serial(() => this.put());
      this.failing = false;
    } catch (err) {
      this.d.onBumpFailed(err, !this.failing);
      this.failing = true;
      this.dirty = true;
      if (!this.closed && !this.timer)
        this.timer = setTimeout(() => void this.bumpNow(), Math.max(this.d.coalesceMs, 2000));
    }
    // Changes made while the PUT was in flight get their own bump.
    if (this.dirty && !this.timer && !this.closed) this.touch();
  }

  private async put(): Promise<void> {
    // Someone else's bump we are about to overwrite must still lead to a listing.
    const h = await headObject(this.d.client, this.d.bucket, this.key);
    const tag = h ? h.etag : null;
    if (
      this.seen !== undefined &&
      tag !== this.seen &&
      !(h?.writer && this.ownIds.includes(h.writer))
    )
      this.missed = true;
    const id = randomUUID();
    this.ownIds.push(id);
    if (this.ownIds.length > OWN_IDS_KEPT) this.ownIds.shift();
    const body = JSON.stringify({ at: new Date().toISOString(), id });
    const out = await this.d.client.send(
      new PutObjectCommand({
        Bucket: this.d.bucket,
        Key: this.key,
        Body: body,
        ContentLength: Buffer.byteLength(body),
        ContentType: 'application/json',
        Metadata: { writer: id },
      }),
    );
    if (this.seen !== undefined) this.seen = bareEtag(out.ETag);
  }

  /** The drain: a pending bump now, so other tools learn of the last uploads. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.dirty) await this.bumpNow();
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
