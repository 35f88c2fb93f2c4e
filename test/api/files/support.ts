// Shared by the files tests: the API over a fresh database with its files bucket
// in a real S3 (a raw s3rver here: S3 behaviour, not IAM), tokens for an admin,
// alice and bob, and helpers that move bytes through the presigned URLs with
// plain fetch, as the web UI and the CLI do.
import type { ApiConfig } from '../../../api/index.ts';
import { startS3rver, type TestS3 } from '../../support/s3rver.ts';
import { BASE, type Harness, type Json, type Sent, send, startHarness } from '../support.ts';

export const FILES = `${BASE}/files`;

export interface FilesHarness extends Harness {
  s3: TestS3;
}

/** S3 settings for the API, pointing at `s3`. */
export function filesConfig(s3: {
  url: string;
  bucket: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}): Partial<ApiConfig> {
  return {
    filesBucket: s3.bucket,
    s3Endpoint: s3.url,
    s3Region: s3.region,
    s3AccessKeyId: s3.credentials.accessKeyId,
    s3SecretAccessKey: s3.credentials.secretAccessKey,
  };
}

export async function startFilesHarness(config: Partial<ApiConfig> = {}): Promise<FilesHarness> {
  const s3 = await startS3rver();
  const h = await startHarness({ ...filesConfig(s3), ...config });
  return {
    ...h,
    s3,
    async close() {
      await h.close();
      await s3.close();
    },
  };
}

/** POST …/files/<what> with a JSON body. */
export function post(h: Harness, token: string, what: string, body: unknown): Promise<Sent> {
  return send(h, 'POST', `${FILES}/${what}`, { token, body });
}

export function list(h: Harness, token: string, query = ''): Promise<Sent> {
  return send(h, 'GET', `${FILES}${query ? `?${query}` : ''}`, { token });
}

export function remove(h: Harness, token: string, query: string): Promise<Sent> {
  return send(h, 'DELETE', `${FILES}?${query}`, { token });
}

export const q = (params: Record<string, string>) => new URLSearchParams(params).toString();

function expectOk(r: Sent, what: string): Json {
  if (r.status !== 200) throw new Error(`${what}: ${r.status} ${r.text}`);
  return r.body;
}

/** Uploads `bytes` to `path` the way a client does: upload, PUT(s) to S3, complete. */
export async function upload(
  h: Harness,
  token: string,
  path: string,
  bytes: Uint8Array<ArrayBuffer>,
  opts: { overwrite?: boolean } = {},
): Promise<Json> {
  const started = expectOk(
    await post(h, token, 'upload', { path, size: bytes.length, ...opts }),
    `upload ${path}`,
  );
  if (started.kind === 'single') {
    const put = await fetch(started.url, { method: 'PUT', headers: started.headers, body: bytes });
    if (!put.ok) throw new Error(`PUT ${path}: ${put.status} ${await put.text()}`);
    return expectOk(await post(h, token, 'upload/complete', { path }), `complete ${path}`);
  }
  const { uploadId, partSize, partCount } = started;
  const numbers = Array.from({ length: partCount }, (_, i) => i + 1);
  const parts: { partNumber: number; etag: string }[] = [];
  for (let i = 0; i < numbers.length; i += 100) {
    const urls = expectOk(
      await post(h, token, 'upload/parts', {
        path,
        uploadId,
        partNumbers: numbers.slice(i, i + 100),
      }),
      `parts of ${path}`,
    );
    for (const part of urls.parts) {
      const from = (part.partNumber - 1) * partSize;
      const res = await fetch(part.url, {
        method: 'PUT',
        body: bytes.subarray(from, from + partSize),
      });
      if (!res.ok) throw new Error(`PUT part ${part.partNumber}: ${res.status}`);
      parts.push({ partNumber: part.partNumber, etag: res.headers.get('etag') ?? '' });
    }
  }
  return expectOk(
    await post(h, token, 'upload/complete', { path, uploadId, parts }),
    `complete ${path}`,
  );
}

/** Downloads `path` through a presigned URL: the bytes and the response. */
export async function download(
  h: Harness,
  token: string,
  path: string,
): Promise<{ bytes: Buffer; res: Response }> {
  const signed = expectOk(await post(h, token, 'download', { path }), `download ${path}`);
  const res = await fetch(signed.url);
  if (!res.ok) throw new Error(`GET ${path}: ${res.status}`);
  return { bytes: Buffer.from(await res.arrayBuffer()), res };
}

/** Every item of a folder, following `continue`. */
export async function listAll(h: Harness, token: string, path: string, limit = 1000) {
  const items: Json[] = [];
  let token_: string | undefined;
  let pages = 0;
  do {
    const r = expectOk(
      await list(
        h,
        token,
        q({ path, limit: String(limit), ...(token_ ? { continue: token_ } : {}) }),
      ),
      `list ${path}`,
    );
    items.push(...r.items);
    token_ = r.continue;
    pages++;
  } while (token_);
  return { items, pages };
}
