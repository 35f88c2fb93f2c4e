// One small pg pool per Database, logged in as its admin. A pool is a cache: it is
// rebuilt when the Database's connection spec changes, and after an
// authentication failure the credentials are read again (a rotated secret) before
// the database is reported unavailable.
import { createHash } from 'node:crypto';
import pg from 'pg';
import type { Database } from '../../crds/index.ts';
import {
  type AdminCredentials,
  type CredentialSources,
  DatabaseUnavailable,
  resolveAdminCredentials,
} from './admin-credentials.ts';

type DatabaseRef = Pick<Database, 'metadata' | 'spec'>;

interface Entry {
  fingerprint: string;
  pool: pg.Pool;
}

export interface AdminPoolOptions {
  sources: CredentialSources;
  /** Connections per database (role changes are serialized anyway); default 4. */
  max?: number;
  /** Connect timeout; default 5 s. */
  connectTimeoutMs?: number;
}

export class AdminPools {
  readonly #entries = new Map<string, Entry>();
  readonly #options: AdminPoolOptions;

  constructor(options: AdminPoolOptions) {
    this.#options = options;
  }

  /** The admin pool of `db`, connected and checked once; throws DatabaseUnavailable. */
  async get(db: DatabaseRef): Promise<pg.Pool> {
    const creds = await resolveAdminCredentials(db, this.#options.sources);
    const fingerprint = fingerprintOf(db, creds);
    const name = db.metadata.name;
    const cached = this.#entries.get(name);
    if (cached?.fingerprint === fingerprint) return cached.pool;
    if (cached) {
      this.#entries.delete(name);
      void cached.pool.end().catch(() => {});
    }
    const pool = new pg.Pool({
      host: db.spec.host,
      port: db.spec.port,
      database: db.spec.dbname,
      user: creds.username,
      password: creds.password,
      ssl: sslOption(db.spec.sslmode),
      max: this.#options.max ?? 4,
      connectionTimeoutMillis: this.#options.connectTimeoutMs ?? 5000,
      idleTimeoutMillis: 30_000,
      application_name: 'berth-credentials',
    });
    pool.on('error', () => {}); // an idle client's error; the next query reports it
    try {
      await pool.query('select 1');
    } catch (err) {
      void pool.end().catch(() => {});
      throw classifyConnectError(db, err);
    }
    this.#entries.set(name, { fingerprint, pool });
    return pool;
  }

  /** Forgets `name`'s pool (the Database was deleted, or its login failed). */
  async forget(name: string): Promise<void> {
    const e = this.#entries.get(name);
    this.#entries.delete(name);
    await e?.pool.end().catch(() => {});
  }

  async close(): Promise<void> {
    const all = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all(all.map((e) => e.pool.end().catch(() => {})));
  }
}

function fingerprintOf(db: DatabaseRef, creds: AdminCredentials): string {
  const { host, port, dbname, sslmode } = db.spec;
  return createHash('sha256')
    .update(JSON.stringify([host, port, dbname, sslmode, creds.username, creds.password]))
    .digest('hex');
}

/** libpq's sslmode as node-postgres's `ssl` option. */
export function sslOption(sslmode: Database['spec']['sslmode']): pg.PoolConfig['ssl'] {
  switch (sslmode) {
    case 'disable':
      return false;
    case 'prefer':
    case 'require':
      // libpq's require does not verify the certificate either.
      return { rejectUnauthorized: false };
    case 'verify-ca':
    case 'verify-full':
      return { rejectUnauthorized: true };
  }
}

/** A connection failure as a condition reason and a sentence with no secret in it. */
export function classifyConnectError(db: DatabaseRef, err: unknown): DatabaseUnavailable {
  const e = err as { code?: string; message?: string };
  const where = `${db.spec.host}:${db.spec.port}/${db.spec.dbname}`;
  if (e.code === '28P01' || e.code === '28000')
    return new DatabaseUnavailable(
      'AuthenticationFailed',
      `PostgreSQL at ${where} refused the admin login (${e.code === '28P01' ? 'wrong password' : 'not allowed'}); check the admin credentials`,
    );
  if (e.code === '3D000')
    return new DatabaseUnavailable(
      'DatabaseNotFound',
      `database "${db.spec.dbname}" does not exist at ${db.spec.host}:${db.spec.port}`,
    );
  if (
    e.code &&
    /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ECONNRESET)$/.test(e.code)
  )
    return new DatabaseUnavailable(
      'Unreachable',
      `PostgreSQL at ${where} is unreachable (${e.code})`,
    );
  if (/timeout/i.test(e.message ?? ''))
    return new DatabaseUnavailable('Unreachable', `PostgreSQL at ${where} did not answer in time`);
  if (/ssl|tls|certificate/i.test(e.message ?? ''))
    return new DatabaseUnavailable('TlsFailed', `TLS to ${where} failed: ${e.message}`);
  return new DatabaseUnavailable(
    'ConnectFailed',
    `could not connect to ${where}: ${e.code ?? 'error'}`,
  );
}
