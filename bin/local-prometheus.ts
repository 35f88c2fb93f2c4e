// `berth up`'s Prometheus, when a `prometheus` binary is found (PROMETHEUS_PATH,
// else PATH; `make prometheus` installs Debian's): it discovers the tools'
// metrics sidecars through the API (api/prometheus-config.ts) and the culler
// reads their CPU from it (BERTH_PROMETHEUS_URL). Everything lives in
// <BERTH_DATA_DIR>/prometheus: the generated prometheus.yml, the discovery
// token (sd-token, 0600, made at the first start and kept; sd-credentials is
// the copy Prometheus reads, 0600), the tsdb (data/,
// kept across restarts) and its log (prometheus.log, this run's).
//
// It must die with berth up however berth up dies: a small shell holds a pipe
// from berth up and sends Prometheus SIGTERM (a clean tsdb shutdown) when the
// pipe closes, on a clean stop or a SIGKILL alike. When Prometheus exits
// unasked it is started again; one that an earlier run left (its shell killed
// too) is stopped first, found by the pid recorded beside its data.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  accessSync,
  closeSync,
  constants,
  mkdirSync,
  openSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Logger } from 'pino';
import { PROMETHEUS_TARGETS_PATH, prometheusScrapeConfig } from '../api/index.ts';

/** How often berth up's Prometheus scrapes each sidecar (the culler's source assumes the same). */
export const LOCAL_SCRAPE_INTERVAL_MS = 15_000;
/** How often it asks the API for targets: a new tool is scraped within seconds. */
const LOCAL_REFRESH_INTERVAL_MS = 5_000;
const START_TIMEOUT_MS = 60_000;
const RESTART_TRIES = 5;

// POSIX sh: runs Prometheus ("$@"), prints its pid, and sends it SIGTERM when
// stdin (berth up's pipe) closes; exits with Prometheus's exit status.
const WRAPPER = `
exec 3<&0
"$@" </dev/null &
pid=$!
echo "$pid"
( read -r _ <&3; kill -s TERM "$pid" 2>/dev/null ) &
watcher=$!
wait "$pid"; code=$?
kill "$watcher" 2>/dev/null
exit "$code"
`;

/** PROMETHEUS_PATH, else `prometheus` on PATH; undefined when there is none. */
export function findPrometheus(env: NodeJS.ProcessEnv): string | undefined {
  const candidates = env.PROMETHEUS_PATH
    ? [env.PROMETHEUS_PATH]
    : (env.PATH ?? '').split(delimiter).map((d) => join(d || '.', 'prometheus'));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {}
  }
  return undefined;
}

/** Where berth up keeps Prometheus's files. */
export function prometheusDir(dataDir: string): string {
  return join(dataDir, 'prometheus');
}

/** The discovery token in <dir>/sd-token (0600), made the first time and kept. */
export function localSdToken(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'sd-token');
  try {
    writeFileSync(path, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as { code?: string }).code !== 'EEXIST') throw err;
  }
  return readFileSync(path, 'utf8').trim();
}

function startTimeOf(pid: number): number | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return f[0] === 'Z' ? undefined : Number(f[19]);
  } catch {
    return undefined;
  }
}

/** Stops a Prometheus an earlier berth up left on this data (its pid, start time and config recorded). */
async function stopLeftover(dir: string, configFile: string, log: Pick<Logger, 'warn'>) {
  let pid: number;
  try {
    const rec = JSON.parse(readFileSync(join(dir, 'prometheus.pid'), 'utf8')) as {
      pid: number;
      startTime: number;
    };
    const cmdline = readFileSync(`/proc/${rec.pid}/cmdline`, 'utf8');
    if (startTimeOf(rec.pid) !== rec.startTime || !cmdline.includes(configFile)) return;
    pid = rec.pid;
  } catch {
    return;
  }
  log.warn({ pid }, 'stopping a Prometheus an earlier berth up left running');
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (startTimeOf(pid) !== undefined) {
    if (Date.now() > deadline) process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface LocalPrometheus {
  url: string;
  stop(): Promise<void>;
}

export interface LocalPrometheusOptions {
  binary: string;
  dataDir: string;
  port: number;
  apiUrl: string;
  sdToken: string;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
}

/** Starts Prometheus and resolves once /-/ready answers; throws with the end of its log if it cannot. */
export async function startLocalPrometheus(o: LocalPrometheusOptions): Promise<LocalPrometheus> {
  const dir = prometheusDir(o.dataDir);
  mkdirSync(dir, { recursive: true });
  // What Prometheus presents: the kept token, or BERTH_PROMETHEUS_SD_TOKEN when set.
  const tokenFile = join(dir, 'sd-credentials');
  writeFileSync(tokenFile, o.sdToken, { mode: 0o600 });
  const configFile = join(dir, 'prometheus.yml');
  writeFileSync(
    configFile,
    prometheusScrapeConfig({
      sdUrl: o.apiUrl + PROMETHEUS_TARGETS_PATH,
      credentialsFile: tokenFile,
      scrapeIntervalMs: LOCAL_SCRAPE_INTERVAL_MS,
      refreshIntervalMs: LOCAL_REFRESH_INTERVAL_MS,
      selfScrape: `127.0.0.1:${o.port}`,
    }),
  );
  const logFile = join(dir, 'prometheus.log');
  const url = `http://127.0.0.1:${o.port}`;
  const tail = () => {
    try {
      return readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n');
    } catch {
      return '';
    }
  };
  await stopLeftover(dir, configFile, o.log);

  let child: ChildProcess | undefined;
  let stopping = false;

  const launch = (): ChildProcess => {
    const out = openSync(logFile, 'a');
    const c = spawn(
      '/bin/sh',
      [
        '-c',
        WRAPPER,
        'prometheus-wrapper',
        o.binary,
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${o.port}`,
      ],
      // Its own process group: a Ctrl-C reaches berth up, which stops it in order.
      { detached: true, stdio: ['pipe', 'pipe', out] },
    );
    closeSync(out);
    c.stdin!.on('error', () => {});
    c.stdout!.once('data', (chunk: Buffer) => {
      const pid = Number(chunk.toString().trim());
      const startTime = startTimeOf(pid);
      if (startTime !== undefined)
        writeFileSync(join(dir, 'prometheus.pid'), JSON.stringify({ pid, startTime }));
    });
    return c;
  };

  /** One start: ready within the timeout, else the child is killed and this throws. */
  const startOnce = async (): Promise<ChildProcess> => {
    const c = launch();
    let exited = false;
    c.once('exit', () => {
      exited = true;
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (exited) throw new Error(`Prometheus exited at start: ${tail()}`);
      const res = await fetch(`${url}/-/ready`).catch(() => undefined);
      if (res?.status === 200) return c;
      if (Date.now() > deadline) {
        killGroup(c);
        throw new Error(`Prometheus was not ready within ${START_TIMEOUT_MS / 1000} s: ${tail()}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  /** Starts, retrying a few times (a Prometheus just stopped may still hold the tsdb's lock). */
  const startWithRetries = async (): Promise<ChildProcess> => {
    for (let tries = 1; ; tries++) {
      try {
        return await startOnce();
      } catch (err) {
        if (tries >= RESTART_TRIES || stopping) throw err;
        await new Promise((r) => setTimeout(r, 1000 * tries));
      }
    }
  };

  const supervise = (c: ChildProcess) => {
    c.once('exit', (code, signal) => {
      if (stopping) return;
      o.log.error({ code, signal }, 'Prometheus exited unexpectedly; starting it again');
      startWithRetries().then(
        (again) => {
          if (stopping) return killGroup(again);
          child = again;
          o.log.info({ url }, 'Prometheus started again');
          supervise(again);
        },
        (err: Error) =>
          o.log.error(
            { why: err.message },
            'Prometheus could not be started again; CPU of sidecar tools is unknown until berth up restarts',
          ),
      );
    });
  };

  child = await startWithRetries();
  supervise(child);
  return {
    url,
    async stop() {
      stopping = true;
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      const gone = new Promise((r) => c.once('exit', r));
      c.stdin!.end(); // the wrapper's cue: SIGTERM to Prometheus
      const force = setTimeout(() => killGroup(c), 30_000);
      await gone;
      clearTimeout(force);
    },
  };
}

function killGroup(c: ChildProcess): void {
  try {
    process.kill(-c.pid!, 'SIGKILL');
  } catch {}
}
