// One file's upload, straight from the browser to S3 with URLs the API presigns
// (the bytes never pass through berth). Up to 16 MiB it is one PUT; above, the
// API opens a multipart upload and the parts go 4 at a time. It is resumable: the
// upload id, part size and each finished part's ETag are kept in localStorage
// under the file's name, size and lastModified, so dropping the same file again
// (after a reload or a lost connection) sends only the parts still missing.
// Presigned URLs live only in local variables, never in the DOM or storage.
import { BASE } from './api.js';

const FILES = `${BASE}/files`;
export const PART_CONCURRENCY = 4;
// Part URLs asked for at once (the API allows 100): few enough to be used well
// before they expire (15 minutes by default) on a slow connection.
const URL_BATCH = 16;
const STORE = 'berth.upload.v1:';

export class UploadCancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'UploadCancelled';
  }
}

/** The localStorage key of a file's unfinished upload to `path`. */
export function resumeKey(user, path, file) {
  return `${STORE}${JSON.stringify([user, path, file.name, file.size, file.lastModified])}`;
}

function loadRecord(key) {
  try {
    const r = JSON.parse(localStorage.getItem(key) ?? 'null');
    if (r && typeof r.uploadId === 'string' && r.partSize > 0 && r.partCount > 0) {
      r.etags ??= {};
      return r;
    }
  } catch {
    // A damaged record only means starting over.
  }
  localStorage.removeItem(key);
  return undefined;
}

/** How long an unfinished upload is remembered (S3 may drop it sooner). */
const KEEP_MS = 7 * 86_400_000;

/** Forgets unfinished uploads older than a week: they would only pile up. */
export function forgetOldUploads(now = Date.now()) {
  for (const key of Object.keys(localStorage)) {
    if (!key.startsWith(STORE)) continue;
    const r = loadRecord(key);
    if (!r || !(now - (r.startedAt ?? 0) < KEEP_MS)) localStorage.removeItem(key);
  }
}

/** A PUT with upload progress (fetch has none); resolves with the response's ETag. */
function put(url, body, headers, onProgress, xhrs) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhrs.add(xhr);
    xhr.open('PUT', url);
    for (const [k, v] of Object.entries(headers ?? {})) {
      // The browser sets these itself and refuses to be told.
      if (!['content-length', 'host'].includes(k.toLowerCase())) xhr.setRequestHeader(k, v);
    }
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      xhrs.delete(xhr);
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.getResponseHeader('ETag') ?? '');
      else {
        const code = /<Code>([^<]*)<\/Code>/.exec(xhr.responseText ?? '')?.[1];
        reject(new Error(`storage answered ${xhr.status}${code ? ` (${code})` : ''}`));
      }
    };
    xhr.onerror = () => {
      xhrs.delete(xhr);
      reject(new Error('the connection to storage failed'));
    };
    xhr.onabort = () => {
      xhrs.delete(xhr);
      reject(new UploadCancelled());
    };
    xhr.send(body);
  });
}

/**
 * Uploads `file` to `path` in the caller's home. `onProgress(sent, total)` is
 * called as bytes go; `cancel()` stops it and aborts the multipart upload.
 * `confirmReplace(path)` is asked when a file of that name exists already.
 */
export class FileUpload {
  constructor(client, user, file, path, { onProgress, confirmReplace }) {
    this.client = client;
    this.file = file;
    this.path = path;
    this.key = resumeKey(user, path, file);
    this.onProgress = onProgress ?? (() => {});
    this.confirmReplace = confirmReplace ?? (async () => false);
    this.xhrs = new Set();
    this.cancelled = false;
    /** Parts this run sent (a resumed upload sends only the missing ones). */
    this.partsSent = 0;
    this.resumed = false;
  }

  post(sub, body) {
    return this.client.request('POST', `${FILES}${sub}`, body);
  }

  async start() {
    let record = loadRecord(this.key);
    if (record) {
      this.resumed = true;
      try {
        return await this.multipart(record);
      } catch (err) {
        // The API forgets an upload that was completed, aborted or expired: start over.
        if (this.cancelled || err.status !== 404) throw err;
        localStorage.removeItem(this.key);
        this.resumed = false;
      }
    }
    let plan;
    try {
      plan = await this.post('/upload', { path: this.path, size: this.file.size });
    } catch (err) {
      if (err.status !== 409 || !(await this.confirmReplace(this.path))) throw err;
      plan = await this.post('/upload', { path: this.path, size: this.file.size, overwrite: true });
    }
    if (this.cancelled) throw new UploadCancelled();
    if (plan.kind === 'single') {
      await put(
        plan.url,
        this.file,
        plan.headers,
        (n) => this.onProgress(n, this.file.size),
        this.xhrs,
      );
      this.onProgress(this.file.size, this.file.size);
      return this.post('/upload/complete', { path: this.path });
    }
    record = {
      uploadId: plan.uploadId,
      partSize: plan.partSize,
      partCount: plan.partCount,
      startedAt: Date.now(),
      etags: {},
    };
    localStorage.setItem(this.key, JSON.stringify(record));
    return this.multipart(record);
  }

  async multipart(record) {
    const { partSize, partCount, uploadId } = record;
    if (this.cancelled) {
      await this.cancel();
      throw new UploadCancelled();
    }
    const size = this.file.size;
    const lengthOf = (n) => Math.min(partSize, size - (n - 1) * partSize);
    let done = 0;
    const missing = [];
    for (let n = 1; n <= partCount; n++) {
      if (record.etags[n]) done += lengthOf(n);
      else missing.push(n);
    }
    const inFlight = new Map();
    const report = () => {
      let sent = done;
      for (const v of inFlight.values()) sent += v;
      this.onProgress(sent, size);
    };
    report();
    for (let i = 0; i < missing.length; i += URL_BATCH) {
      const { parts } = await this.post('/upload/parts', {
        path: this.path,
        uploadId,
        partNumbers: missing.slice(i, i + URL_BATCH),
      });
      const queue = [...parts];
      const worker = async () => {
        for (let part = queue.shift(); part; part = queue.shift()) {
          if (this.cancelled) throw new UploadCancelled();
          const n = part.partNumber;
          const start = (n - 1) * partSize;
          const blob = this.file.slice(start, start + lengthOf(n));
          inFlight.set(n, 0);
          const etag = await put(
            part.url,
            blob,
            {},
            (loaded) => {
              inFlight.set(n, loaded);
              report();
            },
            this.xhrs,
          ).finally(() => inFlight.delete(n));
          if (!etag) throw new Error('storage gave a part no ETag (is ETag exposed by CORS?)');
          record.etags[n] = etag;
          localStorage.setItem(this.key, JSON.stringify(record));
          this.partsSent++;
          done += lengthOf(n);
          report();
        }
      };
      await Promise.all(Array.from({ length: PART_CONCURRENCY }, worker));
    }
    const parts = Object.entries(record.etags)
      .map(([n, etag]) => ({ partNumber: Number(n), etag }))
      .sort((a, b) => a.partNumber - b.partNumber);
    const result = await this.post('/upload/complete', { path: this.path, uploadId, parts });
    localStorage.removeItem(this.key);
    return result;
  }

  /** Stops the transfer; a multipart upload is aborted and forgotten. */
  async cancel() {
    this.cancelled = true;
    for (const xhr of this.xhrs) xhr.abort();
    const record = loadRecord(this.key);
    localStorage.removeItem(this.key);
    if (record)
      await this.post('/upload/abort', { path: this.path, uploadId: record.uploadId }).catch(
        () => {},
      );
  }
}
