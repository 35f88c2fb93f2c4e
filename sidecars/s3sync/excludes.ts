// What is never synced, either way: S3SYNC_EXCLUDE's globs and the local-only
// folder. A glob without `/` names a file or folder at any depth (`__pycache__`,
// `*.pyc`); one with `/` a path from home (`.local/share/Trash`). A path is
// excluded when it or any folder above it matches, so nothing under an excluded
// folder is ever watched, uploaded or downloaded.
import picomatch from 'picomatch';

export type IsExcluded = (relPath: string) => boolean;

export function excluder(globs: readonly string[], localOnlyFolder?: string): IsExcluded {
  const byName: ((s: string) => boolean)[] = [];
  const byPath: ((s: string) => boolean)[] = [];
  const all = [...globs, '.s3sync', ...(localOnlyFolder ? [`${localOnlyFolder}/`] : [])];
  for (const raw of all) {
    const glob = raw.replace(/^\.?\/+/, '').replace(/\/+$/, '');
    // A trailing `/` in the raw glob anchors a single name to home (the local-only folder).
    const anchored = glob.includes('/') || raw.endsWith('/');
    (anchored ? byPath : byName).push(picomatch(glob, { dot: true }));
  }
  return (relPath) => {
    const segments = relPath.replace(/\/+$/, '').split('/');
    let prefix = '';
    for (const segment of segments) {
      prefix = prefix ? `${prefix}/${segment}` : segment;
      if (byName.some((m) => m(segment)) || byPath.some((m) => m(prefix))) return true;
    }
    return false;
  };
}
