// The S3 side of the files endpoints: one client for the installation's bucket
// (BERTH_S3_* settings; ecs-local's key pair locally, else the SDK's default
// chain), presigning, and how an S3 failure reaches the caller: a 404 when the
// object is not there, otherwise a 503 that names no URL, key or signature.
import {
  type GetObjectCommand,
  type PutObjectCommand,
  S3Client,
  S3ServiceException,
  type UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { ApiError } from '../../crds/index.ts';
import { type ApiConfig, ConfigError } from '../config.ts';

export interface FilesStore {
  client: S3Client;
  bucket: string;
  presignTtlMs: number;
  /** A presigned URL for `command`, valid for the configured time; signs `signed` headers too. */
  presign(
    command: GetObjectCommand | PutObjectCommand | UploadPartCommand,
    signed?: ReadonlySet<string>,
  ): Promise<{ url: string; expiresAt: string }>;
  close(): void;
}

/** The files store, or undefined when BERTH_FILES_BUCKET is not set (files are off). */
export function createFilesStore(config: ApiConfig): FilesStore | undefined {
  if (!config.filesBucket) return undefined;
  const keyId = config.s3AccessKeyId;
  const secret = config.s3SecretAccessKey;
  if (Boolean(keyId) !== Boolean(secret)) {
    throw new ConfigError('API settings', [
      'BERTH_S3_ACCESS_KEY_ID and BERTH_S3_SECRET_ACCESS_KEY go together: set both or neither',
    ]);
  }
  const client = new S3Client({
    region: config.s3Region,
    ...(config.s3Endpoint ? { endpoint: config.s3Endpoint, forcePathStyle: true } : {}),
    ...(keyId && secret ? { credentials: { accessKeyId: keyId, secretAccessKey: secret } } : {}),
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 2,
    // An unreachable S3 must answer the caller well inside the request timeout.
    requestHandler: { connectionTimeout: 3000, requestTimeout: 15_000 },
  });
  const ttlMs = config.filesPresignTtlMs;
  return {
    client,
    bucket: config.filesBucket,
    presignTtlMs: ttlMs,
    async presign(command, signed) {
      const expiresIn = Math.floor(ttlMs / 1000);
      // The presigner's generic type cannot take a union of commands; each is an S3 command.
      const url = await getSignedUrl(client, command as GetObjectCommand, {
        expiresIn,
        ...(signed ? { signableHeaders: new Set(signed) } : {}),
      });
      return { url, expiresAt: new Date(Date.now() + expiresIn * 1000).toISOString() };
    },
    close: () => client.destroy(),
  };
}

/** Whether an S3 error means the object (or upload) is not there. */
export function isNotFound(err: unknown): boolean {
  if (!(err instanceof S3ServiceException)) return false;
  return (
    err.name === 'NotFound' ||
    err.name === 'NoSuchKey' ||
    err.name === 'NoSuchUpload' ||
    err.$metadata?.httpStatusCode === 404
  );
}

/** What the log may say about an S3 failure: its name and status, never its message or request. */
export function s3ErrorSummary(err: unknown): { name: string; status?: number } {
  if (err instanceof S3ServiceException)
    return {
      name: err.name,
      ...(err.$metadata?.httpStatusCode ? { status: err.$metadata.httpStatusCode } : {}),
    };
  const e = err as { name?: unknown; code?: unknown };
  return {
    name: typeof e.code === 'string' ? e.code : typeof e.name === 'string' ? e.name : 'Error',
  };
}

/** The 503 a caller sees when S3 failed: no URL, key, secret or signature in it. */
export function storageUnavailable(): ApiError {
  return new ApiError(
    'ServiceUnavailable',
    'file storage is unavailable or refused the request; retry later',
    { retryAfterSeconds: 5 },
  );
}
