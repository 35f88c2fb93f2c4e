// The environment a tool gets for its database logins: DATABASE_DSN__<dsnName>
// per Database as a libpq keyword/value string, and the PG* variables libpq and
// psql read for the first Database by dsnName. These hold passwords: they travel
// in RunTask's container overrides (readable by whoever may ecs:DescribeTasks),
// never in a log line, an Event or a status.
import { type Database, databaseDsnName } from '../../crds/index.ts';

export interface DatabaseLogin {
  db: Pick<Database, 'metadata' | 'spec'>;
  user: string;
  password: string;
}

/** A libpq connection-string value: bare when safe, else single-quoted with \ and ' escaped. */
export function libpqValue(value: string): string {
  if (value !== '' && /^[^\s'\\]+$/.test(value)) return value;
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

export function libpqDsn(login: DatabaseLogin): string {
  const s = login.db.spec;
  return [
    ['host', s.host],
    ['port', String(s.port)],
    ['dbname', s.dbname],
    ['user', login.user],
    ['password', login.password],
    ['sslmode', s.sslmode],
  ]
    .map(([k, v]) => `${k}=${libpqValue(v!)}`)
    .join(' ');
}

export function databaseEnvironment(
  logins: readonly DatabaseLogin[],
): { name: string; value: string }[] {
  const sorted = [...logins].sort((a, b) =>
    databaseDsnName(a.db).localeCompare(databaseDsnName(b.db)),
  );
  const env = sorted.map((l) => ({
    name: `DATABASE_DSN__${databaseDsnName(l.db)}`,
    value: libpqDsn(l),
  }));
  const first = sorted[0];
  if (first) {
    const s = first.db.spec;
    env.push(
      { name: 'PGHOST', value: s.host },
      { name: 'PGPORT', value: String(s.port) },
      { name: 'PGDATABASE', value: s.dbname },
      { name: 'PGUSER', value: first.user },
      { name: 'PGPASSWORD', value: first.password },
      { name: 'PGSSLMODE', value: s.sslmode },
    );
  }
  return env;
}
