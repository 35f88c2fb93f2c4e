// The store with berth's real kinds (the default): apply of the shipped examples is
// idempotent, and Events validate against the real Event schema.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parse } from 'yaml';
import { ResourceStore } from '../../store/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';

let db: TestDatabase;
let store: ResourceStore;
before(async () => {
  db = await freshDatabase();
  store = new ResourceStore(db.pool);
});
after(async () => {
  await store.close();
  await db.drop();
});

test('applying the example ToolDefinitions twice: created, then unchanged', async () => {
  const dir = join(import.meta.dirname, '..', '..', 'examples');
  for (const file of ['jupyterlab.yaml', 'rstudio.yaml', 'pgadmin.yaml', 'vscode.yaml']) {
    const manifest = parse(await readFile(join(dir, file), 'utf8'));
    const first = await store.apply('ToolDefinition', manifest, { fieldManager: 'test' });
    assert.equal(first.result, 'created', file);
    const second = await store.apply('ToolDefinition', manifest, { fieldManager: 'test' });
    assert.equal(second.result, 'unchanged', file);
    assert.equal(second.object.metadata.resourceVersion, first.object.metadata.resourceVersion);
  }
});

test('recordEvent with the real Event kind aggregates', async () => {
  const input = {
    involvedObject: { kind: 'ToolDefinition', name: 'jupyterlab' },
    type: 'Normal' as const,
    reason: 'Applied',
    message: 'configured by test',
    source: { component: 'test' },
  };
  const a = await store.recordEvent(input);
  const b = await store.recordEvent(input);
  assert.equal(a.metadata.namespace, 'default');
  assert.equal(b.metadata.name, a.metadata.name);
  assert.equal(b.count, 2);
});

test('Events last seen longer ago than the time to live are deleted; newer ones stay', async () => {
  const involvedObject = { kind: 'ToolInstance', namespace: 'alice', name: 'lab' };
  const base = { involvedObject, type: 'Normal' as const, reason: 'TaskLaunched' };
  const dayAgo = Date.now() - 25 * 3_600_000;
  const old = await store.recordEvent({ ...base, message: 'old', now: new Date(dayAgo) });
  const fresh = await store.recordEvent({ ...base, message: 'fresh' });
  // Seen again recently: its lastTimestamp, not its first, counts.
  const repeated = await store.recordEvent({ ...base, message: 'again', now: new Date(dayAgo) });
  await store.recordEvent({ ...base, message: 'again' });
  assert.equal(await store.expireEvents(24 * 3_600_000), 1);
  await assert.rejects(store.get('Event', 'alice', old.metadata.name), /not found/);
  await store.get('Event', 'alice', fresh.metadata.name);
  await store.get('Event', 'alice', repeated.metadata.name);
  assert.equal(await store.expireEvents(24 * 3_600_000), 0);
});
