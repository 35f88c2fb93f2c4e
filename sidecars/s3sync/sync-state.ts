// What was last in step on both sides, per path: <home>/.s3sync/state.json. It is
// written (atomically: a temporary file, then rename) only after a transfer has
// completed, so a SIGKILL leaves it behind the truth, never ahead: the next start
// finds the files on both sides equal (same size and ETag or mtime) and records
// them, or redoes the transfer.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One path as it was when both sides last agreed. Folders: size 0, mtimeMs 0. */
export interface Entry {
  size: number;
  /** Local mtime (ms) at that moment; also kept in the object's `x-amz-meta-mtime`. */
  mtimeMs: number;
  etag: string;
}

const FLUSH_AFTER_MS = 200;

export class SyncState {
  readonly entries = new Map<string, Entry>();
  private readonly dir: string;
  private readonly file: string;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(home: string) {
    this.dir = join(home, '.s3sync');
    this.file = join(this.dir, 'state.json');
  }

  /** Reads the state; a missing or unreadable file is no state (a first start). */
  async load(): Promise<{ found: boolean }> {
    await mkdir(this.dir, { recursive: true });
    try {
      const parsed = JSON.parse(await readFile(this.file, 'utf8')) as {
        version: number;
        entries: Record<string, Entry>;
      };
      if (parsed.version !== 1) return { found: false };
      for (const [k, v] of Object.entries(parsed.entries)) this.entries.set(k, v);
      return { found: true };
    } catch {
      return { found: false };
    }
  }

  get(rel: string): Entry | undefined {
    return this.entries.get(rel);
  }

  set(rel: string, entry: Entry): void {
    this.entries.set(rel, entry);
    this.schedule();
  }

  delete(rel: string): void {
    if (this.entries.delete(rel)) this.schedule();
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, FLUSH_AFTER_MS);
  }

  /** Writes the state now (and waits for any write under way). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const body = JSON.stringify({ version: 1, entries: Object.fromEntries(this.entries) });
    this.writing = this.writing.then(async () => {
      const tmp = `${this.file}.${process.pid}.tmp`;
      await writeFile(tmp, body);
      await rename(tmp, this.file);
    });
    return this.writing;
  }
}
