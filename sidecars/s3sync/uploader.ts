// One file to S3, with its local mtime in `x-amz-meta-mtime`. Under the multipart
// threshold: one PutObject of the bytes read. At or over it: lib-storage's Upload
// streaming the file in parts (a few in flight), the part size grown so there are
// never more than 10,000 parts, so 5 GiB and beyond work in bounded memory. S3
// shows the object only once CompleteMultipartUpload succeeds; a failed upload is
// aborted, and one cut off by SIGKILL stays invisible (and is redone at start).
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { bareEtag } from './s3.ts';

const MiB = 1024 * 1024;
const MAX_PARTS = 10_000;

/** The part size for a file of `size` bytes: at least 8 MiB, at most 10,000 parts. */
export function partSizeFor(size: number): number {
  return Math.max(8 * MiB, Math.ceil(size / MAX_PARTS / MiB) * MiB);
}

export interface UploadRequest {
  bucket: string;
  key: string;
  path: string;
  size: number;
  mtimeMs: number;
  multipartThresholdBytes: number;
  partsInFlight: number;
  /** Called as bytes go out (so a long upload is not taken for a stuck one). */
  onProgress: () => void;
}

export async function uploadFile(client: S3Client, req: UploadRequest): Promise<string> {
  const Metadata = { mtime: String(req.mtimeMs) };
  if (req.size < req.multipartThresholdBytes) {
    const body = await readFile(req.path);
    const out = await client.send(
      new PutObjectCommand({
        Bucket: req.bucket,
        Key: req.key,
        Body: body,
        ContentLength: body.length,
        Metadata,
      }),
    );
    req.onProgress();
    return bareEtag(out.ETag);
  }
  const upload = new Upload({
    client,
    params: { Bucket: req.bucket, Key: req.key, Body: createReadStream(req.path), Metadata },
    partSize: partSizeFor(req.size),
    queueSize: req.partsInFlight,
    leavePartsOnError: false,
  });
  upload.on('httpUploadProgress', () => req.onProgress());
  const out = await upload.done();
  return bareEtag(out.ETag);
}
