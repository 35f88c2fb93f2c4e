// The one settings loader, over a small schema of its own and over the real
// components' schemas: good values, every bad variable named with what was given
// and what was expected, old names refused naming the new, secrets never echoed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { loadApiConfig, loadSignInConfig } from '../../api/index.ts';
import { loadConfig } from '../../cli/index.ts';
import {
  loadControllerConfig,
  loadEcsConfig,
  loadReconcilerConfig,
} from '../../controllers/index.ts';
import { optionsFromEnv } from '../../ecs-local/index.ts';
import { loadProxyConfig } from '../../proxy/index.ts';
import {
  ConfigError,
  commaList,
  durationMs,
  flag,
  integer,
  loadSettings,
  setting,
} from '../../settings/index.ts';

const schema = z.object({
  port: setting(integer(0, 65535).default(8080), { env: 'T_PORT', description: 'port' }),
  pollMs: setting(durationMs(10, 60_000).default(1000), {
    env: 'T_POLL_MS',
    replaces: ['T_POLL_SECONDS'],
    description: 'poll',
  }),
  mode: setting(z.enum(['a', 'b']).default('a'), { env: 'T_MODE', description: 'mode' }),
  on: setting(flag().default(false), { env: 'T_ON', description: 'on' }),
  groups: setting(
    commaList(z.string().regex(/^g-/, 'each group must start with "g-"')).default([]),
    {
      env: 'T_GROUPS',
      description: 'groups',
    },
  ),
  clientSecret: setting(
    z
      .string()
      .refine((s) => s.startsWith('sk-'), {
        error: (i) => `"${String(i.input)}" must start with sk-`,
      })
      .optional(),
    { env: 'T_CLIENT_SECRET', description: 'secret' },
  ),
  hidden: setting(z.string().regex(/^x+$/).optional(), {
    env: 'T_HIDDEN',
    secret: true,
    description: 'secret by its record, not its name',
  }),
});

function failure(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}

test('good values are parsed to their types; unset and empty ones take defaults', () => {
  const s = loadSettings(
    schema,
    { T_PORT: '9000', T_POLL_MS: '', T_MODE: 'b', T_ON: 'yes', T_GROUPS: 'g-1, g-2 g-3' },
    { component: 'test' },
  );
  assert.deepEqual(s, {
    port: 9000,
    pollMs: 1000,
    mode: 'b',
    on: true,
    groups: ['g-1', 'g-2', 'g-3'],
  });
  const v = loadSettings(
    schema,
    { T_PORT: '9000' },
    { component: 'test', values: { port: 1, on: true } },
  );
  assert.equal(v.port, 1, 'values from code win over the environment');
  assert.equal(v.on, true);
});

test('one ConfigError names every bad variable, what was given and what was expected', () => {
  const err = failure(() =>
    loadSettings(
      schema,
      { T_PORT: 'eighty', T_POLL_MS: '5', T_MODE: 'c', T_ON: 'maybe', T_GROUPS: 'g-1,h-2' },
      { component: 'test' },
    ),
  );
  assert.equal(err.name, 'ConfigError');
  assert.match(err.message, /^invalid test settings:\n {2}/);
  assert.deepEqual(err.issues, [
    'T_PORT: expected a number, got "eighty"',
    'T_POLL_MS: expected at least 10, got "5"',
    'T_MODE: expected one of a, b, got "c"',
    'T_ON: expected true or false, got "maybe"',
    'T_GROUPS (item 2): each group must start with "g-", got "h-2"',
  ]);
});

test('an old name still set is refused, naming its new name (and the value in the new unit)', () => {
  const err = failure(() => loadSettings(schema, { T_POLL_SECONDS: '2' }, { component: 'test' }));
  assert.deepEqual(err.issues, [
    'T_POLL_SECONDS: renamed T_POLL_MS, in milliseconds; set that instead (T_POLL_SECONDS=2 is T_POLL_MS=2000)',
  ]);
  // Also when the new name is set too: the old one must not linger unnoticed.
  assert.throws(
    () => loadSettings(schema, { T_POLL_SECONDS: '2', T_POLL_MS: '2000' }, { component: 'test' }),
    /T_POLL_SECONDS: renamed T_POLL_MS/,
  );
});

test("a secret's value is never echoed, even where a message would quote it", () => {
  const secret = 'hunter2-very-secret';
  const err = failure(() =>
    loadSettings(
      schema,
      { T_CLIENT_SECRET: secret, T_HIDDEN: 'xxyy-secret' },
      { component: 'test' },
    ),
  );
  assert.equal(err.issues.length, 2);
  assert.match(err.issues[0]!, /^T_CLIENT_SECRET: /);
  assert.match(err.issues[1]!, /^T_HIDDEN: /);
  assert.ok(!err.message.includes(secret), err.message);
  assert.ok(!err.message.includes('xxyy-secret'), err.message);
  const fromCode = failure(() =>
    loadSettings(schema, {}, { component: 'test', values: { clientSecret: secret } }),
  );
  assert.ok(!fromCode.message.includes(secret), fromCode.message);
});

test('every component: a bad variable is a ConfigError naming it; an old name names the new one', async () => {
  const cases: [string, () => unknown, RegExp][] = [
    [
      'api',
      () => loadApiConfig({}, { BERTH_API_PORT: 'x' }),
      /BERTH_API_PORT: expected a number, got "x"/,
    ],
    [
      'api rename',
      () => loadApiConfig({}, { BERTH_API_MAX_WATCH_SECONDS: '60' }),
      /BERTH_API_MAX_WATCH_MS=60000/,
    ],
    [
      'sign-in',
      () => loadSignInConfig({}, { BERTH_SIGN_IN: 'magic' }),
      /BERTH_SIGN_IN: expected one of none, dev, oidc, alb, got "magic"/,
    ],
    [
      'controller',
      () => loadControllerConfig({ BERTH_CONTROLLER_CONCURRENCY: '0' }),
      /BERTH_CONTROLLER_CONCURRENCY: expected at least 1, got "0"/,
    ],
    [
      'controller queue poll',
      () => loadControllerConfig({ BERTH_CONTROLLER_POLL_INTERVAL_MS: '100' }),
      /BERTH_CONTROLLER_POLL_INTERVAL_MS: renamed BERTH_CONTROLLER_QUEUE_POLL_MS/,
    ],
    [
      'controller heartbeat',
      () => loadControllerConfig({ BERTH_CONTROLLER_HEARTBEAT_SECONDS: '30' }),
      /renamed BERTH_CONTROLLER_HEARTBEAT_MS/,
    ],
    [
      'controller supervise',
      () => loadControllerConfig({ BERTH_CONTROLLER_SUPERVISE_SECONDS: '2' }),
      /renamed BERTH_CONTROLLER_SUPERVISE_MS/,
    ],
    [
      'ecs',
      () => loadEcsConfig({ BERTH_ECS_ENDPOINT: 'not a url' }),
      /BERTH_ECS_ENDPOINT: must be a URL/,
    ],
    [
      'task poll',
      () => loadReconcilerConfig({ BERTH_POLL_INTERVAL_SECONDS: '1' }),
      /BERTH_POLL_INTERVAL_SECONDS: renamed BERTH_TASK_POLL_MS/,
    ],
    [
      'ready task poll',
      () => loadReconcilerConfig({ BERTH_READY_POLL_INTERVAL_SECONDS: '30' }),
      /renamed BERTH_READY_TASK_POLL_MS/,
    ],
    [
      'gc interval',
      () => loadReconcilerConfig({ BERTH_GC_INTERVAL_SECONDS: '60' }),
      /renamed BERTH_GC_INTERVAL_MS/,
    ],
    [
      'gc grace',
      () => loadReconcilerConfig({ BERTH_GC_GRACE_SECONDS: '60' }),
      /renamed BERTH_GC_GRACE_MS/,
    ],
    [
      'tool stop timeout',
      () => loadReconcilerConfig({ BERTH_TOOL_STOP_TIMEOUT_SECONDS: '30' }),
      /renamed BERTH_TOOL_STOP_TIMEOUT_MS/,
    ],
    [
      'proxy',
      () => loadProxyConfig({}, { BERTH_PROXY_WORKERS: 'lots' }),
      /BERTH_PROXY_WORKERS: must be a number of processes/,
    ],
    [
      'ecs-local',
      () => optionsFromEnv({ ECS_LOCAL_THROTTLING: 'x' }),
      /ECS_LOCAL_THROTTLING: expected true or false/,
    ],
    [
      'ecs-local retention',
      () => optionsFromEnv({ ECS_LOCAL_STOPPED_RETENTION_SECONDS: '60' }),
      /renamed ECS_LOCAL_STOPPED_RETENTION_MS/,
    ],
    [
      'ecs-local stop timeout',
      () => optionsFromEnv({ ECS_LOCAL_STOP_TIMEOUT_SECONDS: '5' }),
      /renamed ECS_LOCAL_STOP_TIMEOUT_MS/,
    ],
  ];
  for (const [name, fn, pattern] of cases) {
    const err = failure(fn);
    assert.match(err.message, pattern, name);
  }
  await assert.rejects(loadConfig({ BERTH_SERVER: 'nowhere' }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /BERTH_SERVER: must be a URL .*, got "nowhere"/);
    return true;
  });
});

test('durations in milliseconds reach each component in the unit it uses', () => {
  const c = loadControllerConfig({
    BERTH_CONTROLLER_QUEUE_POLL_MS: '750',
    BERTH_CONTROLLER_HEARTBEAT_MS: '30000',
    BERTH_CONTROLLER_SUPERVISE_MS: '2000',
  });
  assert.deepEqual([c.pollIntervalMs, c.heartbeatSeconds, c.superviseSeconds], [750, 30, 2]);
  const r = loadReconcilerConfig({
    BERTH_TASK_POLL_MS: '250',
    BERTH_READY_TASK_POLL_MS: '5000',
    BERTH_GC_INTERVAL_MS: '300',
    BERTH_GC_GRACE_MS: '0',
    BERTH_TOOL_STOP_TIMEOUT_MS: '5000',
    BERTH_TOOL_SECRET_KEY: 'ab'.repeat(32),
  });
  assert.deepEqual(
    [
      r.pollIntervalMs,
      r.readyPollIntervalMs,
      r.gcIntervalMs,
      r.gcGraceMs,
      r.toolStopTimeoutSeconds,
    ],
    [250, 5000, 300, 0, 5],
  );
  assert.throws(
    () => loadReconcilerConfig({ BERTH_TOOL_STOP_TIMEOUT_MS: '2500' }),
    /BERTH_TOOL_STOP_TIMEOUT_MS: expected a multiple of 1000, got "2500"/,
  );
  assert.equal(loadApiConfig({}, { BERTH_API_MAX_WATCH_MS: '60000' }).maxWatchMs, 60_000);
  const e = optionsFromEnv({
    ECS_LOCAL_STOPPED_RETENTION_MS: '1000',
    ECS_LOCAL_STOP_TIMEOUT_MS: '5000',
  });
  assert.deepEqual([e.stoppedRetentionMs, e.defaultStopTimeoutSeconds], [1000, 5]);
});

test('the OIDC client secret is never echoed in a sign-in error', () => {
  const secret = `s3cr3t-${'z'.repeat(5000)}`;
  const err = failure(() =>
    loadSignInConfig({}, { BERTH_SIGN_IN: 'oidc', BERTH_OIDC_CLIENT_SECRET: secret }),
  );
  assert.match(err.message, /BERTH_OIDC_CLIENT_SECRET: expected at most 4096 characters/);
  assert.match(err.message, /BERTH_OIDC_ISSUER: required for OIDC sign-in/);
  assert.ok(!err.message.includes('s3cr3t'), err.message);
});

test('a schema instance names one setting only', () => {
  const shared = z.string();
  setting(shared, { env: 'T_ONE', description: 'one' });
  assert.throws(
    () => setting(shared, { env: 'T_TWO', description: 'two' }),
    /T_TWO: schema already names a setting/,
  );
});
