// One object to a local file: written to a temporary file under <home>/.s3sync/tmp
// (same volume, never synced), then renamed over the name, with the mtime the
// uploader kept (else the object's LastModified). The rename happens only if the
// local file is still what the decision saw, so a write made meanwhile is never
// overwritten.
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, utimes } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { bareEtag } from './s3.ts';

export interface Downloaded {
  etag: string;
  size: number;
}

export async function downloadFile(
  client: S3Client,
  bucket: string,
  key: string,
  homeReal: string,
  rel: string,
  stillAsSeen: () => Promise<boolean>,
  onProgress: () => void,
): Promise<Downloaded | 'changed'> {
  const tmpDir = join(homeReal, '.s3sync', 'tmp');
  await mkdir(tmpDir, { recursive: true });
  const tmp = join(tmpDir, `${process.pid}-${Math.random().toString(36).slice(2)}`);
  try {
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const body = out.Body as Readable;
    body.on('data', onProgress);
    await pipeline(body, createWriteStream(tmp));
    const meta = Number(out.Metadata?.mtime);
    const mtime = out.Metadata?.mtime && Number.isFinite(meta) ? new Date(meta) : out.LastModified;
    if (mtime) await utimes(tmp, mtime, mtime);
    if (!(await stillAsSeen())) return 'changed';
    await mkdir(dirname(join(homeReal, rel)), { recursive: true });
    await rename(tmp, join(homeReal, rel));
    return { etag: bareEtag(out.ETag), size: out.ContentLength ?? 0 };
  } finally {
    await rm(tmp, { force: true });
  }
}
