// The name a conflicting local version moves to. The rule: S3's version keeps the
// name; the local one becomes `name (conflict 2026-12-03 10.15).ext` (UTC), with
// ` 2`, ` 3`... inside the brackets if that is taken, and is uploaded too, so both
// sides end with both versions and neither is lost.
import { posix } from 'node:path';

export function conflictName(rel: string, at: Date, n = 1): string {
  const dir = posix.dirname(rel);
  const base = posix.basename(rel);
  // A leading dot is part of the name (.bashrc), not an extension.
  const dot = base.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [base.slice(0, dot), base.slice(dot)] : [base, ''];
  const stamp = at.toISOString().slice(0, 16).replace('T', ' ').replace(':', '.');
  const name = `${stem} (conflict ${stamp}${n > 1 ? ` ${n}` : ''})${ext}`;
  return dir === '.' ? name : `${dir}/${name}`;
}
