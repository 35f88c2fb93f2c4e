// Moving bytes for `berth files cp`: straight between this machine and S3 with
// the URLs the API presigns, never through the API. Uploads up to the API's
// single-PUT size go in one PUT; larger ones in parts, several at a time.
// Downloads stream to a temporary file beside the target, renamed when whole,
// so an interrupted copy never leaves a truncated file under the real name.
// Presigned URLs are never printed: an S3 error shows only its code and message.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CliError } from '../errors.ts';
import { type FilesApi, REMOTE, type UploadPlan } from './files-remote.ts';

/** Parts in flight at once for one multipart upload. */
export const PART_CONCURRENCY = 4;
/**
 * Part URLs asked for at once (the API allows 100): few enough that they are used
 * well before they expire (15 minutes by default) on a slow connection.
 */
const PART_URL_BATCH = 16;
const ATTEMPTS = 3;

export interface Progress {
  start(label: string, total: number): void;
  add(bytes: number): void;
  done(): void;
}

/** A progress line rewritten in place on a terminal; silent otherwise. */
export function progressLine(stream: NodeJS.WriteStream = process.stderr): Progress {
  let label = '';
  let total = 0;
  let sent = 0;
  let last = 0;
  const draw = (force: boolean) => {
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    const pct = total ? Math.floor((sent / total) * 100) : 100;
    stream.write(`\r\x1b[K${label}  ${humanBytes(sent)} / ${humanBytes(total)}  ${pct}%`);
  };
  return {
    start(l, t) {
      label = l;
      total = t;
      sent = 0;
      if (stream.isTTY) draw(true);
    },
    add(bytes) {
      sent += bytes;
      if (stream.isTTY) draw(false);
    },
    done() {
      if (stream.isTTY) {
        draw(true);
        stream.write('\n');
      }
    },
  };
}

/** `512B`, `1.5Ki`, `20Mi`: binary units, as kubectl prints quantities. */
export function humanBytes(n: number): string {
  const units = ['B', 'Ki', 'Mi', 'Gi', 'Ti'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0
    ? `${v}B`
    : `${v < 10 ? v.toFixed(1).replace(/\.0$/, '') : Math.round(v)}${units[i]}`;
}

/** S3's error body says what went wrong in <Code> and <Message>; the URL stays out of it. */
async function s3Failure(what: string, res: Response): Promise<CliError> {
  const text = await res.text().catch(() => '');
  const code = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
  const detail = [code, message].filter(Boolean).join(': ');
  return new CliError(`${what}: S3 answered ${res.status}${detail ? ` (${detail})` : ''}`);
}

/** fetch, tried again on a network error or a 5xx; 4xx answers are final. */
async function fetchRetrying(url: string, init: RequestInit, signal?: AbortSignal) {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(url, { ...init, signal });
      if (res.status < 500 || attempt >= ATTEMPTS) return res;
      await res.body?.cancel();
    } catch (err) {
      if (signal?.aborted || attempt >= ATTEMPTS) throw err;
    }
    await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
  }
}

async function readRange(
  path: string,
  start: number,
  length: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const fh = await open(path, 'r');
  try {
    const buf = new Uint8Array(length);
    let off = 0;
    while (off < length) {
      const { bytesRead } = await fh.read(buf, off, length - off, start + off);
      if (bytesRead === 0) throw new CliError(`${path} got shorter while it was being copied`);
      off += bytesRead;
    }
    return buf;
  } finally {
    await fh.close();
  }
}

export interface UploadOptions {
  overwrite: boolean;
  progress?: Progress;
  signal?: AbortSignal;
}

/** Uploads one local file to a remote file path; returns its size. */
export async function uploadFile(
  api: FilesApi,
  local: string,
  remote: string,
  opts: UploadOptions,
): Promise<number> {
  const size = (await stat(local)).size;
  const what = `uploading ${local} to ${REMOTE}${remote}`;
  const plan = await api.post<UploadPlan>('/upload', {
    path: remote,
    size,
    overwrite: opts.overwrite,
  });
  opts.progress?.start(`${basename(local)} -> ${REMOTE}${remote}`, size);
  if (plan.kind === 'single') {
    const body = await readRange(local, 0, size);
    const res = await fetchRetrying(
      plan.url,
      { method: 'PUT', headers: plan.headers ?? {}, body },
      opts.signal,
    );
    if (!res.ok) throw await s3Failure(what, res);
    await res.body?.cancel();
    opts.progress?.add(size);
    await api.post('/upload/complete', { path: remote });
  } else {
    try {
      const parts = await uploadParts(api, local, remote, size, plan, what, opts);
      await api.post('/upload/complete', { path: remote, uploadId: plan.uploadId, parts });
    } catch (err) {
      // An unfinished multipart upload costs storage until it is aborted.
      await api.post('/upload/abort', { path: remote, uploadId: plan.uploadId }).catch(() => {});
      throw err;
    }
  }
  opts.progress?.done();
  return size;
}

async function uploadParts(
  api: FilesApi,
  local: string,
  remote: string,
  size: number,
  plan: Extract<UploadPlan, { kind: 'multipart' }>,
  what: string,
  opts: UploadOptions,
): Promise<{ partNumber: number; etag: string }[]> {
  const etags: { partNumber: number; etag: string }[] = [];
  for (let first = 1; first <= plan.partCount; first += PART_URL_BATCH) {
    const numbers: number[] = [];
    for (let n = first; n < first + PART_URL_BATCH && n <= plan.partCount; n++) numbers.push(n);
    const { parts } = await api.post<{ parts: { partNumber: number; url: string }[] }>(
      '/upload/parts',
      { path: remote, uploadId: plan.uploadId, partNumbers: numbers },
    );
    const queue = [...parts];
    const worker = async () => {
      for (let part = queue.shift(); part; part = queue.shift()) {
        const start = (part.partNumber - 1) * plan.partSize;
        const length = Math.min(plan.partSize, size - start);
        const body = await readRange(local, start, length);
        let res = await fetchRetrying(part.url, { method: 'PUT', body }, opts.signal);
        if (res.status === 403) {
          // Most likely the URL expired while earlier parts went: ask for a fresh one, once.
          await res.body?.cancel();
          const fresh = await api.post<{ parts: { partNumber: number; url: string }[] }>(
            '/upload/parts',
            { path: remote, uploadId: plan.uploadId, partNumbers: [part.partNumber] },
          );
          const url = fresh.parts[0]?.url ?? part.url;
          res = await fetchRetrying(url, { method: 'PUT', body }, opts.signal);
        }
        if (!res.ok) throw await s3Failure(`${what} (part ${part.partNumber})`, res);
        await res.body?.cancel();
        const etag = res.headers.get('etag');
        if (!etag) throw new CliError(`${what}: S3 gave part ${part.partNumber} no ETag`);
        etags.push({ partNumber: part.partNumber, etag });
        opts.progress?.add(length);
      }
    };
    await Promise.all(Array.from({ length: PART_CONCURRENCY }, worker));
  }
  return etags.sort((a, b) => a.partNumber - b.partNumber);
}

/** Downloads one remote file to a local path, atomically; returns its size. */
export async function downloadFile(
  api: FilesApi,
  remote: string,
  local: string,
  opts: { progress?: Progress; signal?: AbortSignal },
): Promise<number> {
  const what = `downloading ${REMOTE}${remote} to ${local}`;
  const { url } = await api.post<{ url: string }>('/download', { path: remote });
  const res = await fetchRetrying(url, { method: 'GET' }, opts.signal);
  if (!res.ok || !res.body) throw await s3Failure(what, res);
  const total = Number(res.headers.get('content-length') ?? 0);
  opts.progress?.start(`${REMOTE}${remote} -> ${local}`, total);
  const temp = join(dirname(local), `.${basename(local)}.berth-${randomBytes(4).toString('hex')}`);
  let size = 0;
  try {
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      opts.progress?.add(chunk.length);
    });
    await pipeline(body, createWriteStream(temp, { flags: 'wx' }));
    await rename(temp, local);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  opts.progress?.done();
  return size;
}
