import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { toolDefinition, toolInstance } from '../support/fixtures.ts';
import type { Json } from './support.ts';
import { BASE, type Harness, send, startHarness } from './support.ts';

let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

test('create, get, list, update, delete a ToolDefinition over HTTP', async () => {
  const created = await send(h, 'POST', `${BASE}/tooldefinitions`, {
    token: h.admin,
    body: toolDefinition('jupyter'),
  });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.body.metadata.name, 'jupyter');
  assert.ok(created.body.metadata.uid);
  const rv1 = created.body.metadata.resourceVersion;

  const got = await send(h, 'GET', `${BASE}/tooldefinitions/jupyter`, { token: h.admin });
  assert.equal(got.status, 200);
  assert.equal(got.body.metadata.resourceVersion, rv1);

  const list = await send(h, 'GET', `${BASE}/tooldefinitions`, { token: h.admin });
  assert.equal(list.status, 200);
  assert.equal(list.body.kind, 'ToolDefinitionList');
  assert.deepEqual(
    list.body.items.map((o: Json) => o.metadata.name),
    ['jupyter'],
  );

  const changed = structuredClone(got.body);
  changed.spec.displayName = 'Jupyter Lab';
  const put = await send(h, 'PUT', `${BASE}/tooldefinitions/jupyter`, {
    token: h.admin,
    body: changed,
  });
  assert.equal(put.status, 200, put.text);
  assert.equal(put.body.spec.displayName, 'Jupyter Lab');
  assert.notEqual(put.body.metadata.resourceVersion, rv1);

  // The same stale body again: 409 Conflict.
  const stale = await send(h, 'PUT', `${BASE}/tooldefinitions/jupyter`, {
    token: h.admin,
    body: changed,
  });
  assert.equal(stale.status, 409, stale.text);
  assert.equal(stale.body.kind, 'Status');
  assert.equal(stale.body.reason, 'Conflict');

  const del = await send(h, 'DELETE', `${BASE}/tooldefinitions/jupyter`, { token: h.admin });
  assert.equal(del.status, 200, del.text);
  const gone = await send(h, 'GET', `${BASE}/tooldefinitions/jupyter`, { token: h.admin });
  assert.equal(gone.status, 404);
  assert.equal(gone.body.reason, 'NotFound');
});

test('merge-patch changes only the fields given; a stale resourceVersion in the patch is 409', async () => {
  await send(h, 'POST', `${BASE}/tooldefinitions`, {
    token: h.admin,
    body: toolDefinition('rstudio'),
  });
  const p = await send(h, 'PATCH', `${BASE}/tooldefinitions/rstudio`, {
    token: h.admin,
    body: { spec: { description: 'R in the browser' } },
    contentType: 'application/merge-patch+json',
  });
  assert.equal(p.status, 200, p.text);
  assert.equal(p.body.spec.description, 'R in the browser');
  assert.equal(p.body.spec.displayName, 'rstudio');
  const stale = await send(h, 'PATCH', `${BASE}/tooldefinitions/rstudio`, {
    token: h.admin,
    body: { metadata: { resourceVersion: '1' }, spec: { description: 'x' } },
    contentType: 'application/merge-patch+json',
  });
  assert.equal(stale.status, 409, stale.text);
});

test('apply creates (201), configures (200) and is a no-op when unchanged (same resourceVersion)', async () => {
  const url = `${BASE}/tooldefinitions/pgadmin?fieldManager=test`;
  const yaml = (desc: string) =>
    `apiVersion: berth/v1alpha1\nkind: ToolDefinition\nmetadata:\n  name: pgadmin\nspec:\n  displayName: pgAdmin\n  description: ${desc}\n  image: dpage/pgadmin4:9\n  port: 80\n  sizes:\n    small: {cpu: 256, memory: 512}\n  defaultSize: small\n`;
  const ct = 'application/apply-patch+yaml';
  const a = await send(h, 'PATCH', url, { token: h.admin, raw: yaml('one'), contentType: ct });
  assert.equal(a.status, 201, a.text);
  const b = await send(h, 'PATCH', url, { token: h.admin, raw: yaml('two'), contentType: ct });
  assert.equal(b.status, 200, b.text);
  assert.equal(b.body.spec.description, 'two');
  const c = await send(h, 'PATCH', url, { token: h.admin, raw: yaml('two'), contentType: ct });
  assert.equal(c.status, 200, c.text);
  assert.equal(c.body.metadata.resourceVersion, b.body.metadata.resourceVersion);
  assert.equal(c.body.metadata.generation, b.body.metadata.generation);
  // JSON manifests work too.
  const d = await send(h, 'PATCH', url, {
    token: h.admin,
    raw: JSON.stringify(c.body),
    contentType: 'application/apply-patch+json',
  });
  assert.equal(d.status, 200, d.text);
  const noManager = await send(h, 'PATCH', `${BASE}/tooldefinitions/pgadmin`, {
    token: h.admin,
    raw: yaml('x'),
    contentType: ct,
  });
  assert.equal(noManager.status, 400);
  assert.match(noManager.body.message, /fieldManager/);
});

test('namespaced objects: the URL namespace fills the body, a different one is a 400 naming the field', async () => {
  await send(h, 'POST', `${BASE}/tooldefinitions`, {
    token: h.admin,
    body: toolDefinition('vscode'),
  });
  const body = toolInstance('alice', 'vscode');
  const ok = await send(h, 'POST', `${BASE}/namespaces/alice/toolinstances`, {
    token: h.admin,
    body,
  });
  assert.equal(ok.status, 201, ok.text);
  assert.equal(ok.body.metadata.namespace, 'alice');
  const wrong = await send(h, 'POST', `${BASE}/namespaces/bob/toolinstances`, {
    token: h.admin,
    body,
  });
  assert.equal(wrong.status, 400);
  assert.match(wrong.body.message, /metadata\.namespace/);
  const all = await send(h, 'GET', `${BASE}/toolinstances`, { token: h.admin });
  assert.equal(all.status, 200);
  assert.equal(all.body.items.length, 1);
  const status = await send(h, 'PATCH', `${BASE}/namespaces/alice/toolinstances/vscode/status`, {
    token: h.admin,
    body: { status: { phase: 'Starting' } },
    contentType: 'application/merge-patch+json',
  });
  assert.equal(status.status, 200, status.text);
  assert.equal(status.body.status.phase, 'Starting');
  const getStatus = await send(h, 'GET', `${BASE}/namespaces/alice/toolinstances/vscode/status`, {
    token: h.admin,
  });
  assert.equal(getStatus.body.status.phase, 'Starting');
});

test('validation errors are 422 with one cause per issue', async () => {
  const bad = toolDefinition('broken', { port: 'eighty', bogus: true }) as Json;
  const res = await send(h, 'POST', `${BASE}/tooldefinitions`, { token: h.admin, body: bad });
  assert.equal(res.status, 422, res.text);
  assert.equal(res.body.reason, 'Invalid');
  const fields = res.body.details.causes.map((c: Json) => c.field);
  assert.ok(fields.includes('spec.port'), res.text);
  assert.ok(fields.includes('spec.bogus'), res.text);
});

test('unknown paths are 404 and wrong methods 405, as Status objects', async () => {
  const nf = await send(h, 'GET', `${BASE}/widgets`, { token: h.admin });
  assert.equal(nf.status, 404);
  assert.equal(nf.body.kind, 'Status');
  const na = await send(h, 'POST', `${BASE}/tooldefinitions/x`, { token: h.admin, body: {} });
  assert.equal(na.status, 405);
  assert.equal(na.body.reason, 'MethodNotAllowed');
  assert.match(na.headers.get('allow') ?? '', /PUT/);
  const ct = await send(h, 'POST', `${BASE}/tooldefinitions`, {
    token: h.admin,
    raw: 'x',
    contentType: 'text/plain',
  });
  assert.equal(ct.status, 415);
});
