// The local side of one path, and the whole tree at start. Symlinks are never
// followed: a symlink is not a file to sync and never a folder to descend into,
// and a path with a symlinked folder above it is not under home at all.
import { createHash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { lstat, readdir, realpath } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { IsExcluded } from './excludes.ts';
import type { LocalFile } from './plan.ts';

export interface LocalEntry extends LocalFile {
  folder: boolean;
}

export type LocalLook =
  | { kind: 'absent' }
  | { kind: 'symlink' }
  | { kind: 'other' } // a socket, a FIFO, a device: not synced
  | { kind: 'entry'; entry: LocalEntry };

/** Folders have size 0 and mtime 0: only their existence is synced. */
export function entryOf(st: Stats): LocalEntry {
  return st.isDirectory()
    ? { size: 0, mtimeMs: 0, folder: true }
    : { size: st.size, mtimeMs: Math.floor(st.mtimeMs), folder: false };
}

/** What is at `rel` (a folder's rel ends in `/`), without following symlinks. */
export async function lookLocal(homeReal: string, rel: string): Promise<LocalLook> {
  const path = join(homeReal, rel);
  let st: Stats;
  try {
    st = await lstat(path);
  } catch {
    return { kind: 'absent' };
  }
  if (st.isSymbolicLink()) return { kind: 'symlink' };
  // A folder above it may be a symlink (lstat follows those): then it is not in home.
  try {
    const parent = await realpath(dirname(path));
    if (parent !== dirname(path)) return { kind: 'symlink' };
  } catch {
    return { kind: 'absent' };
  }
  if (rel.endsWith('/') !== st.isDirectory()) return { kind: 'absent' };
  if (!st.isFile() && !st.isDirectory()) return { kind: 'other' };
  return { kind: 'entry', entry: entryOf(st) };
}

/** Every file and folder under `dir` (relative to home), by lstat; symlinks reported, not followed. */
export async function scanTree(
  homeReal: string,
  isExcluded: IsExcluded,
  onSymlink: (rel: string) => void,
  under = '',
): Promise<Map<string, LocalEntry>> {
  const out = new Map<string, LocalEntry>();
  const stack = [under];
  while (stack.length > 0) {
    const dir = stack.pop() as string;
    let names: string[];
    try {
      names = await readdir(join(homeReal, dir));
    } catch {
      continue; // gone meanwhile
    }
    for (const name of names) {
      let rel = dir + name;
      if (isExcluded(rel)) continue;
      let st: Stats;
      try {
        st = await lstat(join(homeReal, rel));
      } catch {
        continue;
      }
      if (st.isSymbolicLink()) {
        onSymlink(rel);
        continue;
      }
      if (st.isDirectory()) {
        rel += '/';
        stack.push(rel);
      } else if (!st.isFile()) continue;
      out.set(rel, entryOf(st));
    }
  }
  return out;
}

/** A local file's MD5 in hex (an S3 single-part ETag), read as a stream. */
export const md5File = (path: string) =>
  new Promise<string>((resolve, reject) => {
    const h = createHash('md5');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('error', reject)
      .on('end', () => resolve(h.digest('hex')));
  });
