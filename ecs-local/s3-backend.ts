// s3rver, hosted inside ecs-local's process: its Koa app's request handler, never
// a port of its own, so nothing reaches it but through the S3 front (which
// authenticates and authorizes every request first). Its data lives on disk under
// the configured directory and survives restarts.
//
// Two things are added to it: objects are written atomically (to a temporary
// file, renamed into place once the body has fully arrived, so an upload cut
// off half-way never leaves a partial object visible), and the multipart
// operations it lacks (AbortMultipartUpload, ListParts) plus the check that an
// upload ID belongs to the key it is used with. It also lends its files to the
// front's own ListObjectsV2 (s3-list.ts).
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ListSource } from './s3-list.ts';

interface StoredObject {
  bucket: string;
  key: string;
  content: Readable | Buffer;
  metadata: Record<string, string>;
}

interface FilesystemStore {
  getBucket(bucket: string): Promise<unknown>;
  getBucketPath(bucket: string): string;
  getMetadata(bucket: string, key: string): Promise<Record<string, string>>;
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  putMetadata(
    bucket: string,
    key: string,
    metadata: Record<string, string>,
    md5?: string,
  ): Promise<void>;
  putBucket(bucket: string): Promise<unknown>;
  putObject(object: StoredObject): Promise<{ size: number; md5: string }>;
}

interface S3rverApp {
  store: FilesystemStore;
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
}

type S3rverClass = new (options: Record<string, unknown>) => S3rverApp;

const S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass;

export interface UploadPart {
  partNumber: number;
  size: number;
  etag: string;
  lastModified: Date;
}

export const UPLOAD_ID_RE = /^[0-9a-f]{32}$/;

export class S3Backend implements ListSource {
  readonly #app: S3rverApp;
  readonly #handler: (req: IncomingMessage, res: ServerResponse) => void;

  private constructor(app: S3rverApp) {
    this.#app = app;
    this.#handler = app.callback();
  }

  static async start(directory: string, buckets: readonly string[]): Promise<S3Backend> {
    await mkdir(directory, { recursive: true });
    const app = new S3rver({ directory, silent: true, vhostBuckets: false });
    makeWritesAtomic(app.store);
    for (const name of buckets) await app.store.putBucket(name);
    return new S3Backend(app);
  }

  /** Hands a checked request (auth stripped, path canonical) to s3rver. */
  forward(req: IncomingMessage, res: ServerResponse): void {
    this.#handler(req, res);
  }

  async bucketPath(bucket: string): Promise<string | undefined> {
    if (!(await this.#app.store.getBucket(bucket))) return undefined;
    return this.#app.store.getBucketPath(bucket);
  }

  async describe(
    bucket: string,
    key: string,
  ): Promise<{ size: number; etag: string; lastModified: Date } | undefined> {
    try {
      const meta = await this.#app.store.getMetadata(bucket, key);
      return {
        size: Number(meta['content-length']),
        etag: String(meta.etag),
        lastModified: new Date(String(meta['last-modified'])),
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  #uploadDir(bucket: string, uploadId: string): string {
    return join(this.#app.store.getResourcePath(bucket, undefined, 'uploads'), uploadId);
  }

  /** Whether `uploadId` is an upload in progress for exactly this bucket and key. */
  async uploadMatches(bucket: string, key: string, uploadId: string): Promise<boolean> {
    if (!UPLOAD_ID_RE.test(uploadId)) return false;
    try {
      return (await readFile(join(this.#uploadDir(bucket, uploadId), 'key'), 'utf8')) === key;
    } catch {
      return false;
    }
  }

  /** AbortMultipartUpload: removes the upload's parts. */
  async abortUpload(bucket: string, uploadId: string): Promise<void> {
    await rm(this.#uploadDir(bucket, uploadId), { recursive: true, force: true });
  }

  /** ListParts: the parts uploaded so far, by number. */
  async listParts(bucket: string, uploadId: string): Promise<UploadPart[]> {
    const dir = this.#uploadDir(bucket, uploadId);
    const parts: UploadPart[] = [];
    for (const name of await readdir(dir)) {
      if (!/^\d+$/.test(name)) continue;
      const info = await stat(join(dir, name));
      const md5 = await readFile(join(dir, `${name}.md5`), 'utf8').catch(() => '');
      parts.push({
        partNumber: Number(name),
        size: info.size,
        etag: `"${md5}"`,
        lastModified: info.mtime,
      });
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }
}

/**
 * s3rver writes an object straight to its final file; a body cut off half-way
 * would leave a partial object. Write to a temporary file next to it (a name its
 * listing ignores) and rename it into place only once the body has arrived.
 */
function makeWritesAtomic(store: FilesystemStore): void {
  store.putObject = async (object) => {
    const objectPath = store.getResourcePath(object.bucket, object.key, 'object');
    await mkdir(dirname(objectPath), { recursive: true });
    const partial = `${objectPath}.${randomBytes(6).toString('hex')}.partial`;
    const md5 = createHash('md5');
    let size = 0;
    const source = Buffer.isBuffer(object.content)
      ? Readable.from([object.content])
      : object.content;
    try {
      await pipeline(
        source,
        new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            md5.update(chunk);
            size += chunk.length;
            callback(null, chunk);
          },
        }),
        createWriteStream(partial),
      );
    } catch (err) {
      await rm(partial, { force: true });
      throw err;
    }
    const digest = md5.digest('hex');
    await store.putMetadata(object.bucket, object.key, object.metadata, digest);
    await rename(partial, objectPath);
    return { size, md5: digest };
  };
}
