// Runs the real s3sync sidecar (sidecars/s3sync/main.ts) as a child process against
// an S3 endpoint, with the environment a task gives it, for the s3sync benchmarks.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';

const MAIN = join(import.meta.dirname, '../../sidecars/s3sync/main.ts');

export interface S3Target {
  url: string;
  bucket: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

export interface RunningSidecar {
  child: ChildProcess;
  port: number;
  healthy(): Promise<boolean>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export async function startSidecar(
  s3: S3Target,
  home: string,
  prefix: string,
  env: Record<string, string> = {},
): Promise<RunningSidecar> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--disable-warning=ExperimentalWarning', MAIN], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: home,
      BERTH_HOME: home,
      BERTH_BIND_HOST: '127.0.0.1',
      BERTH_FILES_BUCKET: s3.bucket,
      BERTH_FILES_PREFIX: prefix,
      AWS_ENDPOINT_URL_S3: s3.url,
      AWS_REGION: s3.region,
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
      AWS_REQUEST_CHECKSUM_CALCULATION: 'WHEN_REQUIRED',
      AWS_RESPONSE_CHECKSUM_VALIDATION: 'WHEN_REQUIRED',
      S3SYNC_PORT: String(port),
      ...env,
    },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    port,
    async healthy() {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/healthz`);
        await r.arrayBuffer();
        return r.ok;
      } catch {
        return false;
      }
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resolves once `check` is true, polling every `everyMs`; the time it took in ms. */
export async function until(
  check: () => Promise<boolean> | boolean,
  what: string,
  timeoutMs = 600_000,
  everyMs = 20,
): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await check()) return performance.now() - start;
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
