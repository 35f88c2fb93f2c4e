// The PostgreSQL every benchmark runs on: DATABASE_URL's server when set, else an
// ephemeral embedded one, and fresh databases on it that close() drops again.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../store/index.ts';

export interface BenchPostgres {
  /** Creates an empty database (migrating it is the caller's) and returns its URL. */
  createDatabase(suffix?: string): Promise<string>;
  /** Drops every database created here, then stops the embedded server if one was started. */
  close(): Promise<void>;
}

export async function startBenchPostgres(): Promise<BenchPostgres> {
  let adminUrl = process.env.DATABASE_URL;
  let stopServer = async () => {};
  if (!adminUrl) {
    const db = await startEmbeddedPostgres({
      dataDir: join(import.meta.dirname, '..', '.data', `bench-postgres-${process.pid}`),
      ephemeral: true,
    });
    adminUrl = db.url;
    stopServer = db.stop;
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const prefix = `berth_bench_${randomBytes(4).toString('hex')}`;
  const created: string[] = [];
  return {
    async createDatabase(suffix = 'db') {
      const name = `${prefix}_${suffix.replace(/[^a-z0-9_]/g, '_')}`;
      await admin.query(`create database ${name}`);
      created.push(name);
      const u = new URL(adminUrl);
      u.pathname = `/${name}`;
      return u.toString();
    },
    async close() {
      for (const name of created) await admin.query(`drop database if exists ${name} with (force)`);
      await admin.end();
      await stopServer();
    },
  };
}
