// Fair use (issue 15, section 6): an over-quota launch is refused with the quota
// named, wherever it is asked for (API, CLI, the proxy's launch on visit); the
// most generous applicable Quota wins (a group's beats the everyone default), per
// count and per largest size; two launches at once at the limit: exactly one
// passes; the launch rate per user holds across API replicas (429 + Retry-After);
// the controllers check access and quota again at launch and start no task for a
// refused one.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startApi } from '../../api/index.ts';
import { API_VERSION } from '../../crds/index.ts';
import { Identity } from '../../store/index.ts';
import { BASE, type Harness, send, startHarness } from '../api/support.ts';
import { runBerth } from '../cli/harness.ts';
import {
  createInstance,
  createTool,
  type Env,
  eventsFor,
  getInstance,
  liveTasks,
  startEnv,
  tinySpec,
  waitForPhase,
} from '../controllers/reconcile-support.ts';
import * as proxyKit from '../proxy/support.ts';
import { toolDefinition, toolInstance } from '../support/fixtures.ts';
import { waitFor } from '../support/wait.ts';

const SIZES = {
  small: { cpu: 256, memory: 512 },
  medium: { cpu: 1024, memory: 2048 },
  large: { cpu: 4096, memory: 8192 },
  xl: { cpu: 8192, memory: 16384 },
};
const TOOLS = ['a', 'b', 'c', 'd', 'e', 'f'];

function quota(name: string, spec: Record<string, unknown>) {
  return { apiVersion: API_VERSION, kind: 'Quota', metadata: { name }, spec };
}

const DEFAULT_QUOTA = quota('default', {
  appliesTo: { everyone: true },
  maxRunningInstances: 2,
  largestSize: { cpu: 1024, memory: 2048 },
});
const ANALYSTS_QUOTA = quota('analysts', {
  appliesTo: { groups: ['analysts'] },
  maxRunningInstances: 3,
  largestSize: { cpu: 4096, memory: 8192 },
});

/** A launch through the API: create the user's instance of `tool`, Running. */
function launch(h: Harness, token: string, user: string, tool: string, size?: string) {
  return send(h, 'POST', `${BASE}/namespaces/${user}/toolinstances`, {
    token,
    body: toolInstance(user, tool, tool, { state: 'Running', ...(size ? { size } : {}) }),
  });
}

function patchSpec(h: Harness, token: string, user: string, tool: string, spec: object) {
  return send(h, 'PATCH', `${BASE}/namespaces/${user}/toolinstances/${tool}`, {
    token,
    body: { spec },
    contentType: 'application/merge-patch+json',
  });
}

describe('quotas in the API and the CLI', { concurrency: false }, () => {
  let h: Harness;
  const tokens: Record<string, string> = {};

  before(async () => {
    // A rate limit far above what these tests launch: only the quotas refuse here.
    h = await startHarness({ launchRateLimit: 1000 });
    tokens.bob = h.bob;
    tokens.alice = h.alice; // alice is in group analysts
    for (const [user, groups] of [
      ['dave', []],
      ['erin', ['analysts']],
      ['frank', []],
      ['gina', []],
      ['hal', []],
      ['ivy', []],
    ] as const) {
      await h.api.identity.upsertUser({ name: user, groups: [...groups] });
      tokens[user] = (await h.api.identity.createToken({ user })).token;
    }
    for (const t of TOOLS) {
      const td = toolDefinition(t, { sizes: SIZES, defaultSize: 'small' });
      assert.equal(
        (await send(h, 'POST', `${BASE}/tooldefinitions`, { token: h.admin, body: td })).status,
        201,
      );
    }
    for (const q of [DEFAULT_QUOTA, ANALYSTS_QUOTA]) {
      const r = await send(h, 'POST', `${BASE}/quotas`, { token: h.admin, body: q });
      assert.equal(r.status, 201, r.text);
    }
  });
  after(async () => {
    await h?.close();
  });

  test('an over-quota launch is a 403 Status naming the quota; a stop frees a place', async () => {
    assert.equal((await launch(h, tokens.bob!, 'bob', 'a')).status, 201);
    assert.equal((await launch(h, tokens.bob!, 'bob', 'b')).status, 201);
    const refused = await launch(h, tokens.bob!, 'bob', 'c');
    assert.equal(refused.status, 403, refused.text);
    assert.equal(refused.body.kind, 'Status');
    assert.equal(refused.body.reason, 'Forbidden');
    assert.equal(
      refused.body.message,
      'quota "default": at most 2 running instances per user (you have 2: a, b)',
    );
    assert.deepEqual(refused.body.details, { kind: 'quotas', name: 'default' });
    const absent = await send(h, 'GET', `${BASE}/namespaces/bob/toolinstances/c`, {
      token: tokens.bob,
    });
    assert.equal(absent.status, 404, 'the refused launch wrote nothing');

    // A stop is never refused, and frees a place; asking a stopped one again is a launch.
    assert.equal((await patchSpec(h, tokens.bob!, 'bob', 'a', { state: 'Stopped' })).status, 200);
    assert.equal((await launch(h, tokens.bob!, 'bob', 'c')).status, 201);
    const again = await patchSpec(h, tokens.bob!, 'bob', 'a', { state: 'Running' });
    assert.equal(again.status, 403, again.text);
    assert.match(again.body.message, /you have 2: b, c\)$/);
    // An admin's launch in bob's namespace counts against bob too.
    const byAdmin = await launch(h, h.admin, 'bob', 'd');
    assert.equal(byAdmin.status, 403, byAdmin.text);
    assert.match(byAdmin.body.message, /^quota "default"/);
  });

  test('berth launch over the quota prints the Status message on stderr', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-quota-cli-'));
    try {
      const r = await runBerth(['launch', 'd'], {
        env: {
          BERTH_CONFIG: join(dir, 'config.yaml'),
          BERTH_SERVER: h.url,
          BERTH_TOKEN: tokens.bob,
        },
      });
      assert.notEqual(r.code, 0, r.stdout);
      assert.equal(r.stdout, '', 'nothing launched');
      assert.match(
        r.stderr,
        /quota "default": at most 2 running instances per user \(you have 2: b, c\)/,
      );
      // The kind is served like the others: an admin lists them with the CLI.
      const listed = await runBerth(['get', 'quotas'], {
        env: { BERTH_CONFIG: join(dir, 'admin.yaml'), BERTH_SERVER: h.url, BERTH_TOKEN: h.admin },
      });
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, /^NAME\s+EVERYONE\s+GROUPS\s+MAX RUNNING/m);
      assert.match(listed.stdout, /^analysts\s+false\s+analysts\s+3\s+4096\s+8192/m);
      assert.match(listed.stdout, /^default\s+true\s+<none>\s+2\s+1024\s+2048/m);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a group quota grants more than the everyone default', async () => {
    for (const t of ['a', 'b', 'c']) {
      const r = await launch(h, tokens.alice!, 'alice', t);
      assert.equal(r.status, 201, `alice's ${t}: ${r.text}`);
    }
    const fourth = await launch(h, tokens.alice!, 'alice', 'd');
    assert.equal(fourth.status, 403, fourth.text);
    assert.equal(
      fourth.body.message,
      'quota "analysts": at most 3 running instances per user (you have 3: a, b, c)',
    );
  });

  test('the largest size: by cpu and memory, per group', async () => {
    assert.equal((await launch(h, tokens.dave!, 'dave', 'a', 'medium')).status, 201);
    const bigger = await patchSpec(h, tokens.dave!, 'dave', 'a', { size: 'large' });
    assert.equal(bigger.status, 403, bigger.text);
    assert.equal(
      bigger.body.message,
      'quota "default": sizes up to 1 vCPU and 2 GiB memory per instance (size "large" of tool "a" is 4 vCPU and 8 GiB memory)',
    );
    const big = await launch(h, tokens.dave!, 'dave', 'b', 'large');
    assert.equal(big.status, 403, big.text);

    // erin is in analysts: large fits their quota, xl does not.
    assert.equal((await launch(h, tokens.erin!, 'erin', 'a', 'large')).status, 201);
    const xl = await launch(h, tokens.erin!, 'erin', 'b', 'xl');
    assert.equal(xl.status, 403, xl.text);
    assert.match(xl.body.message, /^quota "analysts": sizes up to 4 vCPU and 8 GiB memory/);
  });

  test('launches at once at the limit: exactly as many pass as there are places', async () => {
    // Four users with two places each; six launches each, all 24 at once.
    const users = ['frank', 'gina', 'hal', 'ivy'];
    const answers = await Promise.all(
      users.flatMap((u) => TOOLS.map((t) => launch(h, tokens[u]!, u, t))),
    );
    users.forEach((u, i) => {
      const codes = answers
        .slice(i * TOOLS.length, (i + 1) * TOOLS.length)
        .map((r) => r.status)
        .sort();
      assert.deepEqual(codes, [201, 201, 403, 403, 403, 403], `${u}: exactly two of six`);
    });
    for (const user of users) {
      const list = await h.api.store.list('ToolInstance', { namespace: user });
      assert.equal(list.items.length, 2, `${user} has two instances`);
    }
  });
});

describe('the launch rate limit', () => {
  let h: Harness;
  let second: Awaited<ReturnType<typeof startApi>>;
  const secondHarness = () => ({ ...h, url: second.url });

  before(async () => {
    h = await startHarness({ launchRateLimit: 3 });
    // A second API replica on the same database: the count is shared.
    second = await startApi({
      pool: h.db.pool,
      port: 0,
      config: { logLevel: 'silent', launchRateLimit: 3 },
      signIn: false,
    });
    await h.api.store.create('ToolDefinition', toolDefinition('a'));
  });
  after(async () => {
    await second?.close();
    await h?.close();
  });

  test('over the limit: 429 with Retry-After naming the limit, across replicas', async () => {
    assert.equal((await launch(h, h.bob, 'bob', 'a')).status, 201);
    const relaunch = (via: Harness) =>
      patchSpec(via, h.bob, 'bob', 'a', { launchRequestedAt: new Date().toISOString() });
    assert.equal((await relaunch(secondHarness())).status, 200);
    // Not a launch: a stop is never limited.
    assert.equal((await patchSpec(h, h.bob, 'bob', 'a', { state: 'Stopped' })).status, 200);
    assert.equal(
      (await patchSpec(secondHarness(), h.bob, 'bob', 'a', { state: 'Running' })).status,
      200,
    );
    const over = await relaunch(h);
    assert.equal(over.status, 429, over.text);
    assert.equal(over.body.reason, 'TooManyRequests');
    assert.match(
      over.body.message,
      /^too many launches: at most 3 per minute per user; try again in \d+ s$/,
    );
    const retry = Number(over.headers.get('retry-after'));
    assert.ok(retry >= 1 && retry <= 60, `Retry-After is ${over.headers.get('retry-after')}`);
    assert.equal(over.body.details.retryAfterSeconds, retry);
    const overThere = await relaunch(secondHarness());
    assert.equal(overThere.status, 429, 'the other replica counts the same launches');
    // Another user has their own count.
    assert.equal((await launch(h, h.alice, 'alice', 'a')).status, 201);
  });
});

/** A top-level navigation the person typed (a launch on visit may start from it). */
const NAVIGATION = {
  accept: 'text/html',
  'sec-fetch-site': 'none',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-dest': 'document',
};

describe("the proxy's launch on visit", () => {
  let p: proxyKit.Harness;

  before(async () => {
    // One launch per user per minute on visit; bob may run one instance.
    p = await proxyKit.startHarness({ launchRateLimit: 1 });
    await p.store.create(
      'Quota',
      quota('default', { appliesTo: { users: ['bob'] }, maxRunningInstances: 1 }),
    );
    await proxyKit.addDefinition(p, 'one');
    await proxyKit.addDefinition(p, 'two');
    // bob's instance of "one" wants to run (written as the controllers would see it).
    await p.store.create('ToolInstance', toolInstance('bob', 'one', 'one', { state: 'Running' }));
  });
  after(async () => {
    await p?.close();
  });
  const visit = (host: string, user: string) =>
    proxyKit.get(p.proxy, host, '/', { ...proxyKit.bearer(p.tokens[user]), ...NAVIGATION });

  test('an over-quota visit is a 403 page naming the quota, and launches nothing', async () => {
    const r = await visit('two--bob.localhost', 'bob');
    assert.equal(r.status, 403, r.text);
    assert.match(
      r.text,
      /two was not launched: quota &quot;default&quot;: at most 1 running instance per user \(you have 1: one\)/,
    );
    await assert.rejects(p.store.get('ToolInstance', 'bob', 'two'), /not found/);
    // alice has no instance yet: her visit launches.
    const ok = await visit('two--alice.localhost', 'alice');
    assert.equal(ok.status, 202, ok.text);
    // Her second launch within the minute is over the launch rate.
    const over = await visit('one--alice.localhost', 'alice');
    assert.equal(over.status, 429, over.text);
    assert.match(
      over.text,
      /one was not launched: too many launches: at most 1 per minute per user/,
    );
    const retry = Number(over.headers['retry-after']);
    assert.ok(retry >= 1 && retry <= 60, `Retry-After is ${over.headers['retry-after']}`);
    await assert.rejects(p.store.get('ToolInstance', 'alice', 'one'), /not found/);
  });
});

describe('the controllers check again at launch', () => {
  let env: Env;
  let identity: Identity;

  before(async () => {
    env = await startEnv({ addressOctet: 151 });
    identity = new Identity(env.db.pool);
    await identity.upsertUser({ name: 'alice', groups: ['analysts'] });
    await identity.upsertUser({ name: 'bob', groups: [] });
    await createTool(env.store, 'restricted', tinySpec({ access: { groups: ['analysts'] } }));
    await createTool(env.store, 'tiny', tinySpec());
  });
  after(async () => {
    await env?.close();
  });

  test('a user who lost access gets AccessDenied and no task, until asked again', async () => {
    // alice left the group; her instance was written past admission (an old record).
    await identity.upsertUser({ name: 'alice', groups: [] });
    await createInstance(env.store, 'alice', 'restricted', 'restricted');
    const failed = await waitForPhase(env.store, 'alice', 'restricted', 'Failed');
    assert.equal(failed.status?.stopReason, 'AccessDenied');
    assert.match(failed.status?.message ?? '', /user "alice" may not use tool "restricted"/);
    assert.equal(failed.status?.attempt, undefined, 'no launch attempt was made');
    // The Warning Event is written just after the status.
    const warning = await waitFor(
      async () =>
        (await eventsFor(env.store, 'alice', 'restricted')).find(
          (e) => e.type === 'Warning' && e.reason === 'AccessDenied',
        ),
      10_000,
      'a Warning Event AccessDenied',
    );
    assert.match(warning.message, /^Not launched: user "alice" may not use tool "restricted"/);
    assert.deepEqual(await liveTasks(env.driver), [], 'no task in ecs-local');

    // Back in the group and asked again (a new generation): it launches.
    await identity.upsertUser({ name: 'alice', groups: ['analysts'] });
    await env.store.patch('ToolInstance', 'alice', 'restricted', {
      spec: { launchRequestedAt: new Date().toISOString() },
    });
    const ready = await waitForPhase(env.store, 'alice', 'restricted', 'Ready', 30_000);
    assert.equal(ready.status?.attempt, 1);
    await env.store.patch('ToolInstance', 'alice', 'restricted', { spec: { state: 'Stopped' } });
    await waitForPhase(env.store, 'alice', 'restricted', 'Stopped', 30_000);
  });

  test('instances written past admission over the quota: one task, the other QuotaExceeded', async () => {
    await env.store.create(
      'Quota',
      quota('one-each', { appliesTo: { users: ['bob'] }, maxRunningInstances: 1 }),
    );
    await createInstance(env.store, 'bob', 'first', 'tiny');
    await createInstance(env.store, 'bob', 'second', 'tiny');
    // Settled: Ready or Failed, whichever reconcile took the one place.
    const both = await waitFor(
      async () => {
        const tis = [
          await getInstance(env.store, 'bob', 'first'),
          await getInstance(env.store, 'bob', 'second'),
        ];
        return tis.every((ti) => ti.status?.phase === 'Ready' || ti.status?.phase === 'Failed')
          ? tis
          : undefined;
      },
      30_000,
      'bob/first and bob/second to settle',
    );
    const phases = both.map((ti) => ti.status?.phase).sort();
    assert.deepEqual(phases, ['Failed', 'Ready']);
    const refused = both.find((ti) => ti.status?.phase === 'Failed')!;
    assert.equal(refused.status?.stopReason, 'QuotaExceeded');
    assert.match(
      refused.status?.message ?? '',
      /quota "one-each": at most 1 running instance per user/,
    );
    assert.equal((await liveTasks(env.driver)).length, 1, 'one task in ecs-local');
  });
});
