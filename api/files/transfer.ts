// Downloads and uploads go straight between the client and S3 with URLs the API
// presigns for one key in the caller's home (the method, the key and, for a
// single PUT, the length are in the signature). Large files are multipart: the
// API starts the upload, presigns each part's PUT and completes it. An upload id
// is bound to its key by a ticket object outside every home
// (`berth-uploads/<sha256(key, uploadId)>`, written when the upload starts), so
// an id issued for one user's key is useless with another's path, whatever the
// S3 implementation checks itself.
import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { ApiError } from '../../crds/index.ts';
import type { Home } from './home.ts';
import { folderExists, headFile } from './objects.ts';
import { MAX_PARTS } from './requests.ts';
import type { FilesStore } from './s3.ts';

/** Up to this size a file is one presigned PUT; above it, multipart. */
export const SINGLE_PUT_MAX_BYTES = 16 * 1024 * 1024;
/** The smallest part berth asks for (S3's minimum is 5 MiB). */
export const MIN_PART_BYTES = 8 * 1024 * 1024;
/** Where upload tickets live: outside `home/`, so no user's role can write one. */
export const UPLOAD_TICKETS = 'berth-uploads/';

const MIB = 1024 * 1024;

/** A part size (whole MiB, at least 8 MiB) that keeps the parts at or under 10,000. */
export function partSizeFor(size: number): number {
  const least = Math.ceil(size / MAX_PARTS / MIB) * MIB;
  return Math.max(MIN_PART_BYTES, least);
}

function ticketKey(key: string, uploadId: string): string {
  return `${UPLOAD_TICKETS}${createHash('sha256').update(`${key}\n${uploadId}`).digest('hex')}`;
}

function noSuchUpload(path: string): ApiError {
  return new ApiError(
    'NotFound',
    `no upload with that uploadId is in progress for ${JSON.stringify(path)}`,
    { kind: 'files', causes: [{ field: 'uploadId', message: 'not an upload of this path' }] },
  );
}

async function checkTicket(s3: FilesStore, key: string, path: string, uploadId: string) {
  if (!(await headFile(s3, ticketKey(key, uploadId)))) throw noSuchUpload(path);
}

/** RFC 6266: an ASCII fallback and the UTF-8 name. */
export function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

export async function presignDownload(s3: FilesStore, home: Home, path: string) {
  const key = home.key(path);
  const head = await headFile(s3, key);
  if (!head)
    throw new ApiError('NotFound', `file ${JSON.stringify(path)} does not exist`, {
      kind: 'files',
      causes: [{ field: 'path', message: 'no such file' }],
    });
  const name = path.slice(path.lastIndexOf('/') + 1);
  const signed = await s3.presign(
    new GetObjectCommand({
      Bucket: s3.bucket,
      Key: key,
      ResponseContentDisposition: attachment(name),
    }),
  );
  return { ...signed, size: head.ContentLength ?? 0 };
}

function exists(path: string, what: string): ApiError {
  return new ApiError(
    'AlreadyExists',
    `${what} ${JSON.stringify(path)} already exists${what === 'file' ? '; pass overwrite: true to replace it' : ''}`,
    {
      kind: 'files',
      name: path.slice(0, 253),
      causes: [{ field: 'path', message: `a ${what} is there` }],
    },
  );
}

/** Refuses a target where a folder is, or (unless overwrite) a file. */
export async function checkTarget(
  s3: FilesStore,
  home: Home,
  path: string,
  overwrite: boolean,
  field = 'path',
): Promise<void> {
  const clash = (what: string) => {
    const e = exists(path, what);
    e.details!.causes![0]!.field = field;
    return e;
  };
  if (await folderExists(s3, home.folder(path))) throw clash('folder');
  if (!overwrite && (await headFile(s3, home.key(path)))) throw clash('file');
}

export async function startUpload(
  s3: FilesStore,
  home: Home,
  body: { path: string; size: number; overwrite?: boolean | undefined },
) {
  const key = home.key(body.path);
  await checkTarget(s3, home, body.path, body.overwrite ?? false);
  if (body.size <= SINGLE_PUT_MAX_BYTES) {
    const signed = await s3.presign(
      new PutObjectCommand({ Bucket: s3.bucket, Key: key, ContentLength: body.size }),
      new Set(['content-length']),
    );
    return { kind: 'single' as const, url: signed.url, headers: {}, expiresAt: signed.expiresAt };
  }
  const created = await s3.client.send(
    new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key: key }),
  );
  const uploadId = created.UploadId;
  if (!uploadId) throw new Error('S3 started a multipart upload without an UploadId');
  await s3.client.send(
    new PutObjectCommand({
      Bucket: s3.bucket,
      Key: ticketKey(key, uploadId),
      Body: new Uint8Array(0),
    }),
  );
  const partSize = partSizeFor(body.size);
  return {
    kind: 'multipart' as const,
    uploadId,
    partSize,
    partCount: Math.ceil(body.size / partSize),
  };
}

export async function presignParts(
  s3: FilesStore,
  home: Home,
  body: { path: string; uploadId: string; partNumbers: number[] },
) {
  const key = home.key(body.path);
  await checkTicket(s3, key, body.path, body.uploadId);
  let expiresAt = '';
  const parts = [];
  for (const partNumber of body.partNumbers) {
    const signed = await s3.presign(
      new UploadPartCommand({
        Bucket: s3.bucket,
        Key: key,
        UploadId: body.uploadId,
        PartNumber: partNumber,
      }),
    );
    expiresAt = signed.expiresAt;
    parts.push({ partNumber, url: signed.url });
  }
  return { parts, expiresAt };
}

export async function completeUpload(
  s3: FilesStore,
  home: Home,
  body: {
    path: string;
    uploadId?: string | undefined;
    parts?: { partNumber: number; etag: string }[] | undefined;
  },
): Promise<{ path: string; size: number; etag: string }> {
  const key = home.key(body.path);
  if (body.uploadId) {
    if (!body.parts)
      throw new ApiError('BadRequest', 'a multipart upload is completed with its parts', {
        causes: [{ field: 'parts', message: 'must list the uploaded parts with their ETags' }],
      });
    await checkTicket(s3, key, body.path, body.uploadId);
    const parts = [...body.parts].sort((a, b) => a.partNumber - b.partNumber);
    await s3.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: s3.bucket,
        Key: key,
        UploadId: body.uploadId,
        MultipartUpload: {
          Parts: parts.map((p) => ({
            PartNumber: p.partNumber,
            ETag: p.etag.startsWith('"') ? p.etag : `"${p.etag}"`,
          })),
        },
      }),
    );
    await s3.client.send(
      new DeleteObjectCommand({ Bucket: s3.bucket, Key: ticketKey(key, body.uploadId) }),
    );
  } else if (body.parts) {
    throw new ApiError('BadRequest', 'parts belong to a multipart upload', {
      causes: [{ field: 'uploadId', message: 'must be given with parts' }],
    });
  }
  const head = await headFile(s3, key);
  if (!head)
    throw new ApiError('NotFound', `nothing was uploaded to ${JSON.stringify(body.path)}`, {
      kind: 'files',
      causes: [{ field: 'path', message: 'no such file' }],
    });
  return {
    path: body.path,
    size: head.ContentLength ?? 0,
    etag: (head.ETag ?? '').replace(/^"|"$/g, ''),
  };
}

export async function abortUpload(
  s3: FilesStore,
  home: Home,
  body: { path: string; uploadId: string },
): Promise<void> {
  const key = home.key(body.path);
  await checkTicket(s3, key, body.path, body.uploadId);
  try {
    await s3.client.send(
      new AbortMultipartUploadCommand({ Bucket: s3.bucket, Key: key, UploadId: body.uploadId }),
    );
  } catch (err) {
    // s3rver (ecs-local's S3) has no AbortMultipartUpload; there the ticket's
    // deletion below is what ends the upload for berth (its parts stay on disk).
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status !== 405 && status !== 501) throw err;
  }
  await s3.client.send(
    new DeleteObjectCommand({ Bucket: s3.bucket, Key: ticketKey(key, body.uploadId) }),
  );
}
