// The pgAdmin example starts with the user's databases listed and connected: its
// command (examples/pgadmin.yaml, run here as shipped, with the image's
// entrypoint replaced through BERTH_PGADMIN_EXEC) turns every
// DATABASE_DSN__<name> into a server of servers.json and a pgpass line (0600),
// names servers.json in PGADMIN_SERVER_JSON_FILE for the image's entrypoint, and
// prints no password.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parse } from 'yaml';
import type { ToolDefinition } from '../../crds/index.ts';

const manifest = parse(
  readFileSync(join(import.meta.dirname, '..', '..', 'examples', 'pgadmin.yaml'), 'utf8'),
) as ToolDefinition;
const dir = mkdtempSync(join(tmpdir(), 'berth-pgadmin-'));

after(() => rmSync(dir, { recursive: true, force: true }));

const PASSWORDS = { datasets: 'Zx8Qw-long_derived_password_0123456789', warehouse: "p w:o\\rd'q" };

const env = {
  PATH: process.env.PATH,
  DATABASE_DSN__datasets: `host=127.0.0.1 port=54329 dbname=datasets user=berth_l_abc123 password=${PASSWORDS.datasets} sslmode=disable`,
  DATABASE_DSN__warehouse: `host=db.example.internal port=5433 dbname='data warehouse' user=berth_l_abc123 password='p w:o\\\\rd\\'q' sslmode=verify-full`,
  PGHOST: '127.0.0.1',
  BERTH_PGADMIN_DIR: join(dir, 'berth'),
  // The image's /entrypoint.sh, here: record what it would have been started with.
  BERTH_PGADMIN_EXEC: `sh -c 'env > "${join(dir, 'exec-env')}"'`,
};

function runCommand(): Promise<{ code: number | null; output: string }> {
  const [file, ...args] = manifest.spec.command!;
  const child = spawn(file!, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (b: Buffer) => (output += b));
  child.stderr.on('data', (b: Buffer) => (output += b));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

interface Server {
  Name: string;
  Group: string;
  Host: string;
  Port: number;
  MaintenanceDB: string;
  Username: string;
  SSLMode: string;
  PassFile: string;
}

test("every DATABASE_DSN__ becomes a pgAdmin server and a pgpass line, then pgAdmin's entrypoint runs", async () => {
  const { code, output } = await runCommand();
  assert.equal(code, 0, output);
  assert.match(output, /2 database\(s\) listed in pgAdmin/);
  for (const p of Object.values(PASSWORDS)) assert.ok(!output.includes(p), 'a password printed');

  const serversPath = join(dir, 'berth', 'servers.json');
  const passfile = join(dir, 'berth', 'pgpass');
  const { Servers } = JSON.parse(readFileSync(serversPath, 'utf8')) as {
    Servers: Record<string, Server>;
  };
  const servers = Object.values(Servers);
  assert.deepEqual(
    servers.map(({ Name, Group, Host, Port, MaintenanceDB, Username, SSLMode, PassFile }) => ({
      Name,
      Group,
      Host,
      Port,
      MaintenanceDB,
      Username,
      SSLMode,
      PassFile,
    })),
    [
      {
        Name: 'datasets',
        Group: 'Datasets',
        Host: '127.0.0.1',
        Port: 54329,
        MaintenanceDB: 'datasets',
        Username: 'berth_l_abc123',
        SSLMode: 'disable',
        PassFile: passfile,
      },
      {
        Name: 'warehouse',
        Group: 'Datasets',
        Host: 'db.example.internal',
        Port: 5433,
        MaintenanceDB: 'data warehouse',
        Username: 'berth_l_abc123',
        SSLMode: 'verify-full',
        PassFile: passfile,
      },
    ],
  );
  assert.ok(!readFileSync(serversPath, 'utf8').includes(PASSWORDS.datasets));
  assert.equal(statSync(passfile).mode & 0o777, 0o600);

  // libpq's pgpass rules, read by an independent parser (node-postgres's pgpass module).
  const pgpass = createRequire(import.meta.url)('pgpass') as (
    conn: Record<string, unknown>,
    cb: (password?: string) => void,
  ) => void;
  process.env.PGPASSFILE = passfile;
  const lookup = (s: Server) =>
    new Promise<string | undefined>((resolve) =>
      pgpass({ host: s.Host, port: s.Port, database: s.MaintenanceDB, user: s.Username }, resolve),
    );
  try {
    assert.equal(await lookup(servers[0]!), PASSWORDS.datasets);
    assert.equal(await lookup(servers[1]!), PASSWORDS.warehouse);
  } finally {
    delete process.env.PGPASSFILE;
  }

  // The image's entrypoint ran in its place, told where servers.json is.
  const execEnv = readFileSync(join(dir, 'exec-env'), 'utf8');
  assert.match(execEnv, new RegExp(`^PGADMIN_SERVER_JSON_FILE=${serversPath}$`, 'm'));
  assert.match(execEnv, /^PGADMIN_REPLACE_SERVERS_ON_STARTUP=True$/m);
});
