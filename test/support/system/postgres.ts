// An embedded PostgreSQL the harness can restart: stop (a fast shutdown, as a
// service restart or a managed database's failover does: committed transactions
// survive) and start again on the same data folder and port, so every client
// reconnects to the same address.
import { rm } from 'node:fs/promises';
import pg from 'pg';
import { freePort, startEmbeddedPostgres } from '../../../store/index.ts';

export interface RestartablePostgres {
  /** The berth database's URL (superuser; never log it). */
  url: string;
  port: number;
  running: boolean;
  stop(): Promise<void>;
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Stops it and deletes its files. */
  destroy(): Promise<void>;
}

export async function startRestartablePostgres(dataDir: string): Promise<RestartablePostgres> {
  const port = await freePort();
  let current = await startEmbeddedPostgres({ dataDir, port });
  const admin = new pg.Client({ connectionString: current.url });
  await admin.connect();
  await admin.query('create database berth');
  await admin.end();
  const u = new URL(current.url);
  u.pathname = '/berth';
  let running = true;
  const self: RestartablePostgres = {
    url: u.toString(),
    port,
    get running() {
      return running;
    },
    async stop() {
      if (!running) return;
      running = false;
      await current.stop();
    },
    async start() {
      if (running) return;
      current = await startEmbeddedPostgres({ dataDir, port });
      running = true;
    },
    async restart() {
      await self.stop();
      await self.start();
    },
    async destroy() {
      await self.stop().catch(() => {});
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  return self;
}
