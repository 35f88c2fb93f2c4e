// The primary of a multi-process `berth proxy`: forks the workers (each runs
// `berth proxy` as a full replica on the shared port and accepts from it),
// answers their /metrics requests with every worker's metrics, replaces a worker
// that dies, and on SIGINT/SIGTERM asks each to finish its
// requests and stop, killing any still running after the deadline.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { answerMetricsRequests } from '../proxy/index.ts';

export const STOP_MESSAGE = 'berth:stop';
/** A worker still running this long after being asked to stop is killed. */
const STOP_DEADLINE_MS = 30_000;
/** This many worker deaths within CRASH_WINDOW_MS means something is wrong: give up. */
const CRASH_LIMIT = 5;
const CRASH_WINDOW_MS = 60_000;
const RESTART_DELAY_MS = 1_000;

export function runProxyPrimary(workers: number, log: Logger): void {
  // The workers accept from the shared socket themselves. node:cluster's default
  // (the primary accepts and hands each connection round-robin) can hand a
  // connection to a worker that has just died, and that client then hangs until
  // its own timeout; a dead worker simply stops accepting.
  cluster.schedulingPolicy = cluster.SCHED_NONE;
  answerMetricsRequests();
  let stopping = false;
  const crashes: number[] = [];
  const listening = new Set<number>();

  const fork = (): Worker => {
    const w = cluster.fork();
    w.once('listening', (address) => {
      listening.add(w.id);
      if (listening.size === workers)
        log.info({ port: address.port, workers }, 'proxy listening (all workers)');
    });
    return w;
  };

  cluster.on('exit', (w, code, signal) => {
    listening.delete(w.id);
    if (stopping) return;
    const now = Date.now();
    crashes.push(now);
    while (crashes.length && crashes[0]! < now - CRASH_WINDOW_MS) crashes.shift();
    if (crashes.length >= CRASH_LIMIT) {
      log.fatal(
        { worker: w.id, code, signal, deaths: crashes.length },
        'proxy workers keep dying; stopping',
      );
      void stopAll(1);
      return;
    }
    log.error({ worker: w.id, code, signal }, 'proxy worker died; starting another');
    setTimeout(() => {
      if (!stopping) fork();
    }, RESTART_DELAY_MS);
  });

  const stopAll = async (exitCode: number) => {
    stopping = true;
    const all = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    await Promise.all(
      all.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.isDead()) return resolve();
            const kill = setTimeout(() => w.process.kill('SIGKILL'), STOP_DEADLINE_MS);
            w.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            if (w.isConnected()) w.send({ type: STOP_MESSAGE });
            else w.process.kill('SIGTERM');
          }),
      ),
    );
    log.info('stopped');
    process.exit(exitCode);
  };

  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      log.warn({ signal }, 'second signal: killing the workers');
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGKILL');
      process.exit(1);
    }
    signalled = true;
    log.info({ signal, workers }, 'stopping the workers');
    void stopAll(0);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  for (let i = 0; i < workers; i++) fork();
}
