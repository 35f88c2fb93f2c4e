// GET …/files?path=&limit=&continue=: one folder of the caller's home, a page at
// a time. S3 lists with Delimiter "/", so subfolders are its CommonPrefixes (and
// a folder made on purpose is a zero-byte "name/" marker, itself a prefix). The
// continue token wraps S3's continuation token with the folder it belongs to; the
// listing prefix always comes from the caller's home, so no token can reach
// outside it.
import { ListObjectsV2Command, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { ApiError } from '../../crds/index.ts';
import type { Home } from './home.ts';
import { bareFolder } from './requests.ts';
import type { FilesStore } from './s3.ts';

export interface FileItem {
  name: string;
  path: string;
  type: 'file' | 'folder';
  size?: number;
  lastModified?: string;
  etag?: string;
}

export interface FileList {
  path: string;
  items: FileItem[];
  continue?: string;
}

const DEFAULT_LIMIT = 1000;

function badContinue(): ApiError {
  return new ApiError(
    'BadRequest',
    'invalid continue token: not one this folder\'s listing returned; start again without "continue"',
    { causes: [{ field: 'continue', message: "not a token this folder's listing returned" }] },
  );
}

function encodeContinue(folder: string, s3Token: string): string {
  return Buffer.from(JSON.stringify({ v: 1, f: folder, t: s3Token })).toString('base64url');
}

function decodeContinue(token: string, folder: string): string {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw badContinue();
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw badContinue();
  }
  const r = raw as { v?: unknown; f?: unknown; t?: unknown };
  if (r?.v !== 1 || r.f !== folder || typeof r.t !== 'string' || !r.t || r.t.length > 2048)
    throw badContinue();
  return r.t;
}

const stripQuotes = (etag: string | undefined) => etag?.replace(/^"|"$/g, '');
const byName = (a: FileItem, b: FileItem) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export async function listFolder(
  s3: FilesStore,
  home: Home,
  rawPath: string,
  opts: { limit?: number; continue?: string },
): Promise<FileList> {
  const folder = bareFolder(rawPath);
  const prefix = home.folder(folder);
  const token = opts.continue ? decodeContinue(opts.continue, folder) : undefined;
  const out: ListObjectsV2CommandOutput = await s3.client.send(
    new ListObjectsV2Command({
      Bucket: s3.bucket,
      Prefix: prefix,
      Delimiter: '/',
      MaxKeys: opts.limit ?? DEFAULT_LIMIT,
      ...(token ? { ContinuationToken: token } : {}),
    }),
  );
  const folders: FileItem[] = [];
  const files: FileItem[] = [];
  let marker = false;
  for (const p of out.CommonPrefixes ?? []) {
    // Never trust the store to have kept to the prefix.
    if (!p.Prefix?.startsWith(prefix) || p.Prefix === prefix) continue;
    const path = home.pathOf(p.Prefix).slice(0, -1);
    folders.push({ name: path.slice(folder ? folder.length + 1 : 0), path, type: 'folder' });
  }
  for (const o of out.Contents ?? []) {
    if (!o.Key?.startsWith(prefix)) continue;
    if (o.Key === prefix) {
      marker = true; // the folder's own marker
      continue;
    }
    const path = home.pathOf(o.Key);
    files.push({
      name: path.slice(folder ? folder.length + 1 : 0),
      path,
      type: 'file',
      size: o.Size ?? 0,
      ...(o.LastModified ? { lastModified: o.LastModified.toISOString() } : {}),
      ...(o.ETag ? { etag: stripQuotes(o.ETag)! } : {}),
    });
  }
  // A folder that is neither made on purpose nor holds anything does not exist.
  if (folder && !token && !marker && folders.length === 0 && files.length === 0)
    throw new ApiError('NotFound', `folder ${JSON.stringify(folder)} does not exist`, {
      kind: 'files',
      causes: [{ field: 'path', message: 'no such folder' }],
    });
  return {
    path: folder,
    items: [...folders.sort(byName), ...files.sort(byName)],
    ...(out.IsTruncated && out.NextContinuationToken
      ? { continue: encodeContinue(folder, out.NextContinuationToken) }
      : {}),
  };
}
