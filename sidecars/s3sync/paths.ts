// Keys and local paths: which S3 keys are safe to write under home, and which
// local paths fit in a key. A relative path uses `/`; a folder's ends in `/`.
const MAX_KEY_BYTES = 1024; // S3's own limit
const MAX_NAME_BYTES = 255; // NAME_MAX on Linux
const MAX_PATH_BYTES = 4095; // PATH_MAX less the terminator

const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * The relative path for `key` under `prefix`, or why it is not safe to write in
 * home: absolute, `.`/`..` or empty segments, NUL, or names too long for the disk.
 */
export function relFromKey(prefix: string, key: string): { rel: string } | { skip: string } {
  if (!key.startsWith(prefix)) return { skip: 'outside the prefix' };
  const rel = key.slice(prefix.length);
  if (rel === '') return { skip: 'the prefix itself' };
  if (rel.includes('\0')) return { skip: 'contains NUL' };
  if (rel.startsWith('/')) return { skip: 'absolute path' };
  const segments = (rel.endsWith('/') ? rel.slice(0, -1) : rel).split('/');
  for (const s of segments) {
    if (s === '' || s === '.' || s === '..') return { skip: 'empty, "." or ".." segment' };
    if (bytes(s) > MAX_NAME_BYTES) return { skip: `a name over ${MAX_NAME_BYTES} bytes` };
  }
  if (bytes(rel) > MAX_PATH_BYTES) return { skip: `a path over ${MAX_PATH_BYTES} bytes` };
  return { rel };
}

/** The key for a local relative path, or why it cannot have one (over 1,024 bytes). */
export function keyFromRel(prefix: string, rel: string): { key: string } | { skip: string } {
  const key = prefix + rel;
  if (bytes(key) > MAX_KEY_BYTES) return { skip: `key over ${MAX_KEY_BYTES} bytes` };
  return { key };
}

export const isFolder = (rel: string) => rel.endsWith('/');

/** The folders above `rel`, nearest last: `a/b/c` -> `a/`, `a/b/`. */
export function parentFolders(rel: string): string[] {
  const segments = rel.replace(/\/$/, '').split('/');
  const out: string[] = [];
  for (let i = 1; i < segments.length; i++) out.push(`${segments.slice(0, i).join('/')}/`);
  return out;
}
