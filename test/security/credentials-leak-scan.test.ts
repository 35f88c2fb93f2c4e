// The wall around a tool's database password, through the real thing: `berth up`
// (its PostgreSQL, `datasets` database, ecs-local, controllers, API and proxy, all
// logging at debug), a user who launches the demo tool with the CLI, an access
// change while it runs, describe, events, a stop, a second launch, a stop. The
// login passwords and DSNs (read as an operator with ecs:DescribeTasks would), the
// datasets admin's password, the credentials key and the store's superuser
// password are then searched for in every line berth up printed, every CLI answer,
// every API answer a user and an admin can get, the /metrics of the API, the proxy
// and the controllers, every row of berth's store database and pg_stat_activity.
// None may hold one.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type BerthUp, startBerthUp } from '../support/berth-up.ts';
import { waitFor } from '../support/wait.ts';
import {
  asToolLogin,
  type CliResult,
  cliAs,
  leaks,
  type Secret,
  storeTables,
  taskEnvironment,
} from './credentials-leak-scan-support.ts';

const BASE = '/apis/berth/v1alpha1';
const USER = 'dev';

let berth: BerthUp;
let userToken: string;
/** Every CLI answer (stdout and stderr), user's and admin's. */
const cliAnswers: [string, string][] = [];

before(async () => {
  berth = await startBerthUp({
    // Debug: a line per API request too. The credentials key: berth up's own, kept
    // in the data folder (as `make run`), not the test run's.
    env: { BERTH_LOG_LEVEL: 'debug', BERTH_LOG_FORMAT: 'json', BERTH_CREDENTIALS_KEY: '' },
  });
  await asAdmin('apply', '-f', 'examples/demo.yaml');
  const res = await berth.api('POST', `${BASE}/tokens`, { user: USER, description: 'leak scan' });
  assert.equal(res.status, 201, await res.clone().text());
  userToken = ((await res.json()) as { token: string }).token;
});

after(async () => {
  await berth?.dispose();
});

async function run(who: string, r: Promise<CliResult>, args: string[]): Promise<string> {
  const out = await r;
  const what = `berth ${args.join(' ')} (as ${who})`;
  cliAnswers.push([what, `${out.stdout}\n${out.stderr}`]);
  assert.equal(out.code, 0, `${what}: ${out.stderr}${out.stdout}`);
  return out.stdout;
}
const asUser = (...args: string[]) => run(USER, cliAs(berth, userToken, ...args), args);
const asAdmin = (...args: string[]) => run('admin', berth.cli(...args), args);

interface Instance {
  status?: {
    phase?: string;
    taskArn?: string;
    attempt?: number;
    conditions?: { type: string; status: string; reason?: string }[];
  };
}

async function instance(): Promise<Instance> {
  const res = await berth.api('GET', `${BASE}/namespaces/${USER}/toolinstances/demo`);
  assert.equal(res.status, 200);
  return (await res.json()) as Instance;
}

const condition = (ti: Instance, type: string) =>
  ti.status?.conditions?.find((c) => c.type === type);

/** Launches the demo as the user; once Ready with Credentials=True, its tool environment. */
async function launch(attempt: number): Promise<Record<string, string>> {
  await asUser('launch', 'demo');
  await asUser('wait', 'ti/demo', '--for=condition=Ready', '--timeout', '90s');
  const ti = await waitFor(
    async () => {
      const t = await instance();
      return condition(t, 'Credentials')?.status === 'True' && t.status?.attempt === attempt
        ? t
        : undefined;
    },
    30_000,
    `attempt ${attempt} Ready with Credentials=True`,
  );
  const env = await taskEnvironment(berth, ti.status!.taskArn!);
  assert.equal(env.PGPASSWORD?.length, 43, 'a derived password is 43 base64url characters');
  assert.ok(env.DATABASE_DSN__datasets?.includes(`password=${env.PGPASSWORD}`));
  // A real secret: it opens the datasets database and reads what the user may see.
  const { rows } = await asToolLogin<{ n: number }>(
    env,
    'select count(*)::int as n from trade.exports',
  );
  assert.ok(rows[0]!.n > 0);
  return env;
}

async function stop(): Promise<void> {
  await asUser('stop', 'demo');
  await asUser('wait', 'ti/demo', '--for=jsonpath={.status.phase}=Stopped', '--timeout', '60s');
}

/** BERTH_CREDENTIALS_KEY as kept (hex or base64) and its bytes in the other encodings. */
function keyForms(kept: string): Secret[] {
  const bytes = /^(?:[0-9a-f]{2})+$/i.test(kept)
    ? Buffer.from(kept, 'hex')
    : Buffer.from(kept, 'base64');
  const forms = new Set([
    kept,
    bytes.toString('hex'),
    bytes.toString('base64'),
    bytes.toString('base64url'),
  ]);
  return [...forms].map((value) => ({ what: 'BERTH_CREDENTIALS_KEY', value }));
}

async function get(token: string, path: string): Promise<string> {
  const res = await fetch(`${berth.apiUrl}${path}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const text = await res.text();
  assert.equal(res.status, 200, `GET ${path}: ${res.status} ${text}`);
  return text;
}

async function metrics(url: string): Promise<string> {
  const res = await fetch(url);
  assert.equal(res.status, 200, `${url}: ${res.status}`);
  return res.text();
}

test("a whole launch's logs, Events, status, API answers and metrics hold no password, DSN or key", async () => {
  const first = await launch(1);
  await assert.rejects(asToolLogin(first, 'select 1 from hr.salaries limit 1'), { code: '42501' });

  // An access change while it runs: requested by the user, approved by the approver.
  await asUser('request', 'access', 'hr-salaries', '--reason', 'pay analysis');
  await asAdmin('approve', 'hr-salaries', '-n', USER, '--comment', 'ok');
  await waitFor(
    async () =>
      (await asToolLogin(first, 'select 1 from hr.salaries limit 1').catch(() => undefined))
        ?.rowCount === 1,
    30_000,
    'the running tool reads hr.salaries after the approval',
  );
  await asUser('describe', 'ti', 'demo');
  await asUser('get', 'events');
  await stop();
  const second = await launch(2);
  assert.notEqual(second.PGPASSWORD, first.PGPASSWORD);
  await stop();
  // An error path that holds the admin's password: a Database its login cannot open.
  const created = await berth.api('POST', `${BASE}/databases`, {
    apiVersion: 'berth/v1alpha1',
    kind: 'Database',
    metadata: { name: 'unreachable' },
    spec: {
      host: '127.0.0.1',
      port: berth.ports.pg,
      dbname: 'no-such-db',
      sslmode: 'disable',
      adminCredentials: { fromEnv: 'BERTH_DATASETS_ADMIN' },
    },
  });
  assert.equal(created.status, 201, await created.text());
  await waitFor(
    async () => {
      const res = await berth.api('GET', `${BASE}/databases/unreachable`);
      const db = (await res.json()) as Instance;
      return condition(db, 'Connected')?.status === 'False';
    },
    30_000,
    'Database unreachable Connected=False',
  );

  const dataDir = berth.dataDir;
  const admin = JSON.parse(readFileSync(join(dataDir, 'datasets-admin.json'), 'utf8')) as {
    password: string;
  };
  const superuser = readFileSync(join(dataDir, 'postgres', 'superuser-password'), 'utf8').trim();
  const secrets: Secret[] = [
    { what: 'first login password', value: first.PGPASSWORD! },
    { what: 'first DSN', value: first.DATABASE_DSN__datasets! },
    { what: 'second login password', value: second.PGPASSWORD! },
    { what: 'second DSN', value: second.DATABASE_DSN__datasets! },
    { what: 'datasets admin password', value: admin.password },
    ...keyForms(readFileSync(join(dataDir, 'credentials.key'), 'utf8').trim()),
    { what: 'store superuser password', value: superuser },
  ];
  for (const s of secrets) assert.ok(s.value.length >= 24, `${s.what} is a real value`);

  // What a user and an admin can read through the CLI (-o json and describe)...
  for (const kind of ['toolinstances', 'events', 'databases', 'datasets', 'accessrequests']) {
    await asUser('get', kind, '-o', 'json');
    await asAdmin('get', kind, '-A', '-o', 'json');
  }
  await asUser('describe', 'ti', 'demo');
  await asAdmin('describe', 'ti', 'demo', '-n', USER);
  for (const [kind, name] of [
    ['database', 'datasets'],
    ['dataset', 'hr-salaries'],
    ['dataset', 'uk-trade'],
    ['database', 'unreachable'],
  ]) {
    await asUser('describe', kind!, name!);
    await asAdmin('describe', kind!, name!);
  }
  await asAdmin('describe', 'ar', 'hr-salaries', '-n', USER);
  await asAdmin('audit', '-o', 'json', '--limit', '1000');
  // ...and through the API itself.
  const api: [string, string][] = [];
  const userPaths = [
    `/namespaces/${USER}/toolinstances`,
    `/namespaces/${USER}/toolinstances/demo`,
    `/namespaces/${USER}/events`,
    `/namespaces/${USER}/accessrequests`,
    '/databases',
    '/databases/datasets',
    '/datasets',
    '/datasetaccess',
  ];
  for (const p of userPaths) api.push([`GET ${p} (as ${USER})`, await get(userToken, BASE + p)]);
  for (const p of [
    ...userPaths,
    '/toolinstances',
    '/events',
    '/accessrequests',
    '/audit?limit=1000',
  ])
    api.push([`GET ${p} (as admin)`, await get(berth.token, BASE + p)]);

  const controllerMetrics = /controller metrics: (http:\/\/\S+\/metrics)/.exec(berth.output())?.[1];
  assert.ok(controllerMetrics, 'berth up printed the controller metrics address');
  const places: [string, string][] = [
    ...cliAnswers,
    ...api,
    ['API /metrics', await metrics(`${berth.apiUrl}/metrics`)],
    // The proxy answers /metrics on berth's own host (BERTH_BASE_DOMAIN, localhost).
    ['proxy /metrics', await metrics(`http://localhost:${berth.ports.proxy}/metrics`)],
    ['controller /metrics', await metrics(controllerMetrics)],
    ...(await storeTables(
      `postgres://postgres:${encodeURIComponent(superuser)}@127.0.0.1:${berth.ports.pg}/postgres`,
    )),
  ];
  const lines = berth.output().split('\n');
  for (const [i, line] of lines.entries()) places.push([`berth up output line ${i + 1}`, line]);

  // It looked at something: the surfaces are there, and say what they should.
  assert.ok(lines.length > 100, `berth up printed ${lines.length} lines`);
  assert.ok(
    lines.some((l) => l.includes('"level":20')),
    'berth up logged at debug (a line per API request)',
  );
  for (const [where, text] of places)
    if (!where.startsWith('berth up output') && !where.startsWith('store table'))
      assert.ok(text.trim().length > 0, `${where} is empty`);
  const text = (where: string) => places.find(([w]) => w === where)?.[1] ?? '';
  assert.match(text('GET /namespaces/dev/toolinstances/demo (as dev)'), /"Credentials"/);
  assert.match(text('GET /audit?limit=1000 (as admin)'), /accessrequest\.approved/);
  assert.match(text('store table public.resources'), /\bEvent\b/);
  assert.match(text('controller /metrics'), /^# HELP /m);
  assert.match(text('proxy /metrics'), /^# HELP /m);
  assert.match(text('API /metrics'), /^# HELP /m);

  assert.deepEqual(leaks(secrets, places), []);
  const chars = places.reduce((n, [, t]) => n + t.length, 0);
  console.log(
    `scanned ${places.length} places (${lines.length} log lines, ${chars} characters) for ${secrets.length} secrets: none found`,
  );
});
