import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ApiError, isApiError } from '../../crds/index.ts';
import { parseSelector, type ResourceStore } from '../../store/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { testStore, widget } from './test-kinds.ts';

let db: TestDatabase;
let store: ResourceStore;
before(async () => {
  db = await freshDatabase();
  store = testStore(db);
  const fixtures: Array<[string, string, Record<string, string> | undefined]> = [
    ['a', 'ns1', { app: 'web', tier: 'front', env: 'prod' }],
    ['b', 'ns1', { app: 'web', tier: 'back' }],
    ['c', 'ns1', { app: 'db', env: 'dev' }],
    ['d', 'ns2', { app: 'db', tier: 'back', env: 'prod' }],
    ['e', 'ns2', undefined],
    ['f', 'ns2', { 'example.com/owner': 'alice' }],
  ];
  for (const [name, ns, labels] of fixtures)
    await store.create('Widget', widget(name, ns, {}, labels));
});
after(async () => {
  await store.close();
  await db.drop();
});

async function names(selector: string, namespace?: string): Promise<string[]> {
  const res = await store.list('Widget', {
    labelSelector: selector,
    ...(namespace ? { namespace } : {}),
  });
  return res.items.map((o) => o.metadata.name);
}

describe('label selectors', () => {
  test('each operator', async () => {
    assert.deepEqual(await names(''), ['a', 'b', 'c', 'd', 'e', 'f']);
    assert.deepEqual(await names('app=web'), ['a', 'b']);
    assert.deepEqual(await names('app==db'), ['c', 'd']);
    assert.deepEqual(
      await names('app!=web'),
      ['c', 'd', 'e', 'f'],
      '!= includes objects without the key',
    );
    assert.deepEqual(await names('tier in (front, back)'), ['a', 'b', 'd']);
    assert.deepEqual(
      await names('tier notin (front)'),
      ['b', 'c', 'd', 'e', 'f'],
      'notin includes objects without the key',
    );
    assert.deepEqual(await names('env'), ['a', 'c', 'd']);
    assert.deepEqual(await names('!env'), ['b', 'e', 'f']);
    assert.deepEqual(await names('example.com/owner=alice'), ['f']);
    assert.deepEqual(await names('app='), [], 'empty value matches only an empty label');
  });

  test('combinations are ANDed; namespace filter applies', async () => {
    assert.deepEqual(await names('app=web,tier=back'), ['b']);
    assert.deepEqual(await names('app in (web,db),env=prod'), ['a', 'd']);
    assert.deepEqual(await names('env,!tier'), ['c']);
    assert.deepEqual(await names('app=db', 'ns2'), ['d']);
    assert.deepEqual(await names('app notin (web),tier!=front,!example.com/owner'), [
      'c',
      'd',
      'e',
    ]);
  });

  test('invalid selectors are 400 with a message saying what is wrong', async () => {
    const cases: Array<[string, RegExp]> = [
      ['app in (web', /expected "," or "\)"/],
      ['app in web', /expected "\("/],
      ['Bad Key=x', /expected an operator|not a valid label key/],
      ['-bad=x', /not a valid label key/],
      ['app=web!', /expected/],
      ['app=bad value', /expected "," between requirements/],
      ['app=x,', /missing after the last ","/],
      ['app=' + 'v'.repeat(64), /not a valid label value/],
      ['=x', /expected a label key/],
      ['app>1', /not a valid label key|expected/],
      ['!', /expected a label key/],
    ];
    for (const [sel, msg] of cases) {
      await assert.rejects(store.list('Widget', { labelSelector: sel }), (err: ApiError) => {
        assert.ok(isApiError(err, 'BadRequest'), `${sel}: ${String(err)}`);
        assert.match(err.message, /invalid label selector/);
        assert.match(err.message, msg, sel);
        return true;
      });
    }
  });

  test('parser output', () => {
    assert.deepEqual(parseSelector(' a = b , c!=d,e in (x, y,),f notin(z),g,!h '), [
      { op: 'eq', key: 'a', value: 'b' },
      { op: 'neq', key: 'c', value: 'd' },
      { op: 'in', key: 'e', values: ['x', 'y', ''] },
      { op: 'notin', key: 'f', values: ['z'] },
      { op: 'exists', key: 'g' },
      { op: 'notexists', key: 'h' },
    ]);
  });
});

describe('pagination', () => {
  test('limit + continue walks every item exactly once, in order, at one resourceVersion', async () => {
    const all = await store.list('Widget');
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    let remaining: number | undefined;
    do {
      const page = await store.list('Widget', { limit: 4, ...(token ? { continue: token } : {}) });
      pages++;
      assert.ok(page.items.length <= 4);
      assert.equal(page.metadata.resourceVersion, all.metadata.resourceVersion);
      seen.push(...page.items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`));
      token = page.metadata.continue;
      remaining = page.metadata.remainingItemCount;
      if (token) assert.ok(remaining !== undefined && remaining > 0);
    } while (token);
    assert.equal(pages, 2);
    assert.deepEqual(
      seen,
      all.items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`),
    );
    assert.equal(all.kind, 'WidgetList');
  });

  test('pagination with a selector and with limit 1', async () => {
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await store.list('Widget', {
        limit: 1,
        labelSelector: 'app',
        ...(token ? { continue: token } : {}),
      });
      seen.push(...page.items.map((o) => o.metadata.name));
      token = page.metadata.continue;
    } while (token);
    assert.deepEqual(seen, ['a', 'b', 'c', 'd']);
  });

  test('a bad continue token or limit is 400 naming the field', async () => {
    for (const bad of [
      'garbage!',
      'eyJ4IjoxfQ',
      Buffer.from('{"v":1,"rv":"x","ns":"","name":"a"}').toString('base64url'),
    ]) {
      await assert.rejects(store.list('Widget', { limit: 2, continue: bad }), (err: ApiError) => {
        assert.ok(isApiError(err, 'BadRequest'));
        assert.match(err.message, /continue/);
        assert.equal(err.details?.causes?.[0]?.field, 'continue');
        return true;
      });
    }
    await assert.rejects(
      store.list('Widget', { limit: -1 }),
      (err: ApiError) => isApiError(err, 'BadRequest') && /limit/.test(err.message),
    );
  });
});
