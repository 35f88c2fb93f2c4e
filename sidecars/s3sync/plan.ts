// The three-way decision for one path: what is here, what is in S3, and what
// both last agreed on (the state). Pure, so each case is a unit test.
import type { Entry } from './sync-state.ts';

export interface LocalFile {
  size: number;
  mtimeMs: number;
}
export interface RemoteObject {
  size: number;
  etag: string;
}

export type Action =
  | 'none' // in step
  | 'forget' // gone from both sides: drop the state entry
  | 'upload'
  | 'download'
  | 'deleteLocal'
  | 'deleteRemote'
  // Both exist and both differ from the state (or there is none): equal content
  // is in step (record it), different content is a conflict. The caller compares.
  | 'compare';

export function localChanged(local: LocalFile, base: Entry): boolean {
  return local.size !== base.size || local.mtimeMs !== base.mtimeMs;
}

export function remoteChanged(remote: RemoteObject, base: Entry): boolean {
  return remote.size !== base.size || remote.etag !== base.etag;
}

export function plan(
  local: LocalFile | undefined,
  remote: RemoteObject | undefined,
  base: Entry | undefined,
): Action {
  if (!local && !remote) return base ? 'forget' : 'none';
  if (local && !remote) {
    if (!base) return 'upload'; // new here
    // Deleted in S3: follow, unless it changed here since (then keep it: upload).
    return localChanged(local, base) ? 'upload' : 'deleteLocal';
  }
  if (!local && remote) {
    if (!base) return 'download'; // new in S3
    return remoteChanged(remote, base) ? 'download' : 'deleteRemote';
  }
  if (local && remote && base) {
    const here = localChanged(local, base);
    const there = remoteChanged(remote, base);
    if (!here && !there) return 'none';
    if (here && !there) return 'upload';
    if (!here && there) return 'download';
  }
  return 'compare';
}
