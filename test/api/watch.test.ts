import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { toolDefinition } from '../support/fixtures.ts';
import { metricValue } from '../support/metrics.ts';
import { waitFor } from '../support/wait.ts';
import { BASE, type Harness, openWatch, send, startHarness } from './support.ts';

let h: Harness;
before(async () => {
  h = await startHarness({ maxWatchesPerToken: 3 });
});
after(async () => {
  await h.close();
});

/** Watches the server holds open, from its /metrics. */
async function openWatches(): Promise<number> {
  return metricValue(
    await fetch(`${h.url}/metrics`).then((r) => r.text()),
    'berth_api_open_watches',
  );
}

test('NDJSON watch streams ADDED, MODIFIED and DELETED after the given resourceVersion', async () => {
  const list = await send(h, 'GET', `${BASE}/tooldefinitions`, { token: h.admin });
  const rv = list.body.metadata.resourceVersion;
  const w = await openWatch(h, `${BASE}/tooldefinitions?watch=true&resourceVersion=${rv}`, h.admin);
  try {
    assert.equal(w.status, 200);
    assert.match(w.contentType, /application\/json/);
    await send(h, 'POST', `${BASE}/tooldefinitions`, {
      token: h.admin,
      body: toolDefinition('w1'),
    });
    const added = await w.next();
    assert.equal(added.type, 'ADDED');
    assert.equal(added.object.metadata.name, 'w1');
    await send(h, 'PATCH', `${BASE}/tooldefinitions/w1`, {
      token: h.admin,
      body: { spec: { description: 'changed' } },
      contentType: 'application/merge-patch+json',
    });
    const modified = await w.next();
    assert.equal(modified.type, 'MODIFIED');
    assert.equal(modified.object.spec.description, 'changed');
    await send(h, 'DELETE', `${BASE}/tooldefinitions/w1`, { token: h.admin });
    const deleted = await w.next();
    assert.equal(deleted.type, 'DELETED');
    assert.ok(
      Number(deleted.object.metadata.resourceVersion) >
        Number(modified.object.metadata.resourceVersion),
    );
  } finally {
    w.close();
  }
});

test('server-sent events carry the same events; the open-watch gauge counts them', async () => {
  const w = await openWatch(h, `${BASE}/tooldefinitions?watch=true`, h.admin, true);
  try {
    assert.equal(w.status, 200);
    assert.match(w.contentType, /text\/event-stream/);
    await send(h, 'POST', `${BASE}/tooldefinitions`, {
      token: h.admin,
      body: toolDefinition('sse1'),
    });
    const ev = await w.next();
    assert.equal(ev.type, 'ADDED');
    assert.equal(ev.object.metadata.name, 'sse1');
    assert.equal(await openWatches(), 1);
  } finally {
    w.close();
  }
  await waitFor(async () => (await openWatches()) === 0, 10_000, 'no watch left open');
});

test('a compacted resourceVersion answers 410 Gone as a Status before streaming', async () => {
  await send(h, 'POST', `${BASE}/tooldefinitions`, {
    token: h.admin,
    body: toolDefinition('old1'),
  });
  await send(h, 'DELETE', `${BASE}/tooldefinitions/old1`, { token: h.admin });
  await h.api.store.compact(0);
  const res = await send(h, 'GET', `${BASE}/tooldefinitions?watch=true&resourceVersion=1`, {
    token: h.admin,
  });
  assert.equal(res.status, 410, res.text);
  assert.equal(res.body.kind, 'Status');
  assert.equal(res.body.reason, 'Gone');
});

test('open watches per token are capped (429), and a closed watch frees its slot', async () => {
  const open = [];
  for (let i = 0; i < 3; i++)
    open.push(await openWatch(h, `${BASE}/tooldefinitions?watch=true`, h.admin));
  const refused = await send(h, 'GET', `${BASE}/tooldefinitions?watch=true`, { token: h.admin });
  assert.equal(refused.status, 429, refused.text);
  assert.equal(refused.body.reason, 'TooManyRequests');
  // Another token is not affected.
  const other = await openWatch(h, `${BASE}/tooldefinitions?watch=true`, h.alice);
  assert.equal(other.status, 200);
  other.close();
  open.pop()!.close();
  await waitFor(
    async () => {
      const w = await openWatch(h, `${BASE}/tooldefinitions?watch=true`, h.admin);
      if (w.status === 200) {
        w.close();
        return true;
      }
      return undefined;
    },
    10_000,
    'a watch slot freed by the closed watch',
  );
  for (const w of open) w.close();
});

test('timeoutSeconds ends the stream', async () => {
  const started = Date.now();
  const res = await send(h, 'GET', `${BASE}/tooldefinitions?watch=true&timeoutSeconds=1`, {
    token: h.admin,
  });
  assert.equal(res.status, 200);
  assert.ok(Date.now() - started >= 900);
});

test('a client that goes away while its watch is being set up leaves no watch behind', async () => {
  // Objects to send at once: the stream writes to the gone client straight away.
  for (const name of ['gone1', 'gone2'])
    await send(h, 'POST', `${BASE}/tooldefinitions`, {
      token: h.admin,
      body: toolDefinition(name),
    });
  const port = Number(new URL(h.url).port);
  // More than the per-token cap (3): a watch left behind would hold its slot.
  for (let i = 0; i < 6; i++) {
    await new Promise<void>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => {
        s.end(
          `GET ${BASE}/tooldefinitions?watch=true HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${h.admin}\r\nAccept: text/event-stream\r\n\r\n`,
        );
        s.destroy();
      });
      s.on('close', () => resolve());
      s.on('error', reject);
    });
  }
  // Until the server has seen all six go, some may still be in set-up and hold a
  // slot (a 429 then is fine); a watch left behind would hold its slot for
  // maxWatchMs, and no attempt here would get in.
  const w = await waitFor(
    async () => {
      const attempt = await openWatch(h, `${BASE}/tooldefinitions?watch=true`, h.admin, true);
      if (attempt.status === 200) return attempt;
      attempt.close();
      return undefined;
    },
    10_000,
    'a watch let in',
  );
  w.close();
  await waitFor(async () => (await openWatches()) === 0, 10_000, 'no watch left open');
});
