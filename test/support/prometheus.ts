// A real Prometheus (Debian's `prometheus`, or PROMETHEUS_PATH) for the tests:
// it discovers the tools' metrics sidecars through the API's HTTP service
// discovery (api/prometheus-config.ts writes its configuration, the token in a
// mode-600 file) and scrapes them. A missing binary fails the test, saying how
// to install it; it is never skipped.
import { type ChildProcess, spawn } from 'node:child_process';
import {
  accessSync,
  closeSync,
  constants,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { prometheusScrapeConfig } from '../../api/index.ts';
import { waitFor } from './wait.ts';

export interface StartPrometheusOptions {
  /** The API's discovery URL (…/apis/berth/v1alpha1/prometheus-targets). */
  sdUrl: string;
  /** BERTH_PROMETHEUS_SD_TOKEN of that API. */
  sdToken: string;
  /** How often each target is scraped (default 1 s). */
  scrapeIntervalMs?: number;
  /** How often Prometheus asks the API for targets (default 1 s). */
  refreshIntervalMs?: number;
  /** How long to wait for /-/ready (default 30 s). */
  readyTimeoutMs?: number;
}

/** One sample of an instant vector: its labels and value. */
export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

/** An active target as /api/v1/targets shows it. */
export interface PromTarget {
  labels: Record<string, string>;
  discoveredLabels: Record<string, string>;
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
}

export interface RunningPrometheus {
  /** e.g. `http://127.0.0.1:41234` */
  url: string;
  /** Its temp folder (config, token file, tsdb, log). */
  dir: string;
  /** An instant query's result vector. */
  query(promql: string): Promise<PromSample[]>;
  /** The active targets. */
  targets(): Promise<PromTarget[]>;
  /** Prometheus's own log so far (for failure messages). */
  log(): string;
  close(): Promise<void>;
}

/** PROMETHEUS_PATH, else `prometheus` on PATH; a missing binary throws saying `make test` installs it. */
export function prometheusBinary(): string {
  const given = process.env.PROMETHEUS_PATH;
  const candidates = given
    ? [given]
    : (process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'prometheus'));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {}
  }
  throw new Error(
    given
      ? `PROMETHEUS_PATH=${given} is not an executable file`
      : "no prometheus binary on PATH: `make test` installs it (Debian's prometheus, via `make prometheus` as root), or set PROMETHEUS_PATH",
  );
}

/** A port free now on 127.0.0.1 (the kernel's pick). */
async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const body = (await res.json()) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`${url}: ${body.error ?? res.status}`);
  return body.data;
}

export async function startPrometheus(opts: StartPrometheusOptions): Promise<RunningPrometheus> {
  const binary = prometheusBinary();
  const dir = mkdtempSync(join(tmpdir(), 'berth-prometheus-'));
  const tokenFile = join(dir, 'sd-token');
  await writeFile(tokenFile, opts.sdToken, { mode: 0o600 });
  const configFile = join(dir, 'prometheus.yml');
  await writeFile(
    configFile,
    prometheusScrapeConfig({
      sdUrl: opts.sdUrl,
      credentialsFile: tokenFile,
      scrapeIntervalMs: opts.scrapeIntervalMs ?? 1000,
      refreshIntervalMs: opts.refreshIntervalMs ?? 1000,
    }),
  );
  const logFile = join(dir, 'prometheus.log');
  const log = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  let child: ChildProcess | undefined;
  let url = '';
  // A port picked free may be taken before Prometheus binds it: try again.
  for (let attempt = 0; attempt < 3 && !child; attempt++) {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const out = openSync(logFile, 'a');
    const p = spawn(
      binary,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=info',
      ],
      { stdio: ['ignore', out, out] },
    );
    closeSync(out);
    let exited = false;
    p.once('exit', () => {
      exited = true;
    });
    try {
      await waitFor(
        async () => {
          if (exited) throw new Error('exited');
          const r = await fetch(`${url}/-/ready`).catch(() => undefined);
          return r?.status === 200;
        },
        opts.readyTimeoutMs ?? 30_000,
        'Prometheus to be ready',
        100,
      );
      child = p;
    } catch (err) {
      p.kill('SIGKILL');
      if (!exited || attempt === 2) {
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`prometheus did not start (${String(err)}); its log:\n${log()}`);
      }
    }
  }
  const running = child!;
  return {
    url,
    dir,
    async query(promql) {
      const data = await getJson<{ resultType: string; result: PromSample[] }>(
        `${url}/api/v1/query?query=${encodeURIComponent(promql)}`,
      );
      return data.result;
    },
    async targets() {
      const data = await getJson<{ activeTargets: PromTarget[] }>(
        `${url}/api/v1/targets?state=active`,
      );
      return data.activeTargets;
    },
    log,
    async close() {
      if (running.exitCode === null && running.signalCode === null) {
        const gone = new Promise((r) => running.once('exit', r));
        running.kill('SIGTERM');
        const force = setTimeout(() => running.kill('SIGKILL'), 5000);
        await gone;
        clearTimeout(force);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
