// Small S3 questions the endpoints ask before they act: is there a file at this
// key, is there anything under this folder prefix, every key under a prefix.
// Listings use ListObjects (v1) with a Marker, which S3 and s3rver both page
// correctly: s3rver's v2 continuation tokens use DES, which Node 24's OpenSSL 3
// refuses, so any truncated v2 listing there fails with a 500.
import {
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsCommand,
} from '@aws-sdk/client-s3';
import { S3_KEY_MAX_BYTES } from '../../crds/index.ts';
import { type FilesStore, isNotFound } from './s3.ts';

export async function headFile(
  s3: FilesStore,
  key: string,
): Promise<HeadObjectCommandOutput | undefined> {
  try {
    return await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key }));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Whether any object (a marker or a file) is under `prefix` (which ends with "/"). */
export async function folderExists(s3: FilesStore, prefix: string): Promise<boolean> {
  // No key fits under a prefix of 1,024 bytes or more.
  if (Buffer.byteLength(prefix, 'utf8') >= S3_KEY_MAX_BYTES) return false;
  const out = await s3.client.send(
    new ListObjectsCommand({ Bucket: s3.bucket, Prefix: prefix, MaxKeys: 1 }),
  );
  return (out.Contents?.length ?? 0) > 0;
}

export interface StoredObject {
  key: string;
  size: number;
}

/** Every object under `prefix`, a page at a time, keys kept to the prefix. */
export async function* objectsUnder(
  s3: FilesStore,
  prefix: string,
): AsyncGenerator<StoredObject[]> {
  let marker: string | undefined;
  do {
    const out = await s3.client.send(
      new ListObjectsCommand({
        Bucket: s3.bucket,
        Prefix: prefix,
        ...(marker ? { Marker: marker } : {}),
      }),
    );
    const page = (out.Contents ?? [])
      .filter((o) => o.Key?.startsWith(prefix))
      .map((o) => ({ key: o.Key!, size: o.Size ?? 0 }));
    if (page.length) yield page;
    // Without a delimiter S3 sends no NextMarker: the last key is the marker.
    const last = page.at(-1)?.key;
    marker = out.IsTruncated && last && last !== marker ? last : undefined;
  } while (marker);
}
