// The S3 client as s3sync needs it, and the small calls on one key. Credentials
// come from the SDK's default chain (in a task: the task role through the
// container credentials endpoint); an endpoint (ecs-local) means path-style and
// checksums only where required.
import {
  DeleteObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { S3syncConfig } from './config.ts';

export function s3Client(
  config: Pick<S3syncConfig, 'endpoint' | 'region' | 'requestTimeoutMs' | 'concurrency'>,
): S3Client {
  return new S3Client({
    region: config.region,
    ...(config.endpoint
      ? {
          endpoint: config.endpoint,
          forcePathStyle: true,
          requestChecksumCalculation: 'WHEN_REQUIRED',
          responseChecksumValidation: 'WHEN_REQUIRED',
        }
      : {}),
    // The SDK's Node handler options: a request idle this long fails, so a
    // silent S3 turns into errors and retries rather than a hang.
    requestHandler: {
      connectionTimeout: Math.min(config.requestTimeoutMs, 10_000),
      requestTimeout: config.requestTimeoutMs,
      httpAgent: { keepAlive: true, maxSockets: config.concurrency * 4 },
      httpsAgent: { keepAlive: true, maxSockets: config.concurrency * 4 },
    },
    maxAttempts: 2,
  });
}

/** ETags as S3 writes them are quoted; we keep them bare. */
export const bareEtag = (etag: string | undefined) => (etag ?? '').replace(/^"|"$/g, '');

export interface Head {
  size: number;
  etag: string;
  /** The local mtime the uploader kept in `x-amz-meta-mtime`, if any. */
  mtimeMs?: number;
  lastModified?: Date;
  /** `x-amz-meta-writer`: who wrote the change marker (marker.ts). */
  writer?: string;
}

export async function headObject(
  client: S3Client,
  bucket: string,
  key: string,
): Promise<Head | undefined> {
  try {
    const h = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const meta = Number(h.Metadata?.mtime);
    return {
      size: h.ContentLength ?? 0,
      etag: bareEtag(h.ETag),
      mtimeMs: Number.isFinite(meta) && h.Metadata?.mtime ? meta : undefined,
      lastModified: h.LastModified,
      ...(h.Metadata?.writer ? { writer: h.Metadata.writer } : {}),
    };
  } catch (err) {
    if (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404) return undefined;
    throw err;
  }
}

export async function putFolder(client: S3Client, bucket: string, key: string): Promise<string> {
  const out = await client.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: new Uint8Array(0), ContentLength: 0 }),
  );
  return bareEtag(out.ETag);
}

export async function deleteObject(client: S3Client, bucket: string, key: string): Promise<void> {
  await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
}
