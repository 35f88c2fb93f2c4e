// Local changes: a watcher event waits until its path is quiet (the same size and
// mtime for the debounce), then the path (or, for a folder moved in, everything
// under it; for a deletion, everything the state knew under it) is queued for the
// syncer. Also the drain's two steps: queue what is still debouncing, and sweep
// the tree for changes whose events never came.
import type { IsExcluded } from './excludes.ts';
import { type LocalLook, lookLocal, scanTree } from './local-scan.ts';
import type { WorkQueue } from './queue.ts';
import type { SyncState } from './sync-state.ts';

export interface LocalChangesDeps {
  homeReal: string;
  isExcluded: IsExcluded;
  debounceMs: number;
  state: SyncState;
  queue: WorkQueue;
  /** Logs a warning once per path and kind. */
  once(what: string, rel: string): void;
}

export class LocalChanges {
  private readonly debounce = new Map<string, { timer: NodeJS.Timeout; seen: string }>();
  private readonly d: LocalChangesDeps;

  constructor(d: LocalChangesDeps) {
    this.d = d;
  }

  /** A watcher event: wait for the path to be quiet (same size and mtime) for the debounce, then queue it. */
  change(relNoSlash: string): void {
    if (this.d.isExcluded(relNoSlash)) return;
    void this.settleLocal(relNoSlash);
  }

  private async settleLocal(rel: string): Promise<void> {
    const look = await lookLocal(this.d.homeReal, rel);
    const dirLook = look.kind === 'absent' ? await lookLocal(this.d.homeReal, `${rel}/`) : look;
    const seen = JSON.stringify(dirLook);
    const was = this.debounce.get(rel);
    if (was) clearTimeout(was.timer);
    const timer = setTimeout(() => void this.fire(rel, seen), this.d.debounceMs);
    this.debounce.set(rel, { timer, seen });
  }

  private async fire(rel: string, seen: string): Promise<void> {
    const file = await lookLocal(this.d.homeReal, rel);
    const look = file.kind === 'absent' ? await lookLocal(this.d.homeReal, `${rel}/`) : file;
    if (JSON.stringify(look) !== seen) {
      // Still being written: wait for it to be quiet.
      const timer = setTimeout(() => void this.fire(rel, JSON.stringify(look)), this.d.debounceMs);
      this.debounce.set(rel, { timer, seen: JSON.stringify(look) });
      return;
    }
    this.debounce.delete(rel);
    this.enqueue(rel, look);
  }

  private enqueue(rel: string, look: LocalLook): void {
    if (look.kind === 'symlink') {
      this.d.once('symlink not followed', rel);
      return;
    }
    if (look.kind === 'entry' && look.entry.folder) {
      this.d.queue.add(`${rel}/`, { local: true });
      // A folder moved in arrives as one event: its contents are queued from a scan.
      void scanTree(
        this.d.homeReal,
        this.d.isExcluded,
        (r) => this.d.once('symlink not followed', r),
        `${rel}/`,
      ).then((found) => {
        for (const r of found.keys())
          if (!this.d.state.get(r)) this.d.queue.add(r, { local: true });
      });
      return;
    }
    if (look.kind === 'absent') {
      // Gone: the file, or a folder and everything the state knows under it.
      if (this.d.state.get(rel) || !this.d.state.get(`${rel}/`))
        this.d.queue.add(rel, { local: true });
      for (const r of this.d.state.entries.keys())
        if (r.startsWith(`${rel}/`)) this.d.queue.add(r, { local: true });
      if (this.d.state.get(`${rel}/`)) this.d.queue.add(`${rel}/`, { local: true });
      return;
    }
    this.d.queue.add(rel, { local: true });
  }

  /** The drain: every debounced change queued now. */
  async flush(): Promise<void> {
    const rels = [...this.debounce.keys()];
    for (const { timer } of this.debounce.values()) clearTimeout(timer);
    this.debounce.clear();
    await Promise.all(
      rels.map(async (rel) => {
        const file = await lookLocal(this.d.homeReal, rel);
        this.enqueue(
          rel,
          file.kind === 'absent' ? await lookLocal(this.d.homeReal, `${rel}/`) : file,
        );
      }),
    );
  }

  /** How many local changes wait for their debounce. */
  pending(): number {
    return this.debounce.size;
  }

  /**
   * The drain's sweep: one scan of the tree queues every path that differs from
   * the state, so a change whose watcher event had not arrived is sent too.
   */
  async queueDifferences(): Promise<void> {
    const local = await scanTree(this.d.homeReal, this.d.isExcluded, (rel) =>
      this.d.once('symlink not followed', rel),
    );
    for (const [rel, l] of local) {
      const base = this.d.state.get(rel);
      if (!base || base.size !== l.size || base.mtimeMs !== l.mtimeMs)
        this.d.queue.add(rel, { local: true });
    }
    for (const rel of this.d.state.entries.keys())
      if (!local.has(rel)) this.d.queue.add(rel, { local: true });
  }
}
