// The change marker the s3sync sidecars watch (sidecars/s3sync/marker.ts): after
// the API changed a home (an upload completed, a delete, a new folder, a move) it
// rewrites `<home>.s3sync/changed`, so every running tool of that user lists its
// home at once instead of at its next full listing (a minute). Best effort: a
// failed bump is logged and never fails the user's request. `.s3sync` is the
// sidecar's own folder: the listing hides it and no request may name a path in it.
import { randomUUID } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { Home } from './home.ts';
import { type FilesStore, s3ErrorSummary } from './s3.ts';

/** The s3sync sidecar's folder in every home. */
export const SIDECAR_FOLDER = '.s3sync';
const MARKER_PATH = `${SIDECAR_FOLDER}/changed`;

/** Whether a path (file or folder, "/" at the end or not) is the sidecar's folder or in it. */
export function inSidecarFolder(path: string): boolean {
  return path === SIDECAR_FOLDER || path.startsWith(`${SIDECAR_FOLDER}/`);
}

export interface WarnLog {
  warn(fields: object, message: string): void;
}

/** Rewrites the home's change marker: a timestamp and a random id (so its ETag changes). */
export async function bumpMarker(s3: FilesStore, home: Home, log: WarnLog): Promise<void> {
  const id = randomUUID();
  const body = JSON.stringify({ at: new Date().toISOString(), id });
  try {
    await s3.client.send(
      new PutObjectCommand({
        Bucket: s3.bucket,
        Key: home.key(MARKER_PATH),
        Body: body,
        ContentLength: Buffer.byteLength(body),
        ContentType: 'application/json',
        Metadata: { writer: `api-${id}` },
      }),
    );
  } catch (err) {
    log.warn(
      { s3: s3ErrorSummary(err) },
      'change marker not bumped; tools see the change at their next full listing',
    );
  }
}
