// `berth up`'s embedded PostgreSQL, kept running: when it exits without being
// told to (killed, crashed), it is started again on the same data and port, as a
// supervisor would; the parts reconnect by themselves (their pools and listeners
// retry). A restart that keeps failing ends `berth up` with the reason.
import type { Logger } from 'pino';
import { type EmbeddedDatabase, startEmbeddedPostgres } from '../store/index.ts';

const RESTART_TRIES = 5;

export interface SupervisedPostgres {
  url: string;
  clusterDir: string;
  stop(): Promise<void>;
}

export async function startSupervisedPostgres(
  opts: { dataDir: string; port: number },
  log: Pick<Logger, 'info' | 'error'>,
  onGiveUp: (message: string) => void,
): Promise<SupervisedPostgres> {
  let db: EmbeddedDatabase = await startEmbeddedPostgres(opts);
  let stopped = false;
  const watch = (current: EmbeddedDatabase) =>
    current.onUnexpectedExit(async (why) => {
      log.error({ why }, 'the embedded PostgreSQL exited unexpectedly; starting it again');
      for (let tries = 1; !stopped; tries++) {
        try {
          db = await startEmbeddedPostgres(opts);
          log.info({ port: opts.port }, 'embedded PostgreSQL started again');
          watch(db);
          return;
        } catch (err) {
          if (tries >= RESTART_TRIES) {
            onGiveUp(
              `the embedded PostgreSQL could not be started again: ${(err as Error).message}`,
            );
            return;
          }
          await new Promise((r) => setTimeout(r, 500 * tries));
        }
      }
    });
  watch(db);
  return {
    url: db.url,
    clusterDir: db.clusterDir,
    async stop() {
      stopped = true;
      await db.stop();
    },
  };
}
