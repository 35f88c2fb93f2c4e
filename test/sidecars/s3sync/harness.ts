// The real s3sync (sidecars/s3sync/main.ts) as a child process against a raw
// s3rver (test/support/s3rver.ts) reached through a TCP proxy the test can cut
// (refuse connections) or make silent (accept, never answer).
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { waitFor } from '../../support/wait.ts';

const MAIN = join(import.meta.dirname, '..', '..', '..', 'sidecars', 's3sync', 'main.ts');

export interface S3Endpoint {
  url: string;
  bucket: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  region: string;
  client(): S3Client;
  close(): Promise<void>;
}

/** s3rver in a child process (see s3rver-process.ts for why). */
async function startS3rverProcess(): Promise<S3Endpoint> {
  const child = spawn(
    process.execPath,
    [
      '--openssl-legacy-provider',
      '--disable-warning=ExperimentalWarning',
      join(import.meta.dirname, 's3rver-process.ts'),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const exited = new Promise((r) => child.once('exit', r));
  const info = await new Promise<Omit<S3Endpoint, 'client' | 'close'>>((resolve, reject) => {
    let buf = '';
    child.stdout?.on('data', (c: Buffer) => {
      buf += c.toString();
      if (buf.includes('\n')) resolve(JSON.parse(buf.slice(0, buf.indexOf('\n'))));
    });
    child.once('exit', (code) => reject(new Error(`s3rver exited ${code}`)));
  });
  return {
    ...info,
    client: () =>
      new S3Client({
        endpoint: info.url,
        forcePathStyle: true,
        region: info.region,
        credentials: info.credentials,
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      }),
    async close() {
      child.stdin?.end();
      await exited;
    },
  };
}

export type ProxyMode = 'open' | 'refuse' | 'silent';

/** A TCP proxy to `port` whose mode the test sets; cutting it also ends open connections. */
export async function startCutProxy(port: number) {
  let mode: ProxyMode = 'open';
  let bytesUp = 0;
  // The request lines seen towards S3 (plain HTTP), so a test can tell how a file went up.
  const requestLines: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    if (mode === 'refuse') return void client.destroy();
    if (mode === 'silent') return void client.resume(); // read, never answer
    const upstream = connect(port, '127.0.0.1');
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.on('data', (c: Buffer) => {
      bytesUp += c.length;
      const line = /^(GET|PUT|POST|DELETE|HEAD) (\S+) HTTP\/1\.1\r\n/.exec(
        c.subarray(0, 2048).toString('latin1'),
      );
      if (line && requestLines.length < 100_000) requestLines.push(`${line[1]} ${line[2]}`);
    });
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** Bytes sent towards S3 so far. */
    bytesUp: () => bytesUp,
    /** "METHOD path?query" of each request sent towards S3 so far. */
    requestLines: () => [...requestLines],
    set(next: ProxyMode) {
      mode = next;
      if (next !== 'open') for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

export interface Sidecar {
  child: ChildProcess;
  port: number;
  /** Every JSON log line so far. */
  lines: Record<string, unknown>[];
  exited: Promise<number | null>;
  healthz(): Promise<{ status: number; body: Record<string, unknown> }>;
  metrics(): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export interface World {
  s3: S3Endpoint;
  client: S3Client;
  proxy: Awaited<ReturnType<typeof startCutProxy>>;
  prefix: string;
  home: string;
  key(rel: string): string;
  put(rel: string, body: string | Uint8Array): Promise<void>;
  get(rel: string): Promise<string | undefined>;
  head(rel: string): Promise<{ size: number; etag: string } | undefined>;
  del(rel: string): Promise<void>;
  /** Every key under the prefix, relative to it. */
  list(): Promise<string[]>;
  start(env?: Record<string, string>): Promise<Sidecar>;
  close(): Promise<void>;
}

export async function world(): Promise<World> {
  const s3 = await startS3rverProcess();
  const client = s3.client();
  const proxy = await startCutProxy(Number(new URL(s3.url).port));
  const prefix = `home/${randomUUID()}/`;
  const home = await mkdtemp(join(tmpdir(), 's3sync-home-'));
  const running = new Set<Sidecar>();
  const w: World = {
    s3,
    client,
    proxy,
    prefix,
    home,
    key: (rel) => prefix + rel,
    async put(rel, body) {
      await client.send(
        new PutObjectCommand({ Bucket: s3.bucket, Key: prefix + rel, Body: Buffer.from(body) }),
      );
    },
    async get(rel) {
      try {
        const out = await client.send(
          new GetObjectCommand({ Bucket: s3.bucket, Key: prefix + rel }),
        );
        return await out.Body?.transformToString();
      } catch {
        return undefined;
      }
    },
    async head(rel) {
      try {
        const h = await client.send(
          new HeadObjectCommand({ Bucket: s3.bucket, Key: prefix + rel }),
        );
        return { size: h.ContentLength ?? 0, etag: h.ETag ?? '' };
      } catch {
        return undefined;
      }
    },
    async del(rel) {
      await client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: prefix + rel }));
    },
    async list() {
      const out: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const o of page.Contents ?? []) out.push((o.Key as string).slice(prefix.length));
        token = page.NextContinuationToken;
      } while (token);
      return out.sort();
    },
    async start(env = {}) {
      const sc = await startSidecar({
        BERTH_FILES_BUCKET: s3.bucket,
        BERTH_FILES_PREFIX: prefix,
        BERTH_HOME: home,
        AWS_ENDPOINT_URL_S3: proxy.url,
        AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
        AWS_REGION: s3.region,
        S3SYNC_PORT: '0',
        S3SYNC_POLL_INTERVAL_MS: '1000',
        S3SYNC_REQUEST_TIMEOUT_MS: '3000',
        ...env,
      });
      running.add(sc);
      void sc.exited.then(() => running.delete(sc));
      return sc;
    },
    async close() {
      for (const sc of running) sc.child.kill('SIGKILL');
      await proxy.close();
      await s3.close();
      await rm(home, { recursive: true, force: true });
    },
  };
  return w;
}

export async function startSidecar(env: Record<string, string>): Promise<Sidecar> {
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', MAIN], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let buf = '';
  child.stdout?.on('data', (c: Buffer) => {
    buf += c.toString();
    let i = buf.indexOf('\n');
    while (i >= 0) {
      try {
        lines.push(JSON.parse(buf.slice(0, i)));
      } catch {
        lines.push({ msg: buf.slice(0, i) });
      }
      buf = buf.slice(i + 1);
      i = buf.indexOf('\n');
    }
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const listening = await waitFor(
    () =>
      lines.find((l) => l.msg === 's3sync listening') ??
      (child.exitCode !== null && { failed: true }),
    30_000,
    's3sync to listen',
  );
  if ('failed' in listening) throw new Error(`s3sync exited: ${stderr}`);
  const port = listening.port as number;
  const base = `http://127.0.0.1:${port}`;
  return {
    child,
    port,
    lines,
    exited,
    async healthz() {
      const res = await fetch(`${base}/healthz`);
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    async metrics() {
      return (await fetch(`${base}/metrics`)).text();
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Resolves when /healthz says ok (the initial sync is done). */
export async function healthy(sc: Sidecar, timeoutMs = 60_000): Promise<void> {
  await waitFor(async () => (await sc.healthz()).status === 200, timeoutMs, 's3sync healthy');
}
