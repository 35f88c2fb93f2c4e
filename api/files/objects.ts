// Small S3 questions the endpoints ask before they act: is there a file at this
// key, is there anything under this folder prefix, every key under a prefix.
import {
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  ListObjectsV2Command,
} from '@aws-sdk/client-s3';
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
  const out = await s3.client.send(
    new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix, MaxKeys: 1 }),
  );
  return (out.KeyCount ?? out.Contents?.length ?? 0) > 0;
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
  let token: string | undefined;
  do {
    const out = await s3.client.send(
      new ListObjectsV2Command({
        Bucket: s3.bucket,
        Prefix: prefix,
        ...(token ? { ContinuationToken: token } : {}),
      }),
    );
    const page = (out.Contents ?? [])
      .filter((o) => o.Key?.startsWith(prefix))
      .map((o) => ({ key: o.Key!, size: o.Size ?? 0 }));
    if (page.length) yield page;
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
}
