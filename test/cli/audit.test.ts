// berth audit against a real API: the CLI's own launch and stop show up as how
// "cli", filters reach the server, a non-admin is refused with the server's words.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type RunningApi, startApi } from '../../api/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { toolDefinition } from '../support/fixtures.ts';
import { type Run, runBerth } from './harness.ts';

let db: TestDatabase;
let api: RunningApi;
let dir: string;
let adminToken: string;
let aliceToken: string;

function berth(token: string, args: string[]): Promise<Run> {
  return runBerth(args, {
    env: {
      BERTH_CONFIG: join(dir, `config-${token.slice(-6)}.yaml`),
      BERTH_SERVER: api.url,
      BERTH_TOKEN: token,
    },
  });
}

function ok(r: Run): Run {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

before(async () => {
  db = await freshDatabase();
  api = await startApi({ pool: db.pool, port: 0, config: { logLevel: 'silent' } });
  adminToken = (await api.identity.createToken({ user: 'root', admin: true })).token;
  aliceToken = (await api.identity.createToken({ user: 'alice' })).token;
  dir = await mkdtemp(join(tmpdir(), 'berth-cli-audit-'));
  await api.store.create('ToolDefinition', toolDefinition('demo'));
});

after(async () => {
  await api?.close();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('berth audit: a table of what the CLI did, filters, -o json and wide, admins only', async () => {
  ok(await berth(aliceToken, ['launch', 'demo']));
  ok(await berth(aliceToken, ['stop', 'demo']));

  const table = ok(await berth(adminToken, ['audit', '--user', 'alice']));
  const lines = table.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^AGE\s+ACTOR\s+ACTION\s+TARGET\s+HOW\s+OUTCOME$/);
  assert.match(
    lines[1]!,
    /^\d+s\s+alice\s+instance\.stopped\s+toolinstance\/alice\/demo\s+cli\s+success$/,
  );
  assert.match(
    lines[2]!,
    /^\d+s\s+alice\s+instance\.launched\s+toolinstance\/alice\/demo\s+cli\s+success$/,
  );
  assert.equal(lines.length, 3);

  const json = JSON.parse(
    ok(await berth(adminToken, ['audit', '--action', 'instance.launched', '-o', 'json'])).stdout,
  );
  assert.equal(json.kind, 'AuditEntryList');
  assert.deepEqual(
    json.items.map((e: { actor: string; action: string; how: string }) => [
      e.actor,
      e.action,
      e.how,
    ]),
    [['alice', 'instance.launched', 'cli']],
  );

  const wide = ok(
    await berth(adminToken, ['audit', '--since', '1h', '-o', 'wide', '--limit', '1']),
  );
  const [header, row, ...rest] = wide.stdout.trimEnd().split('\n');
  assert.match(header!, /TIME\s+CLIENT\s+DETAIL$/);
  assert.match(row!, /instance\.stopped .* \d{4}-\d\d-\d\dT\S+Z\s+\S+\s+tool=demo$/);
  assert.deepEqual(rest, [], '--limit 1 shows one entry');

  const none = ok(await berth(adminToken, ['audit', '--user', 'nobody']));
  assert.equal(none.stdout, '');
  assert.match(none.stderr, /No audit entries found/);

  const refused = await berth(aliceToken, ['audit']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^error: .*user "alice" cannot read the audit log: admin only/m);

  const bad = await berth(adminToken, ['audit', '--since', 'yesterday']);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /since/);
  assert.doesNotMatch(bad.stderr, /at .*\.ts:\d+/, 'no stack trace');
});
