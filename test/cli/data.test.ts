// The CLI's data verbs against a real API: describe dataset (tables, access, who
// has access, approvers, the requests the caller may see), request access
// (including asking again after a denial), approve/deny, and the server's 403
// for someone who may not decide.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type RunningApi, startApi } from '../../api/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { type Run, runBerth } from './harness.ts';

let db: TestDatabase;
let api: RunningApi;
let dir: string;
const tokens: Record<string, string> = {};

function berth(user: string, args: string[]): Promise<Run> {
  return runBerth(args, {
    env: {
      BERTH_CONFIG: join(dir, `config-${user}.yaml`),
      BERTH_SERVER: api.url,
      BERTH_TOKEN: tokens[user],
    },
  });
}

function ok(r: Run): Run {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

function failed(r: Run): Run {
  assert.equal(r.code, 1, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  return r;
}

before(async () => {
  db = await freshDatabase();
  api = await startApi({ pool: db.pool, port: 0, config: { logLevel: 'silent' } });
  tokens.root = (await api.identity.createToken({ user: 'root', admin: true })).token;
  for (const [name, groups] of [
    ['alice', ['analysts']],
    ['bob', []],
    ['carol', ['stewards']],
    ['dave', []],
  ] as const) {
    await api.identity.upsertUser({ name, groups: [...groups] });
    tokens[name] = (await api.identity.createToken({ user: name })).token;
  }
  dir = await mkdtemp(join(tmpdir(), 'berth-cli-data-'));
  await api.store.create('Database', {
    apiVersion: 'berth/v1alpha1',
    kind: 'Database',
    metadata: { name: 'warehouse' },
    spec: {
      host: 'db.internal',
      dbname: 'datasets',
      adminCredentials: { fromEnv: 'WAREHOUSE_ADMIN' },
    },
  });
  await api.store.create('Dataset', {
    apiVersion: 'berth/v1alpha1',
    kind: 'Dataset',
    metadata: { name: 'sales' },
    spec: {
      title: 'Sales by region',
      description: 'Monthly sales, one row per region and month.',
      tables: [
        { database: 'warehouse', schema: 'sales', table: 'orders' },
        { database: 'warehouse', schema: 'sales', table: 'regions' },
      ],
      access: { type: 'named', users: ['dave'], groups: ['analysts'] },
      approvers: { users: ['bob'], groups: ['stewards'] },
    },
  });
});

after(async () => {
  await api?.close();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('get datasets, databases and access requests print their columns', async () => {
  const ds = ok(await berth('bob', ['get', 'datasets'])).stdout;
  assert.match(ds, /^NAME\s+TITLE\s+ACCESS\s+READY\s+AGE\n/);
  assert.match(ds, /\nsales\s+Sales by region\s+named\s+<none>\s+\d+s\n/);
  const dbs = ok(await berth('bob', ['get', 'db'])).stdout;
  assert.match(dbs, /^NAME\s+HOST\s+DBNAME\s+CONNECTED\s+AGE\n/);
  assert.match(dbs, /\nwarehouse\s+db\.internal\s+datasets\s+<none>\s+\d+s\n/);
});

test('request access, describe it, approve: the requester and the approver see it change', async () => {
  const created = ok(
    await berth('bob', ['request', 'access', 'sales', '--reason', 'quarterly report']),
  );
  // bob approves sales, but only others' requests: an admin or the stewards decide his.
  assert.equal(
    created.stdout,
    'accessrequest/sales created (pending approval by bob, group stewards or an admin)\n',
  );

  const again = failed(await berth('bob', ['request', 'access', 'sales', '--reason', 'again']));
  assert.match(again.stderr, /^error: .*pending/);

  const unknown = failed(await berth('bob', ['request', 'access', 'nope', '--reason', 'x']));
  assert.equal(
    unknown.stderr,
    'error: dataset "nope" does not exist (berth get datasets lists them)\n',
  );

  // Who has access is the controllers' to write (as status.access) and the approvers' to see.
  const patched = await fetch(`${api.url}/apis/berth/v1alpha1/datasets/sales/status`, {
    method: 'PATCH',
    headers: {
      authorization: `Bearer ${tokens.root}`,
      'content-type': 'application/merge-patch+json',
    },
    body: JSON.stringify({
      status: { access: { everyone: false, users: ['alice', 'dave'], apps: [] } },
    }),
  });
  assert.equal(patched.status, 200, await patched.text());

  // The approver carol (by group) sees the whole dataset and bob's pending request.
  const described = ok(await berth('carol', ['describe', 'dataset', 'sales'])).stdout;
  assert.match(described, /^Name:\s+sales\nTitle:\s+Sales by region\n/);
  assert.match(described, /\nDescription:\s+Monthly sales, one row per region and month\.\n/);
  assert.match(
    described,
    /\nTables:\n\s+Database\s+Schema\s+Table\n[\s-]+\n\s+warehouse\s+sales\s+orders\n\s+warehouse\s+sales\s+regions\n/,
  );
  assert.match(
    described,
    /\nAccess:\n\s+Type:\s+named .*\n\s+Users:\s+dave\n\s+Groups:\s+analysts\n/,
  );
  assert.match(described, /\nWho Has Access:\n\s+Everyone:\s+no\n\s+Users:\s+alice, dave\n/);
  assert.match(described, /\nApprovers:\n\s+Users:\s+bob\n\s+Groups:\s+stewards\n/);
  assert.match(described, /\nRequests:\n\s+Requester\s+Name\s+Phase\s+Decided By\s+Age\s+Reason\n/);
  assert.match(described, /\n\s+bob\s+sales\s+Pending\s+\d+s\s+quarterly report\n/);

  // A plain user sees the dataset and only their own requests (none), not bob's.
  const plain = ok(await berth('dave', ['describe', 'ds', 'sales'])).stdout;
  assert.match(plain, /\nTables:\n/);
  assert.match(plain, /\nRequests:\s+<none>\n/);
  assert.doesNotMatch(plain, /quarterly report/);
  assert.doesNotMatch(plain, /Who Has Access/);
  assert.match(plain, /\nEvents:\s+<shown to admins only>\n$/);

  ok(await berth('carol', ['get', 'ar', '-A'])).stdout.match(/bob\s+sales\s+sales/) ??
    assert.fail('carol lists bob’s request across namespaces');

  // Without -n the request is found by name among those carol may decide.
  const approved = ok(await berth('carol', ['approve', 'sales', '--comment', 'fine']));
  assert.equal(approved.stdout, 'accessrequest/sales approved\n');
  const after = ok(await berth('bob', ['get', 'ar', 'sales', '-o', 'json']));
  const status = JSON.parse(after.stdout).status;
  assert.equal(status.phase, 'Approved');
  assert.equal(status.decidedBy, 'carol');
  assert.equal(status.comment, 'fine');
  const seen = ok(await berth('bob', ['describe', 'dataset', 'sales'])).stdout;
  assert.match(seen, /\n\s+bob\s+sales\s+Approved\s+carol\s+\d+s\s+quarterly report\n/);
});

test('deny, then asking again makes DATASET-2 and says why', async () => {
  await api.store.create('Dataset', {
    apiVersion: 'berth/v1alpha1',
    kind: 'Dataset',
    metadata: { name: 'payroll' },
    spec: {
      title: 'Payroll',
      tables: [{ database: 'warehouse', schema: 'hr', table: 'pay' }],
      approvers: { users: ['bob'] },
    },
  });
  ok(await berth('dave', ['request', 'access', 'payroll', '--reason', 'audit']));
  const denied = ok(
    await berth('bob', ['deny', 'payroll', '-n', 'dave', '--comment', 'ask your manager']),
  );
  assert.equal(denied.stdout, 'accessrequest/payroll denied\n');

  const again = ok(await berth('dave', ['request', 'access', 'payroll', '--reason', 'manager ok']));
  assert.equal(
    again.stdout,
    'accessrequest/payroll-2 created (pending approval by bob or an admin)\n',
  );
  assert.equal(
    again.stderr,
    'accessrequest/payroll was denied by bob; asking again as accessrequest/payroll-2\n',
  );
  const list = ok(await berth('dave', ['get', 'ar', '-o', 'name'])).stdout;
  assert.equal(list, 'accessrequest/payroll\naccessrequest/payroll-2\n');
});

test("a non-approver's approve and an approver's own request print the server's 403", async () => {
  ok(await berth('alice', ['request', 'access', 'payroll', '--reason', 'curious']));
  const notApprover = failed(await berth('dave', ['approve', 'payroll', '-n', 'alice']));
  assert.match(notApprover.stderr, /^error: .*dave.*\n$/);
  assert.match(notApprover.stderr, /approv/i);

  ok(await berth('bob', ['request', 'access', 'payroll', '--reason', 'mine']));
  const own = failed(await berth('bob', ['approve', 'payroll', '-n', 'bob']));
  assert.match(own.stderr, /^error: .*own/);

  const missing = failed(await berth('bob', ['deny', 'nosuch', '-n', 'alice']));
  assert.equal(
    missing.stderr,
    'error: accessrequest "nosuch" not found in namespace "alice" (berth get ar -A lists them)\n',
  );
  const ambiguous = failed(await berth('root', ['approve', 'payroll']));
  assert.match(ambiguous.stderr, /namespaces .*alice.*bob.*-n NAMESPACE/);
});
