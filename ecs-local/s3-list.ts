// ListObjectsV2, answered by the front itself from s3rver's files on disk.
// s3rver's own v2 listing cannot serve: its continuation tokens are DES-encrypted
// (Node 24's OpenSSL refuses DES, so every truncated v2 listing was a 500), and
// it drops a folder that holds only folders from CommonPrefixes. The token here
// is opaque but only positions a listing (the last key or common prefix sent);
// what may be listed is decided by the prefix, authorized before this runs.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { S3Error } from './s3-xml.ts';

/** What the listing reads from s3rver's store. */
export interface ListSource {
  /** The folder holding the bucket's objects; undefined when there is no such bucket. */
  bucketPath(bucket: string): Promise<string | undefined>;
  /** An object's size, ETag (quoted) and modification time; undefined once it is gone. */
  describe(
    bucket: string,
    key: string,
  ): Promise<{ size: number; etag: string; lastModified: Date } | undefined>;
}

export interface ListV2Options {
  prefix: string;
  delimiter: string;
  maxKeys: number;
  startAfter: string | undefined;
  continuationToken: string | undefined;
  /** Resume after this key, or after every key under this common prefix. */
  after: { marker: string; isPrefix: boolean } | undefined;
  encodingType: 'url' | undefined;
  fetchOwner: boolean;
}

const OBJECT_SUFFIX = '._S3rver_object';
const MAX_KEYS = 1000;
const DESCRIBE_BATCH = 64;
// The parameters a ListObjectsV2 request may carry; with any other the request is
// something else (or an option this listing does not know) and goes to s3rver.
const V2_PARAMS = new Set([
  'list-type',
  'prefix',
  'delimiter',
  'max-keys',
  'continuation-token',
  'start-after',
  'encoding-type',
  'fetch-owner',
  'marker',
  'x-id',
]);
// s3rver's stand-in account, so fetch-owner answers what ListObjects (v1) does.
const OWNER = { ID: '123456789000', DisplayName: 'S3rver' };

const invalid = (message: string, name: string, value: string) =>
  new S3Error('InvalidArgument', `${message} (${name}: ${JSON.stringify(value)})`, 400);

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** Whether a bucket-level GET is a ListObjectsV2 this module answers. */
export function isListV2(query: Record<string, string>): boolean {
  return query['list-type'] === '2' && Object.keys(query).every((k) => V2_PARAMS.has(k));
}

export function encodeToken(marker: string, isPrefix: boolean): string {
  return Buffer.from(`${isPrefix ? 'P' : 'K'}${marker}`, 'utf8').toString('base64url');
}

function decodeToken(token: string): { marker: string; isPrefix: boolean } {
  const bad = () =>
    invalid('The continuation token provided is incorrect', 'continuation-token', token);
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw bad();
  const text = Buffer.from(token, 'base64url').toString('utf8');
  if (Buffer.from(text, 'utf8').toString('base64url') !== token) throw bad();
  const kind = text[0];
  const marker = text.slice(1);
  if ((kind !== 'K' && kind !== 'P') || marker === '') throw bad();
  return { marker, isPrefix: kind === 'P' };
}

/** The listing's options from its query, refused as S3 refuses them. */
export function parseListV2(query: Record<string, string>): ListV2Options {
  if (Object.hasOwn(query, 'marker')) {
    throw invalid(
      'Marker unsupported with REST.GET.BUCKET in list-type=2',
      'marker',
      query.marker!,
    );
  }
  let maxKeys = MAX_KEYS;
  const rawMax = query['max-keys'];
  if (rawMax !== undefined) {
    if (!/^\d{1,10}$/.test(rawMax) || Number(rawMax) > 2_147_483_647) {
      throw invalid('Provided max-keys not an integer or within integer range', 'max-keys', rawMax);
    }
    maxKeys = Math.min(MAX_KEYS, Number(rawMax));
  }
  const encoding = query['encoding-type'];
  if (encoding !== undefined && encoding !== 'url') {
    throw invalid('Invalid Encoding Method specified in Request', 'encoding-type', encoding);
  }
  const token = query['continuation-token'] || undefined;
  const startAfter = query['start-after'] || undefined;
  return {
    prefix: query.prefix ?? '',
    delimiter: query.delimiter ?? '',
    maxKeys,
    startAfter,
    continuationToken: token,
    after: token
      ? decodeToken(token)
      : startAfter
        ? { marker: startAfter, isPrefix: false }
        : undefined,
    encodingType: encoding === 'url' ? 'url' : undefined,
    fetchOwner: query['fetch-owner'] === 'true',
  };
}

/**
 * Every key under `prefix`, in S3's order (UTF-8 bytes), from s3rver's layout:
 * key `a/b` is the file `a/b._S3rver_object`, folder marker `a/` is
 * `a/._S3rver_object`. Only folders that can hold keys under the prefix and
 * after `after` are read.
 */
async function keysUnder(bucketPath: string, prefix: string, after: string | undefined) {
  const keys: string[] = [];
  const visit = async (dir: string, keyPrefix: string): Promise<void> => {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      throw err;
    }
    for (const entry of entries) {
      if (entry.isFile() && entry.name.endsWith(OBJECT_SUFFIX)) {
        const key = keyPrefix + entry.name.slice(0, -OBJECT_SUFFIX.length);
        if (key.startsWith(prefix)) keys.push(key);
      } else if (entry.isDirectory() && !entry.name.includes('._S3rver_')) {
        const sub = `${keyPrefix}${entry.name}/`;
        if (!sub.startsWith(prefix) && !prefix.startsWith(sub)) continue;
        // Every key under `sub` sorts before `after` unless `after` itself lies under it.
        if (after !== undefined && byteOrder(sub, after) < 0 && !after.startsWith(sub)) continue;
        await visit(join(dir, entry.name), sub);
      }
    }
  };
  // Start in the deepest folder the prefix names whole; no key has an empty segment.
  const dirPart = prefix.slice(0, prefix.lastIndexOf('/') + 1);
  const segments = dirPart.split('/').slice(0, -1);
  if (segments.some((s) => s === '' || s === '.' || s === '..')) return keys;
  await visit(join(bucketPath, ...segments), dirPart);
  return keys.sort(byteOrder);
}

export interface ListV2Page {
  contents: { key: string; size: number; etag: string; lastModified: Date }[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextToken: string | undefined;
}

export async function listObjectsV2(
  source: ListSource,
  bucket: string,
  opts: ListV2Options,
): Promise<ListV2Page> {
  const bucketPath = await source.bucketPath(bucket);
  if (bucketPath === undefined) {
    throw new S3Error('NoSuchBucket', 'The specified bucket does not exist', 404);
  }
  const { prefix, delimiter, maxKeys, after } = opts;
  const keys = maxKeys === 0 ? [] : await keysUnder(bucketPath, prefix, after?.marker);
  const picked: { value: string; isPrefix: boolean }[] = [];
  let isTruncated = false;
  for (const key of keys) {
    if (
      after &&
      (byteOrder(key, after.marker) <= 0 || (after.isPrefix && key.startsWith(after.marker)))
    )
      continue;
    const at = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
    const item =
      at < 0
        ? { value: key, isPrefix: false }
        : { value: key.slice(0, at + delimiter.length), isPrefix: true };
    // Keys sharing a common prefix are adjacent in order: one entry for the run.
    if (item.isPrefix && picked.at(-1)?.value === item.value) continue;
    if (picked.length === maxKeys) {
      isTruncated = true;
      break;
    }
    picked.push(item);
  }
  const contents: ListV2Page['contents'] = [];
  const objects = picked.filter((p) => !p.isPrefix);
  for (let i = 0; i < objects.length; i += DESCRIBE_BATCH) {
    const batch = objects.slice(i, i + DESCRIBE_BATCH);
    const described = await Promise.all(batch.map((o) => source.describe(bucket, o.value)));
    described.forEach((d, j) => {
      if (d) contents.push({ key: batch[j]!.value, ...d }); // else deleted since the walk
    });
  }
  const last = picked.at(-1);
  return {
    contents,
    commonPrefixes: picked.filter((p) => p.isPrefix).map((p) => p.value),
    isTruncated,
    nextToken: isTruncated && last ? encodeToken(last.value, last.isPrefix) : undefined,
  };
}

/** S3's url encoding-type: percent-encoded as a form value (space as "+"). */
const urlEncode = (text: string) => encodeURIComponent(text).replace(/%20/g, '+');

export function listV2Xml(
  bucket: string,
  opts: ListV2Options,
  page: ListV2Page,
): Record<string, unknown> {
  const enc = (text: string) => (opts.encodingType === 'url' ? urlEncode(text) : text);
  const result: Record<string, unknown> = {
    '@_xmlns': 'http://s3.amazonaws.com/doc/2006-03-01/',
    Name: bucket,
    Prefix: enc(opts.prefix),
  };
  if (opts.continuationToken) result.ContinuationToken = opts.continuationToken;
  if (page.nextToken) result.NextContinuationToken = page.nextToken;
  result.KeyCount = page.contents.length + page.commonPrefixes.length;
  result.MaxKeys = opts.maxKeys;
  if (opts.delimiter) result.Delimiter = enc(opts.delimiter);
  if (opts.encodingType) result.EncodingType = opts.encodingType;
  result.IsTruncated = page.isTruncated;
  if (opts.startAfter) result.StartAfter = enc(opts.startAfter);
  result.Contents = page.contents.map((o) => ({
    Key: enc(o.key),
    LastModified: o.lastModified.toISOString(),
    ETag: o.etag,
    Size: o.size,
    ...(opts.fetchOwner ? { Owner: OWNER } : {}),
    StorageClass: 'STANDARD',
  }));
  result.CommonPrefixes = page.commonPrefixes.map((p) => ({ Prefix: enc(p) }));
  return { ListBucketResult: result };
}
