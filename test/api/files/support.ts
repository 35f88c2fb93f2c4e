// Shared by the files tests: the API over a fresh database with its files bucket
// in a real S3 (ecs-local's endpoint, which verifies every signature and presigned
// URL before its in-process s3rver; or a raw s3rver), tokens for an admin, alice
// and bob, and helpers that move bytes through the presigned URLs with plain
// fetch, as the web UI and the CLI do.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import type { ApiConfig } from '../../../api/index.ts';
import { type EcsLocal, startEcsLocal } from '../../../ecs-local/index.ts';
import { startS3rver, type TestS3 } from '../../support/s3rver.ts';
import { BASE, type Harness, type Json, type Sent, send, startHarness } from '../support.ts';

export const FILES = `${BASE}/files`;

export const BUCKET = 'berth-files';
export const UI_ORIGIN = 'http://localhost:8000';

export interface FilesHarness extends Harness {
  s3: TestS3;
  /** Set when S3 is ecs-local's (faults, its admin endpoint). */
  ecsLocal?: EcsLocal;
}

/** ecs-local with S3 on (its data in a fresh folder), shaped as a TestS3. */
export async function startEcsLocalS3(): Promise<TestS3 & { ecsLocal: EcsLocal }> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-files-s3-'));
  const ecsLocal = await startEcsLocal({
    port: 0,
    throttling: false,
    addressOctet: 100 + Math.floor(Math.random() * 150),
    s3: { directory: join(dir, 's3'), buckets: [{ name: BUCKET, corsOrigins: [UI_ORIGIN] }] },
  });
  const region = 'eu-west-2';
  return {
    ecsLocal,
    url: ecsLocal.url,
    bucket: BUCKET,
    credentials: ecsLocal.credentials,
    region,
    client: () =>
      new S3Client({
        endpoint: ecsLocal.url,
        forcePathStyle: true,
        region,
        credentials: ecsLocal.credentials,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      }),
    async close() {
      await ecsLocal.close(500);
      await rm(dir, { recursive: true, force: true });
    },
  };
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

/** The API with files on, over ecs-local's S3 (default) or a raw s3rver. */
export async function startFilesHarness(
  config: Partial<ApiConfig> = {},
  s3Kind: 'ecs-local' | 's3rver' = 'ecs-local',
): Promise<FilesHarness> {
  const s3 = s3Kind === 'ecs-local' ? await startEcsLocalS3() : await startS3rver();
  const h = await startHarness({ ...filesConfig(s3), ...config });
  return {
    ...h,
    s3,
    ...('ecsLocal' in s3 ? { ecsLocal: s3.ecsLocal as EcsLocal } : {}),
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
