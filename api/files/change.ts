// Deleting, making folders and moving, inside the caller's home. S3 has no
// folders: a folder is the keys under `path/` (and, when made on purpose, a
// zero-byte `path/` marker), so deleting or moving one is done object by object:
// DeleteObjects in batches of 1,000, CopyObject then delete per object.
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { ApiError, FILE_PATH_MAX_BYTES } from '../../crds/index.ts';
import type { Home } from './home.ts';
import { folderExists, headFile, objectsUnder, type StoredObject } from './objects.ts';
import { bareFolder } from './requests.ts';
import type { FilesStore } from './s3.ts';
import { checkTarget } from './transfer.ts';

const DELETE_BATCH = 1000;
/** CopyObject's limit; larger objects would need UploadPartCopy. */
const COPY_MAX_BYTES = 5 * 1024 ** 3;

function notFound(path: string, field: string): ApiError {
  return new ApiError('NotFound', `${JSON.stringify(path)} does not exist in your home`, {
    kind: 'files',
    causes: [{ field, message: 'no such file or folder' }],
  });
}

async function deleteKeys(s3: FilesStore, keys: string[]): Promise<void> {
  for (let i = 0; i < keys.length; i += DELETE_BATCH) {
    const batch = keys.slice(i, i + DELETE_BATCH);
    const out = await s3.client.send(
      new DeleteObjectsCommand({
        Bucket: s3.bucket,
        Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
      }),
    );
    if (out.Errors?.length) throw new Error(`S3 did not delete ${out.Errors.length} object(s)`);
  }
}

async function allUnder(s3: FilesStore, prefix: string): Promise<StoredObject[]> {
  const all: StoredObject[] = [];
  for await (const page of objectsUnder(s3, prefix)) all.push(...page);
  return all;
}

/** Deletes a file, or a folder (everything under it: needs `recursive` unless empty). */
export async function deletePath(
  s3: FilesStore,
  home: Home,
  rawPath: string,
  recursive: boolean,
): Promise<{ deleted: number; type: 'file' | 'folder' }> {
  const path = bareFolder(rawPath);
  if (!rawPath.endsWith('/') && (await headFile(s3, home.key(path)))) {
    await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: home.key(path) }));
    return { deleted: 1, type: 'file' };
  }
  const prefix = home.folder(path);
  const objects = await allUnder(s3, prefix);
  if (objects.length === 0) throw notFound(path, 'path');
  const contents = objects.filter((o) => o.key !== prefix);
  if (contents.length > 0 && !recursive)
    throw new ApiError(
      'Conflict',
      `folder ${JSON.stringify(path)} is not empty (${contents.length} object(s)); pass recursive=true to delete it with everything in it`,
      {
        kind: 'files',
        causes: [{ field: 'recursive', message: 'must be true for a folder that is not empty' }],
      },
    );
  await deleteKeys(
    s3,
    objects.map((o) => o.key),
  );
  return { deleted: objects.length, type: 'folder' };
}

/** Makes a folder on purpose: a zero-byte `path/` object. */
export async function makeFolder(s3: FilesStore, home: Home, rawPath: string): Promise<string> {
  const path = bareFolder(rawPath);
  if (await headFile(s3, home.key(path)))
    throw new ApiError('AlreadyExists', `a file ${JSON.stringify(path)} already exists`, {
      kind: 'files',
      causes: [{ field: 'path', message: 'a file is there' }],
    });
  if (await folderExists(s3, home.folder(path)))
    throw new ApiError('AlreadyExists', `folder ${JSON.stringify(path)} already exists`, {
      kind: 'files',
      causes: [{ field: 'path', message: 'a folder is there' }],
    });
  await s3.client.send(
    new PutObjectCommand({ Bucket: s3.bucket, Key: home.folder(path), Body: new Uint8Array(0) }),
  );
  return path;
}

function tooBigToMove(): ApiError {
  return new ApiError(
    'Invalid',
    'files over 5 GiB cannot be moved by the API yet; download and upload them, or move them in a tool',
    { kind: 'files', causes: [{ field: 'from', message: 'holds a file over 5 GiB' }] },
  );
}

/** CopyObject's source: the bucket and the key, each segment URL-encoded. */
function copySource(bucket: string, key: string): string {
  return `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

async function moveObject(s3: FilesStore, from: StoredObject, toKey: string): Promise<void> {
  if (from.size > COPY_MAX_BYTES) throw tooBigToMove();
  await s3.client.send(
    new CopyObjectCommand({
      Bucket: s3.bucket,
      Key: toKey,
      CopySource: copySource(s3.bucket, from.key),
    }),
  );
  await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: from.key }));
}

/**
 * Moves (renames) a file or a folder to `to`, the new full path. A folder is
 * never moved into itself; an existing target is refused unless `overwrite`
 * (files) and a folder is never merged into one that exists.
 */
export async function movePath(
  s3: FilesStore,
  home: Home,
  body: { from: string; to: string; overwrite?: boolean | undefined },
): Promise<{ moved: number; type: 'file' | 'folder' }> {
  const from = bareFolder(body.from);
  const to = bareFolder(body.to);
  const refuse = (message: string, field = 'to') =>
    new ApiError('BadRequest', message, { causes: [{ field, message }] });
  if (from === to) throw refuse('must differ from "from"');
  const file = body.from.endsWith('/') ? undefined : await headFile(s3, home.key(from));
  if (file) {
    await checkTarget(s3, home, to, body.overwrite ?? false, 'to');
    await moveObject(s3, { key: home.key(from), size: file.ContentLength ?? 0 }, home.key(to));
    return { moved: 1, type: 'file' };
  }
  if (to.startsWith(`${from}/`)) throw refuse(`cannot move folder "${from}" into itself`);
  const fromPrefix = home.folder(from);
  const objects = await allUnder(s3, fromPrefix);
  if (objects.length === 0) throw notFound(from, 'from');
  const toPrefix = home.folder(to);
  const moves = objects.map((o) => ({ from: o, to: toPrefix + o.key.slice(fromPrefix.length) }));
  const tooLong = moves.find(
    (m) => Buffer.byteLength(home.pathOf(m.to), 'utf8') > FILE_PATH_MAX_BYTES,
  );
  if (tooLong)
    throw refuse(
      `moving there would make a path longer than ${FILE_PATH_MAX_BYTES} bytes (${JSON.stringify(home.pathOf(tooLong.to).slice(0, 64))}...)`,
    );
  if (await headFile(s3, home.key(to)))
    throw new ApiError('AlreadyExists', `a file ${JSON.stringify(to)} already exists`, {
      kind: 'files',
      causes: [{ field: 'to', message: 'a file is there' }],
    });
  if (await folderExists(s3, home.folder(to)))
    throw new ApiError(
      'AlreadyExists',
      `folder ${JSON.stringify(to)} already exists; folders are not merged`,
      { kind: 'files', causes: [{ field: 'to', message: 'a folder is there' }] },
    );
  if (moves.some((m) => m.from.size > COPY_MAX_BYTES)) throw tooBigToMove();
  for (const m of moves) await moveObject(s3, m.from, m.to);
  return { moved: moves.length, type: 'folder' };
}
