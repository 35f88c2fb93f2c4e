// Each daemon as an operator starts it, with a bad or renamed setting: it stops
// at once with exit code 2 and the settings error (the variable, what it was
// given, what was expected, or its new name), never a stack trace and never a
// secret. Nothing is started, so no database or ecs-local is needed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

const berth = join(import.meta.dirname, '..', '..', 'bin', 'berth.ts');

function run(
  command: string,
  env: Record<string, string>,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    // Only what the test gives (and PATH/HOME), so the caller's settings cannot leak in.
    const child = spawn(
      process.execPath,
      ['--disable-warning=ExperimentalWarning', berth, command],
      {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    // A daemon that started anyway would run until stopped.
    const stop = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(stop);
      resolve({ code, out });
    });
  });
}

// Never contacted: each daemon checks its settings before it connects.
const DATABASE_URL = 'postgres://berth:do-not-print-me@127.0.0.1:1/berth';

const cases: { command: string; env: Record<string, string>; says: RegExp }[] = [
  {
    command: 'api',
    env: { DATABASE_URL, BERTH_API_MAX_WATCH_SECONDS: '60' },
    says: /BERTH_API_MAX_WATCH_SECONDS: renamed BERTH_API_MAX_WATCH_MS, in milliseconds/,
  },
  {
    command: 'proxy',
    env: { DATABASE_URL, BERTH_PROXY_WORKERS: 'lots' },
    says: /BERTH_PROXY_WORKERS: must be a number of processes from 1 to 64, or auto .*, got "lots"/,
  },
  {
    command: 'controller',
    env: {
      DATABASE_URL,
      BERTH_ECS_ENDPOINT: 'http://127.0.0.1:1',
      BERTH_POLL_INTERVAL_SECONDS: '1',
    },
    says: /BERTH_POLL_INTERVAL_SECONDS: renamed BERTH_TASK_POLL_MS/,
  },
  {
    command: 'controller',
    env: {
      DATABASE_URL,
      BERTH_ECS_ENDPOINT: 'http://127.0.0.1:1',
      BERTH_CONTROLLER_HEARTBEAT_MS: '1500',
    },
    says: /BERTH_CONTROLLER_HEARTBEAT_MS: expected at least 10000, got "1500"/,
  },
  {
    command: 'ecs-local',
    env: { ECS_LOCAL_STOPPED_RETENTION_SECONDS: '60' },
    says: /ECS_LOCAL_STOPPED_RETENTION_SECONDS: renamed ECS_LOCAL_STOPPED_RETENTION_MS/,
  },
  {
    command: 'up',
    env: { DATABASE_URL, BERTH_PG_PORT: 'many' },
    says: /BERTH_PG_PORT: expected a number, got "many"/,
  },
];

// The key of the tool secrets (issue 15): required by both, never echoed.
for (const command of ['proxy', 'controller']) {
  test(`berth ${command} without BERTH_TOOL_SECRET_KEY, or with a short one: exit 2 naming it`, async () => {
    const base = { DATABASE_URL, BERTH_ECS_ENDPOINT: 'http://127.0.0.1:1' };
    const missing = await run(command, base);
    assert.equal(missing.code, 2, missing.out);
    assert.match(missing.out, /BERTH_TOOL_SECRET_KEY: required: at least 32 random bytes/);
    const short = await run(command, { ...base, BERTH_TOOL_SECRET_KEY: 'dG9vLXNob3J0LWEta2V5' });
    assert.equal(short.code, 2, short.out);
    assert.match(short.out, /BERTH_TOOL_SECRET_KEY: expected at least 32 random bytes/);
    assert.ok(!short.out.includes('dG9vLXNob3J0LWEta2V5'), 'the key is not echoed');
  });
}

for (const c of cases) {
  test(`berth ${c.command} with ${Object.keys(c.env).at(-1)} wrong: exit 2 naming it`, async () => {
    const { code, out } = await run(c.command, c.env);
    assert.equal(code, 2, out);
    assert.match(out, /invalid .* settings:/);
    assert.match(out, c.says);
    assert.doesNotMatch(out, /\n\s+at /, 'no stack trace');
    assert.ok(!out.includes('do-not-print-me'), 'no password');
  });
}
