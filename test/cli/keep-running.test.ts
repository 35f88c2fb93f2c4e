// berth keep-running: the CLI's "Keep it running" against a real API. It calls
// an idle stop off and says until when the tool runs unused; a maxLifetime stop
// stays and it says it cannot be postponed; someone else's instance is not found.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type RunningApi, startApi } from '../../api/index.ts';
import type { ToolInstance } from '../../crds/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { toolDefinition, toolInstance } from '../support/fixtures.ts';
import { type Run, runBerth } from './harness.ts';

let db: TestDatabase;
let api: RunningApi;
let dir: string;
const tokens: Record<string, string> = {};

function as(user: string, args: string[]): Promise<Run> {
  return runBerth(args, {
    env: {
      BERTH_CONFIG: join(dir, `config-${user}.yaml`),
      BERTH_SERVER: api.url,
      BERTH_TOKEN: tokens[user],
    },
  });
}

async function warn(reason: 'Idle' | 'MaxLifetime'): Promise<void> {
  await api.store.patchStatus('ToolInstance', 'alice', 'lab', {
    status: {
      lastActivityAt: '2026-01-01T00:00:00Z',
      stopWarning: {
        reason,
        stopAt: new Date(Date.now() + 8 * 60_000).toISOString(),
        warnedAt: new Date().toISOString(),
        message: reason,
      },
    },
  });
}

async function lab(): Promise<ToolInstance> {
  return (await api.store.get('ToolInstance', 'alice', 'lab')) as unknown as ToolInstance;
}

before(async () => {
  db = await freshDatabase();
  api = await startApi({ pool: db.pool, port: 0, config: { logLevel: 'silent' } });
  tokens.alice = (await api.identity.createToken({ user: 'alice' })).token;
  tokens.bob = (await api.identity.createToken({ user: 'bob' })).token;
  dir = await mkdtemp(join(tmpdir(), 'berth-cli-keep-'));
  await api.store.create(
    'ToolDefinition',
    toolDefinition('jupyterlab', { idle: { idleAfter: '1h' } }),
  );
  // An instance named otherwise than its tool: found by either name.
  await api.store.create(
    'ToolInstance',
    toolInstance('alice', 'lab', 'jupyterlab', { state: 'Running' }),
  );
});

after(async () => {
  await api?.close();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('an idle stop is called off; it says until when the tool runs unused', async () => {
  await warn('Idle');
  const r = await as('alice', ['keep-running', 'jupyterlab']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^toolinstance\/lab kept running; unused from now on, it stops no earlier than \d\d:\d\d \(in (59m|60m)\) \(namespace alice\)\n$/,
  );
  const ti = await lab();
  assert.equal(ti.status?.stopWarning, undefined);
  assert.notEqual(ti.status?.lastActivityAt, '2026-01-01T00:00:00Z');
  // By the instance's own name, with nothing scheduled.
  const again = await as('alice', ['keep-running', 'lab']);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /^toolinstance\/lab kept running; unused from now on/);
});

test('a maxLifetime stop cannot be postponed, and it says so', async () => {
  await warn('MaxLifetime');
  const r = await as('alice', ['keep-running', 'lab']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout,
    /^toolinstance\/lab still stops at \d\d:\d\d \(in [78]m\d*s?\): it reaches its maxLifetime, which cannot be postponed/,
  );
  assert.equal((await lab()).status?.stopWarning?.reason, 'MaxLifetime');
});

test("someone else's instance is not found, and nothing changes", async () => {
  await warn('Idle');
  const r = await as('bob', ['keep-running', 'lab', '-n', 'alice']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /not found/);
  assert.equal((await lab()).status?.stopWarning?.reason, 'Idle');
});
