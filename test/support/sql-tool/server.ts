// The SQL test tool: a tiny HTTP program ecs-local runs as a tool (image
// `berth/sql-tool:latest`, see index.ts). It knows only its environment, as a
// real tool would: POST /query {"sql", "dsn"?, "hold"?} runs the statement with
// `pg` as the login berth gave it (DATABASE_DSN__<dsn>, else the PG* variables)
// and answers {rows} or {error: {code, message}}; "hold": true keeps one session
// open per dsn for the tests of running sessions. GET /env-names lists which
// DATABASE_DSN__ / PG* variables it got (names only); GET /env answers their
// values (the password scan reads the secret from inside the tool this way).
import { createServer } from 'node:http';
import pg from 'pg';

const held = new Map<string, pg.Client>();

function connectionFor(dsn: string | undefined): pg.ClientConfig {
  if (dsn) {
    const text = process.env[`DATABASE_DSN__${dsn}`];
    if (!text) throw Object.assign(new Error(`no DATABASE_DSN__${dsn}`), { code: 'NODSN' });
    return { ...parseKeywordValue(text), connectionTimeoutMillis: 5000 };
  }
  // pg reads PGHOST, PGPORT, PGDATABASE, PGUSER, PGPASSWORD itself.
  return { connectionTimeoutMillis: 5000 };
}

/** libpq keyword/value: `k=v k='quoted \\' value'`. */
function parseKeywordValue(text: string): pg.ClientConfig {
  const out: Record<string, string> = {};
  const re = /(\w+)\s*=\s*(?:'((?:\\.|[^'\\])*)'|(\S+))/g;
  for (const m of text.matchAll(re))
    out[m[1]!] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!;
  return {
    host: out.host,
    port: out.port ? Number(out.port) : undefined,
    database: out.dbname,
    user: out.user,
    password: out.password,
  };
}

async function query(body: { sql?: unknown; dsn?: unknown; hold?: unknown }) {
  const sql = String(body.sql ?? '');
  const dsn = typeof body.dsn === 'string' ? body.dsn : undefined;
  const key = dsn ?? '';
  if (body.hold) {
    let c = held.get(key);
    if (!c) {
      c = new pg.Client(connectionFor(dsn));
      c.on('error', () => held.delete(key));
      await c.connect();
      held.set(key, c);
    }
    try {
      return (await c.query(sql)).rows;
    } catch (err) {
      if (!(err as { code?: string }).code) held.delete(key);
      throw err;
    }
  }
  const c = new pg.Client(connectionFor(dsn));
  await c.connect();
  try {
    return (await c.query(sql)).rows;
  } finally {
    await c.end().catch(() => {});
  }
}

const server = createServer((req, res) => {
  const answer = (status: number, value: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  const names = Object.keys(process.env)
    .filter((n) => n.startsWith('DATABASE_DSN__') || /^PG[A-Z]+$/.test(n))
    .sort();
  if (req.method === 'GET' && req.url === '/env-names') return answer(200, { names });
  if (req.method === 'GET' && req.url === '/env')
    return answer(200, Object.fromEntries(names.map((n) => [n, process.env[n]])));
  if (req.method === 'GET') return answer(200, { ok: true });
  if (req.method !== 'POST' || req.url !== '/query') return answer(404, {});
  let text = '';
  req.on('data', (d) => {
    text += d;
  });
  req.on('end', () => {
    let body: { sql?: unknown; dsn?: unknown; hold?: unknown };
    try {
      body = JSON.parse(text);
    } catch {
      return answer(400, { error: { code: 'BADJSON', message: 'body must be JSON' } });
    }
    query(body).then(
      (rows) => answer(200, { rows }),
      (err: { code?: string; message?: string }) =>
        answer(200, { error: { code: err.code ?? 'ERROR', message: err.message ?? '' } }),
    );
  });
});

server.listen(Number(process.env.PORT ?? 8080), process.env.HOST ?? '127.0.0.1');
process.on('SIGTERM', () => {
  for (const c of held.values()) void c.end().catch(() => {});
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 500).unref();
});
