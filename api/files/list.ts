// GET …/files?path=&limit=&continue=: one folder of the caller's home, a page at
// a time. S3 lists with Delimiter "/", so subfolders are its CommonPrefixes (and
// a folder made on purpose is a zero-byte "name/" marker, itself a prefix). Pages
// follow ListObjectsV2's continuation token: the continue token holds the folder,
// S3's token and the last key or prefix the page had, which must lie under that
// folder's prefix (so a token is good only for the home and folder it came from);
// the listing prefix always comes from the caller's home, so no token can reach
// outside it.
import { ListObjectsV2Command, type ListObjectsV2CommandOutput } from '@aws-sdk/client-s3';
import { ApiError, type FileItem, type FileList } from '../../crds/index.ts';
import type { Home } from './home.ts';
import { inSidecarFolder } from './marker.ts';
import { bareFolder } from './requests.ts';
import type { FilesStore } from './s3.ts';

const DEFAULT_LIMIT = 1000;

function badContinue(): ApiError {
  return new ApiError(
    'BadRequest',
    'invalid continue token: not one this folder\'s listing returned; start again without "continue"',
    { causes: [{ field: 'continue', message: "not a token this folder's listing returned" }] },
  );
}

interface ContinueToken {
  /** S3's continuation token. */
  t: string;
  /** The last key or prefix of the page, under the folder's prefix. */
  m: string;
}

function encodeContinue(folder: string, next: ContinueToken): string {
  return Buffer.from(JSON.stringify({ v: 2, f: folder, m: next.m, t: next.t })).toString(
    'base64url',
  );
}

function decodeContinue(token: string, folder: string, prefix: string): ContinueToken {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw badContinue();
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw badContinue();
  }
  const r = raw as { v?: unknown; f?: unknown; m?: unknown; t?: unknown };
  if (
    r?.v !== 2 ||
    r.f !== folder ||
    typeof r.m !== 'string' ||
    !r.m.startsWith(prefix) ||
    typeof r.t !== 'string' ||
    r.t === ''
  )
    throw badContinue();
  return { m: r.m, t: r.t };
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
  const token = opts.continue ? decodeContinue(opts.continue, folder, prefix) : undefined;
  const out: ListObjectsV2CommandOutput = await s3.client.send(
    new ListObjectsV2Command({
      Bucket: s3.bucket,
      Prefix: prefix,
      Delimiter: '/',
      MaxKeys: opts.limit ?? DEFAULT_LIMIT,
      ...(token ? { ContinuationToken: token.t } : {}),
    }),
  );
  const folders: FileItem[] = [];
  const files: FileItem[] = [];
  let marker = false;
  for (const p of out.CommonPrefixes ?? []) {
    // Never trust the store to have kept to the prefix.
    if (!p.Prefix?.startsWith(prefix) || p.Prefix === prefix) continue;
    const path = home.pathOf(p.Prefix).slice(0, -1);
    if (inSidecarFolder(path)) continue; // s3sync's own, never a user's
    folders.push({ name: path.slice(folder ? folder.length + 1 : 0), path, type: 'folder' });
  }
  for (const o of out.Contents ?? []) {
    if (!o.Key?.startsWith(prefix)) continue;
    if (o.Key === prefix) {
      marker = true; // the folder's own marker
      continue;
    }
    const path = home.pathOf(o.Key);
    if (inSidecarFolder(path)) continue;
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
  const seen = [
    ...(out.Contents ?? []).map((o) => o.Key ?? ''),
    ...(out.CommonPrefixes ?? []).map((p) => p.Prefix ?? ''),
  ]
    .filter((k) => k.startsWith(prefix))
    .sort();
  const last = seen.at(-1);
  const next =
    out.IsTruncated && out.NextContinuationToken && last
      ? { t: out.NextContinuationToken, m: last }
      : undefined;
  return {
    path: folder,
    items: [...folders.sort(byName), ...files.sort(byName)],
    ...(next && next.t !== token?.t ? { continue: encodeContinue(folder, next) } : {}),
  };
}
