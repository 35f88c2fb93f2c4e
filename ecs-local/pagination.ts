// Opaque nextToken values. A token remembers a position (a sequence number), not
// an offset, so tasks that change state between pages do not shift the pages.
import { invalidParameter } from './protocol.ts';

function encodeToken(position: number): string {
  return Buffer.from(JSON.stringify({ p: position })).toString('base64url');
}

function decodeToken(token: string | undefined): number {
  if (token === undefined) return 0;
  try {
    const p = (JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { p?: unknown }).p;
    if (typeof p === 'number' && Number.isInteger(p) && p >= 0) return p;
  } catch {
    // fall through
  }
  throw invalidParameter('Invalid nextToken.');
}

/** One page of `items` after `position` (exclusive), ordered by `key`. */
export function page<T>(
  items: T[],
  key: (item: T) => number,
  nextToken: string | undefined,
  maxResults: number,
): { items: T[]; nextToken: string | undefined } {
  const after = decodeToken(nextToken);
  const rest = items.filter((i) => key(i) > after);
  const slice = rest.slice(0, maxResults);
  const more = rest.length > slice.length;
  return { items: slice, nextToken: more ? encodeToken(key(slice.at(-1)!)) : undefined };
}
