import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ApiError, type BerthObject, isApiError } from '../../crds/index.ts';
import type { ResourceStore, Watch, WatchEvent } from '../../store/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { testStore, widget } from './test-kinds.ts';

let db: TestDatabase;
let store: ResourceStore;
before(async () => {
  db = await freshDatabase();
  store = testStore(db, { bookmarkIntervalMs: 50 });
});
after(async () => {
  await store.close();
  await db.drop();
});

const rvOf = (ev: WatchEvent) => Number(ev.object.metadata.resourceVersion);

/** Reads events (bookmarks included) until one reaches resourceVersion `target`; fails after a deadline. */
async function collectUntil(w: Watch, target: number, timeoutMs = 15_000): Promise<WatchEvent[]> {
  const out: WatchEvent[] = [];
  const timer = setTimeout(() => w.close(), timeoutMs);
  try {
    for await (const ev of w) {
      assert.notEqual(ev.type, 'ERROR', JSON.stringify(ev.object));
      out.push(ev);
      if (rvOf(ev) >= target) return out;
    }
  } finally {
    clearTimeout(timer);
  }
  assert.fail(`watch ended before resourceVersion ${target}; got ${out.length} events`);
}

const changes = (evs: WatchEvent[]) => evs.filter((e) => e.type !== 'BOOKMARK');
const key = (o: BerthObject) => `${o.metadata.namespace}/${o.metadata.name}`;

function replay(
  evs: WatchEvent[],
  into = new Map<string, BerthObject>(),
): Map<string, BerthObject> {
  for (const ev of changes(evs)) {
    if (ev.type === 'DELETED') into.delete(key(ev.object));
    else into.set(key(ev.object), ev.object);
  }
  return into;
}

describe('watch', () => {
  test('concurrent writers: every change exactly once in resourceVersion order; resume from any rv has no gap', async () => {
    await store.create('Widget', widget('pre-existing', 'ns0'));
    const start = Number(await store.currentResourceVersion());
    const all = await store.watch('Widget', { resourceVersion: '0', allowBookmarks: true });
    const filtered = await store.watch('Widget', {
      resourceVersion: '0',
      labelSelector: 'color=red',
      allowBookmarks: true,
    });

    const WRITERS = 8;
    const OPS = 50;
    await Promise.all(
      Array.from({ length: WRITERS }, async (_, w) => {
        const live = new Set<string>();
        for (let i = 0; i < OPS; i++) {
          const r = (i * 7 + w * 13) % 10;
          const color = (i + w) % 3 === 0 ? 'red' : 'blue';
          const names = [...live];
          if (names.length === 0 || r < 4) {
            const name = `w${w}-${i}`;
            await store.create('Widget', widget(name, `ns${w % 3}`, { size: i }, { color }));
            live.add(name);
          } else if (r < 8) {
            const name = names[i % names.length]!;
            await store.patch('Widget', `ns${w % 3}`, name, {
              spec: { size: i + 100 },
              metadata: { labels: { color } },
            });
          } else {
            const name = names[i % names.length]!;
            await store.delete('Widget', `ns${w % 3}`, name);
            live.delete(name);
          }
        }
      }),
    );
    const end = Number(await store.currentResourceVersion());
    assert.equal(end - start, WRITERS * OPS, 'one resourceVersion per write');

    const got = await collectUntil(all, end);
    all.close();
    const evs = changes(got);
    // Snapshot first (the pre-existing object), then every write once, in order.
    assert.equal(evs[0]!.type, 'ADDED');
    assert.equal(evs[0]!.object.metadata.name, 'pre-existing');
    const live = evs.slice(1);
    assert.deepEqual(
      live.map(rvOf),
      Array.from({ length: WRITERS * OPS }, (_, i) => start + 1 + i),
      'every resourceVersion exactly once, strictly increasing',
    );
    const { rows: log } = await db.pool.query<{ rv: number; type: string; name: string }>(
      'select rv, type, name from resource_log where rv > $1 order by rv',
      [start],
    );
    assert.deepEqual(
      live.map((e) => [rvOf(e), e.type, e.object.metadata.name]),
      log.map((r) => [r.rv, r.type, r.name]),
    );
    const listed = await store.list('Widget');
    assert.deepEqual(
      [...replay(got).values()]
        .sort((a, b) => key(a).localeCompare(key(b)))
        .map((o) => [key(o), o.metadata.resourceVersion]),
      listed.items
        .map((o) => [key(o), o.metadata.resourceVersion])
        .sort((a, b) => a[0]!.localeCompare(b[0]!)),
    );

    // A label-filtered watch ends in exactly the selected state (ADDED/DELETED on entering/leaving).
    const fgot = await collectUntil(filtered, end);
    filtered.close();
    const red = await store.list('Widget', { labelSelector: 'color=red' });
    assert.deepEqual([...replay(fgot).keys()].sort(), red.items.map(key).sort());

    // Resume from several resourceVersions the watcher saw: exactly the events after each.
    for (const from of [live[0]!, live[57]!, live[199]!, live[398]!].map(rvOf)) {
      const w = await store.watch('Widget', { resourceVersion: String(from) });
      const resumed = await collectUntil(w, end);
      w.close();
      assert.deepEqual(
        resumed.map((e) => [rvOf(e), e.type]),
        live.filter((e) => rvOf(e) > from).map((e) => [rvOf(e), e.type]),
        `resume from ${from}`,
      );
    }
  });

  test('label selector transitions: entering is ADDED, leaving is DELETED', async () => {
    const from = await store.currentResourceVersion();
    const w = await store.watch('Widget', {
      resourceVersion: from,
      labelSelector: 'app=web',
      namespace: 'sel',
    });
    await store.create('Widget', widget('t', 'sel', {}, { app: 'web' }));
    await store.create('Widget', widget('t', 'other', {}, { app: 'web' })); // other namespace
    await store.patch('Widget', 'sel', 't', { metadata: { labels: { app: 'db' } } });
    await store.patch('Widget', 'sel', 't', { spec: { size: 5 } }); // not selected: nothing
    await store.patch('Widget', 'sel', 't', { metadata: { labels: { app: 'web' } } });
    await store.patch('Widget', 'sel', 't', { spec: { size: 6 } });
    const last = await store.delete('Widget', 'sel', 't');
    const evs = changes(await collectUntil(w, Number(last.metadata.resourceVersion)));
    w.close();
    assert.deepEqual(
      evs.map((e) => [e.type, e.object.metadata.labels?.app]),
      [
        ['ADDED', 'web'],
        ['DELETED', 'web'],
        ['ADDED', 'web'],
        ['MODIFIED', 'web'],
        ['DELETED', 'web'],
      ],
    );
    assert.ok(evs.every((e, i) => i === 0 || rvOf(e) > rvOf(evs[i - 1]!)));
  });

  test('410 Gone after compaction; a watch from the head still works', async () => {
    await store.create('Widget', widget('c1', 'gone'));
    const head = Number(await store.currentResourceVersion());
    const { compactedRv, deleted } = await store.compact(0);
    assert.equal(compactedRv, head);
    assert.ok(deleted > 0);
    await assert.rejects(store.watch('Widget', { resourceVersion: '1' }), (err: ApiError) => {
      assert.ok(isApiError(err, 'Gone'));
      assert.equal(err.code, 410);
      assert.equal(err.message, `too old resource version: 1 (${head})`);
      return true;
    });
    const w = await store.watch('Widget', { resourceVersion: String(head) });
    const next = await store.create('Widget', widget('c2', 'gone'));
    const evs = await collectUntil(w, Number(next.metadata.resourceVersion));
    w.close();
    assert.deepEqual(
      changes(evs).map((e) => e.object.metadata.name),
      ['c2'],
    );
    await assert.rejects(store.watch('Widget', { resourceVersion: 'abc' }), (err: ApiError) =>
      isApiError(err, 'BadRequest'),
    );
  });

  test('a watch from a future resourceVersion waits for it', async () => {
    const now = Number(await store.currentResourceVersion());
    const w = await store.watch('Widget', { resourceVersion: String(now + 1) });
    await store.create('Widget', widget('f1', 'future')); // rv now+1: not delivered
    const b = await store.create('Widget', widget('f2', 'future'));
    const evs = changes(await collectUntil(w, Number(b.metadata.resourceVersion)));
    w.close();
    assert.deepEqual(
      evs.map((e) => e.object.metadata.name),
      ['f2'],
    );
  });

  test('bookmarks carry the current resourceVersion; abort ends the iterator cleanly', async () => {
    const ac = new AbortController();
    const w = await store.watch('Widget', {
      resourceVersion: '0',
      namespace: 'nothing-here',
      allowBookmarks: true,
      bookmarkIntervalMs: 20,
      signal: ac.signal,
    });
    const head = await store.currentResourceVersion();
    let bookmarks = 0;
    for await (const ev of w) {
      assert.equal(ev.type, 'BOOKMARK');
      assert.equal(ev.object.metadata.resourceVersion, head);
      if (++bookmarks === 2) ac.abort();
    }
    assert.equal(bookmarks, 2);
  });

  test('a consumer that falls too far behind gets a 410 ERROR and the watch ends; others are unaffected', async () => {
    const small = testStore(db, { watchBufferSize: 10 });
    try {
      const slow = await small.watch('Widget', {
        resourceVersion: await small.currentResourceVersion(),
        namespace: 'slow',
      });
      const fast = await small.watch('Widget', {
        resourceVersion: await small.currentResourceVersion(),
        namespace: 'slow',
      });
      const fastDone = (async () => {
        const seen: string[] = [];
        for await (const ev of fast) {
          seen.push(ev.object.metadata.name);
          if (seen.length === 30) break;
        }
        return seen;
      })();
      for (let i = 0; i < 30; i++) await small.create('Widget', widget(`s${i}`, 'slow'));
      assert.equal((await fastDone).length, 30);
      const got: WatchEvent[] = [];
      for await (const ev of slow) got.push(ev);
      const lastEv = got[got.length - 1]!;
      assert.equal(lastEv.type, 'ERROR');
      assert.equal((lastEv.object as unknown as { code: number }).code, 410);
      assert.ok(got.length <= 12, `buffer bounded, got ${got.length}`);
    } finally {
      await small.close();
    }
  });

  test('the listener reconnects after its connection dies and nothing is missed', async () => {
    const from = await store.currentResourceVersion();
    const w = await store.watch('Widget', { resourceVersion: from, namespace: 'reconnect' });
    const { rows } = await db.pool.query(
      `select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = 'berth-watch' and datname = current_database()`,
    );
    assert.ok(rows.length >= 1);
    const a = await store.create('Widget', widget('r1', 'reconnect'));
    const b = await store.create('Widget', widget('r2', 'reconnect'));
    const evs = changes(await collectUntil(w, Number(b.metadata.resourceVersion)));
    w.close();
    assert.deepEqual(
      evs.map((e) => e.object.metadata.name),
      ['r1', 'r2'],
    );
    void a;
  });
});
