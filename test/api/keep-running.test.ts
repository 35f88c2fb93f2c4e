// POST …/toolinstances/NAME/keep-running: the owner or an admin says the tool is
// in use. lastActivityAt becomes now, an Idle stop warning goes, a MaxLifetime
// one stays (and the answer says so); anyone else gets the 404 of a missing one.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { toolDefinition, toolInstance } from '../support/fixtures.ts';
import { BASE, type Harness, send, startHarness } from './support.ts';

let h: Harness;
const PATH = `${BASE}/namespaces/alice/toolinstances/demo/keep-running`;
const soon = () => new Date(Date.now() + 8 * 60_000).toISOString();

before(async () => {
  h = await startHarness();
  await h.api.store.create('ToolDefinition', toolDefinition('demo'));
  await h.api.store.create(
    'ToolInstance',
    toolInstance('alice', 'demo', 'demo', { state: 'Running' }),
  );
});

after(async () => {
  await h.close();
});

async function warn(reason: 'Idle' | 'MaxLifetime'): Promise<void> {
  await h.api.store.patchStatus('ToolInstance', 'alice', 'demo', {
    status: {
      phase: 'Ready',
      lastActivityAt: '2026-01-01T00:00:00Z',
      stopWarning: {
        reason,
        stopAt: soon(),
        warnedAt: new Date().toISOString(),
        message: reason === 'Idle' ? 'idle for 22 min' : 'reaches its 8 h limit',
      },
    },
  });
}

async function status(): Promise<{ lastActivityAt?: string; stopWarning?: { reason: string } }> {
  return ((await h.api.store.get('ToolInstance', 'alice', 'demo')).status ?? {}) as never;
}

beforeEach(() => warn('Idle'));

test('the owner keeps it running: lastActivityAt now, the Idle warning gone, the instance answered', async () => {
  const before = Date.now() - 1000;
  const r = await send(h, 'POST', PATH, { token: h.alice });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.kind, 'ToolInstance');
  assert.equal(r.body.status.stopWarning, undefined);
  assert.equal(r.headers.get('warning'), null);
  const s = await status();
  assert.equal(s.stopWarning, undefined);
  assert.ok(Date.parse(s.lastActivityAt!) >= before, s.lastActivityAt);
  // A body of {} is fine too; the spec (generation) is untouched.
  const again = await send(h, 'POST', PATH, { token: h.alice, body: {} });
  assert.equal(again.status, 200);
  assert.equal(again.body.metadata.generation, r.body.metadata.generation);
});

test('an admin may keep anyone’s running', async () => {
  const r = await send(h, 'POST', PATH, { token: h.admin });
  assert.equal(r.status, 200, r.text);
  assert.equal((await status()).stopWarning, undefined);
});

test('a MaxLifetime warning stays, and the answer says it cannot be postponed', async () => {
  await warn('MaxLifetime');
  const r = await send(h, 'POST', PATH, { token: h.alice });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.body.status.stopWarning.reason, 'MaxLifetime');
  assert.match(r.headers.get('warning') ?? '', /^299 berth ".*cannot be postponed"$/);
  const s = await status();
  assert.equal(s.stopWarning?.reason, 'MaxLifetime');
  assert.notEqual(s.lastActivityAt, '2026-01-01T00:00:00Z', 'still counts as use');
});

test('another user gets 404, exactly as for an instance that does not exist', async () => {
  const theirs = await send(h, 'POST', PATH, { token: h.bob });
  const missing = await send(h, 'POST', PATH.replace('/demo/', '/nope/'), { token: h.alice });
  assert.equal(theirs.status, 404);
  assert.equal(missing.status, 404);
  assert.equal(theirs.body.message, 'toolinstances "demo" not found');
  assert.equal(missing.body.message, 'toolinstances "nope" not found');
  assert.equal((await status()).stopWarning?.reason, 'Idle', 'nothing changed');
});

test('bad requests: another method, a body that is not {}, too big a body, no token', async () => {
  const get = await send(h, 'GET', PATH, { token: h.alice });
  assert.equal(get.status, 405);
  assert.equal(get.headers.get('allow'), 'POST');
  const extra = await send(h, 'POST', PATH, { token: h.alice, body: { until: 'forever' } });
  assert.equal(extra.status, 422, extra.text);
  assert.match(extra.text, /until/);
  const big = await send(h, 'POST', PATH, {
    token: h.alice,
    raw: `{"x":"${'a'.repeat(4096)}"}`,
    contentType: 'application/json',
  });
  assert.equal(big.status, 413);
  assert.equal((await send(h, 'POST', PATH)).status, 401);
  assert.equal((await status()).stopWarning?.reason, 'Idle', 'nothing changed');
});
