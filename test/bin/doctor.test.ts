// `berth doctor` as a user runs it: a new process, configured by environment
// variables, against a real ecs-local; and beside a local setup as `make run`
// runs it (API, database, ecs-local, proxy), with no AWS settings at all.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { type RunningApi, startApi } from '../../api/index.ts';
import { type EcsLocal, startEcsLocal } from '../../ecs-local/index.ts';
import { type RunningProxy, startProxy } from '../../proxy/index.ts';
import { freePort } from '../../store/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { ecsLocalEnv } from '../support/ecs-local.ts';

const berth = join(import.meta.dirname, '..', '..', 'bin', 'berth.ts');
let ecsLocal: EcsLocal;

let db: TestDatabase;
let api: RunningApi;
let proxy: RunningProxy;
let dir: string;

before(async () => {
  ecsLocal = await startEcsLocal({ port: 0 });
  db = await freshDatabase();
  api = await startApi({ pool: db.pool, port: 0, config: { logLevel: 'silent' }, signIn: false });
  proxy = await startProxy({ pool: db.pool, port: 0, config: { apiUpstream: api.url } });
  dir = await mkdtemp(join(tmpdir(), 'berth-doctor-'));
});
after(async () => {
  await proxy?.close();
  await api?.close();
  await ecsLocal?.close();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A CLI config file as berth up writes it. */
async function cliConfig(name: string, server: string, token?: string): Promise<string> {
  const path = join(dir, `${name}.yaml`);
  await writeFile(path, stringify({ server, ...(token ? { token } : {}) }), { mode: 0o600 });
  return path;
}

function doctor(env: Record<string, string>): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    // Only what the test gives (and PATH/HOME), so the caller's AWS settings cannot leak in.
    const child = spawn(
      process.execPath,
      ['--disable-warning=ExperimentalWarning', berth, 'doctor'],
      {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => (out += c));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code: code ?? 1, out }));
  });
}

test('all checks pass: exit 0 and a tick per check', async () => {
  const { code, out } = await doctor({
    ...ecsLocalEnv(ecsLocal),
    BERTH_ECS_SUBNETS: 'subnet-0a1b2c3d4e5f60001',
    BERTH_ECS_SECURITY_GROUPS: 'sg-0a1b2c3d4e5f60001',
  });
  assert.equal(code, 0, out);
  assert.match(out, /✓ ECS cluster/);
  assert.match(out, /✓ Subnets/);
  assert.match(out, /✓ Security groups/);
  assert.match(out, /All checks passed/);
});

test('a missing subnet: exit 1, the subnet named and how to fix it', async () => {
  const { code, out } = await doctor({
    ...ecsLocalEnv(ecsLocal),
    BERTH_ECS_SUBNETS: 'subnet-0a1b2c3d4e5f60001,subnet-0bad',
    BERTH_ECS_SECURITY_GROUPS: 'sg-0a1b2c3d4e5f60001',
  });
  assert.equal(code, 1, out);
  assert.match(out, /✗ Subnets: The subnet "subnet-0bad" does not exist/);
  assert.match(out, /fix: Correct BERTH_ECS_SUBNETS/);
  assert.match(out, /1 check failed/);
});

test('bad configuration: exit 1 naming the variable, no stack trace', async () => {
  const { code, out } = await doctor({
    ...ecsLocalEnv(ecsLocal),
    BERTH_ECS_ASSIGN_PUBLIC_IP: 'maybe',
  });
  assert.equal(code, 1, out);
  assert.match(out, /✗ configuration/);
  assert.match(out, /BERTH_ECS_ASSIGN_PUBLIC_IP: must be ENABLED or DISABLED/);
  assert.doesNotMatch(out, /\n\s+at /);
});

test('beside make run, no AWS settings: the local setup is checked, and passes', async () => {
  const { token } = await api.identity.createToken({ user: 'admin', admin: true });
  const { code, out } = await doctor({
    BERTH_CONFIG: await cliConfig('running', api.url, token),
    ECS_LOCAL_PORT: new URL(ecsLocal.url).port,
    ECS_LOCAL_ACCESS_KEY_ID: ecsLocal.credentials.accessKeyId,
    ECS_LOCAL_SECRET_ACCESS_KEY: ecsLocal.credentials.secretAccessKey,
    BERTH_PROXY_PORT: String(proxy.port),
  });
  assert.equal(code, 0, out);
  assert.match(out, /checking the local setup \(make run\)/);
  assert.match(out, new RegExp(`✓ berth API: ${api.url} answers`));
  assert.match(out, /✓ Database: The API reaches its PostgreSQL/);
  assert.match(out, /✓ CLI token: Signed in as admin \(admin\)/);
  assert.match(out, new RegExp(`✓ ecs-local: ${ecsLocal.url} answers`));
  assert.match(out, /✓ ECS cluster/);
  assert.match(out, /✓ Subnets/);
  assert.match(out, /✓ Security groups/);
  assert.match(out, /✓ proxy: .* answers and routes/);
  assert.match(out, /All checks passed/);
  assert.doesNotMatch(out, /AWS region|BERTH_ECS_REGION:/);
});

test('no AWS settings and nothing running: each part named, with make run as the fix', async () => {
  const { code, out } = await doctor({
    BERTH_CONFIG: await cliConfig('stopped', `http://127.0.0.1:${await freePort()}`, 'berth_x_y'),
    ECS_LOCAL_PORT: String(await freePort()),
    BERTH_PROXY_PORT: String(await freePort()),
  });
  assert.equal(code, 1, out);
  assert.match(out, /✗ berth API: Nothing answers at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
  assert.match(out, /✗ ecs-local: Nothing answers/);
  assert.match(out, /✗ proxy: Nothing answers/);
  assert.match(out, /fix: start berth with `make run`/);
  assert.match(out, /3 checks failed/);
  assert.doesNotMatch(out, /no AWS region set/);
});

test('a token the local server refuses: named, with the fix', async () => {
  const { code, out } = await doctor({
    BERTH_CONFIG: await cliConfig('stale', api.url, 'berth_0000000000000000_stale'),
    ECS_LOCAL_PORT: new URL(ecsLocal.url).port,
    ECS_LOCAL_ACCESS_KEY_ID: ecsLocal.credentials.accessKeyId,
    ECS_LOCAL_SECRET_ACCESS_KEY: ecsLocal.credentials.secretAccessKey,
    BERTH_PROXY_PORT: String(proxy.port),
  });
  assert.equal(code, 1, out);
  assert.match(out, /✗ CLI token: The server refuses the token from .*stale\.yaml \(401\)/);
  assert.match(out, /1 check failed/);
});
