// `berth doctor` as a user runs it: a new process, configured by environment
// variables, against a real ecs-local.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type EcsLocal, startEcsLocal } from '../../ecs-local/index.ts';

const berth = join(import.meta.dirname, '..', '..', 'bin', 'berth.ts');
let ecsLocal: EcsLocal;

before(async () => {
  ecsLocal = await startEcsLocal({ port: 0 });
});
after(async () => {
  await ecsLocal?.close();
});

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
    BERTH_ECS_ENDPOINT: ecsLocal.url,
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
    BERTH_ECS_ENDPOINT: ecsLocal.url,
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
    BERTH_ECS_ENDPOINT: ecsLocal.url,
    BERTH_ECS_ASSIGN_PUBLIC_IP: 'maybe',
  });
  assert.equal(code, 1, out);
  assert.match(out, /✗ configuration/);
  assert.match(out, /BERTH_ECS_ASSIGN_PUBLIC_IP: must be ENABLED or DISABLED/);
  assert.doesNotMatch(out, /\n\s+at /);
});
