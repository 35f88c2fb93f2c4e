// Files: where a user's files live in the installation's bucket, and which paths
// inside their home a request may name. Shared by the API (which presigns only
// after checking a path), the CLI, the controllers (the file role's policy) and
// tests; the s3sync sidecar gets the prefix in its environment.
import { z } from 'zod';

/** S3's limit on a key, in UTF-8 bytes. */
export const S3_KEY_MAX_BYTES = 1024;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A user's home prefix: from their stable uid (never their name or email), so a
 * change of either keeps their files. Always ends with "/".
 */
export function homePrefix(uid: string): string {
  if (!UUID.test(uid)) throw new Error(`not a user uid: ${JSON.stringify(uid)}`);
  return `home/${uid}/`;
}

/** The longest path inside a home whose key still fits S3's 1,024 bytes. */
export const FILE_PATH_MAX_BYTES =
  S3_KEY_MAX_BYTES - homePrefix('00000000-0000-0000-0000-000000000000').length;

// Control characters (C0, DEL, C1) would be invisible in listings and break
// terminals; S3 accepts them, berth does not.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

// Escapes of ".", "/" and "\\": a layer that decodes them would see another path.
// Other escapes stay allowed: names such as "minutes%20v2.pdf" come from saved URLs.
const PATH_ESCAPE = /%(2e|2f|5c)/i;

function pathIssue(path: string, folder: boolean): string | undefined {
  if (path === '') return folder ? undefined : 'must name a file';
  if (path.startsWith('/')) return 'must be relative to your home folder (no leading "/")';
  if (CONTROL.test(path)) return 'must not contain control characters';
  if (path.includes('\\')) return 'must use "/" between folders, not "\\"';
  if (PATH_ESCAPE.test(path))
    return 'must not contain "%2e", "%2f" or "%5c" (send the path as it is, not URL-encoded)';
  if (Buffer.byteLength(path, 'utf8') > FILE_PATH_MAX_BYTES)
    return `must be at most ${FILE_PATH_MAX_BYTES} bytes in UTF-8 (S3 keys are at most ${S3_KEY_MAX_BYTES} with the home prefix)`;
  const body = folder && path.endsWith('/') ? path.slice(0, -1) : path;
  if (!folder && path.endsWith('/')) return 'must name a file, not a folder (no trailing "/")';
  for (const segment of body.split('/')) {
    if (segment === '') return 'must not contain empty folder names ("//")';
    if (segment === '.' || segment === '..') return 'must not contain "." or ".." folders';
  }
  if (body.normalize('NFC') !== body) return 'must be in Unicode normal form C';
  return undefined;
}

/** A file's path inside a home: relative, "/"-separated, no "." or "..", fits a key. */
export const filePath = z.string().superRefine((p, ctx) => {
  const issue = pathIssue(p, false);
  if (issue) ctx.addIssue({ code: 'custom', message: issue });
});

/** A folder's path inside a home: as a file's, "" for the home itself, "/" at the end allowed. */
export const folderPath = z.string().superRefine((p, ctx) => {
  const issue = pathIssue(p, true);
  if (issue) ctx.addIssue({ code: 'custom', message: issue });
});

/** The object key of a checked path (file or folder) in a home. */
export function fileKey(uid: string, path: string): string {
  return homePrefix(uid) + path;
}

/** A folder's listing prefix: the home prefix, then the folder with one "/". */
export function folderKey(uid: string, folder: string): string {
  if (folder === '') return homePrefix(uid);
  return homePrefix(uid) + (folder.endsWith('/') ? folder : `${folder}/`);
}

/** One entry of a files listing (the API's answer, the CLI's and the web UI's input). */
export interface FileItem {
  name: string;
  path: string;
  type: 'file' | 'folder';
  size?: number;
  lastModified?: string;
  etag?: string;
}

/** A page of a folder's listing: folders first, then files, by name. */
export interface FileList {
  path: string;
  items: FileItem[];
  continue?: string;
}
