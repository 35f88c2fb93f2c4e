// The controllers' Secrets Manager reader (controllers/credentials/secrets-manager.ts):
// the real SDK against ecs-local's Secrets Manager, configured from the ECS
// settings, resolving a Database's secretsManagerArn; values cached until forgotten.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  DatabaseUnavailable,
  resolveAdminCredentials,
} from '../../../controllers/credentials/admin-credentials.ts';
import { createSecretReader } from '../../../controllers/credentials/secrets-manager.ts';
import type { Database } from '../../../crds/index.ts';
import { type EcsLocal, startEcsLocal } from '../../../ecs-local/index.ts';

const ADMIN = JSON.stringify({ username: 'berth_admin', password: 'pw-from-secrets-manager' });

let ecsLocal: EcsLocal;

before(async () => {
  ecsLocal = await startEcsLocal({
    port: 0,
    throttling: false,
    secrets: [{ name: 'berth/db/warehouse', secretString: ADMIN }],
  });
});

after(async () => {
  await ecsLocal?.close(500);
});

/** The controllers' environment under berth up: ecs-local's endpoint and key pair. */
function controllerEnv(): Record<string, string> {
  return {
    BERTH_ECS_ENDPOINT: ecsLocal.url,
    BERTH_ECS_REGION: 'eu-west-2',
    BERTH_ECS_ACCESS_KEY_ID: ecsLocal.credentials.accessKeyId,
    BERTH_ECS_SECRET_ACCESS_KEY: ecsLocal.credentials.secretAccessKey,
    BERTH_ECS_MAX_ATTEMPTS: '1',
  };
}

function database(secretsManagerArn: string): Pick<Database, 'metadata' | 'spec'> {
  return {
    metadata: { name: 'warehouse' } as Database['metadata'],
    spec: {
      host: '127.0.0.1',
      port: 5432,
      dbname: 'warehouse',
      sslmode: 'disable',
      adminCredentials: { secretsManagerArn },
      logins: { connectionLimit: 10, statementTimeout: '60m', idleInTransactionTimeout: '60m' },
    },
  };
}

test('resolveAdminCredentials reads a secretsManagerArn through the SDK reader, cached', async () => {
  const { arn } = ecsLocal.putSecret('berth/db/cached', ADMIN);
  const reader = createSecretReader(controllerEnv());
  try {
    const creds = await resolveAdminCredentials(database(arn), { env: {}, readSecret: reader });
    assert.deepEqual(creds, { username: 'berth_admin', password: 'pw-from-secrets-manager' });
    // Rotated in Secrets Manager: the cached value holds for its few minutes, until forgotten.
    ecsLocal.putSecret('berth/db/cached', JSON.stringify({ username: 'rotated', password: 'p2' }));
    const cached = await resolveAdminCredentials(database(arn), { env: {}, readSecret: reader });
    assert.equal(cached.username, 'berth_admin');
    reader.forget(arn);
    const fresh = await resolveAdminCredentials(database(arn), { env: {}, readSecret: reader });
    assert.equal(fresh.username, 'rotated');
  } finally {
    reader.close();
  }
});

test('a missing secret is AdminCredentialsUnreadable naming the ARN, not a crash', async () => {
  const reader = createSecretReader(controllerEnv());
  const arn = 'arn:aws:secretsmanager:eu-west-2:000000000000:secret:berth/db/absent-AbCdEf';
  try {
    await assert.rejects(
      resolveAdminCredentials(database(arn), { env: {}, readSecret: reader }),
      (err: Error) =>
        err instanceof DatabaseUnavailable &&
        err.reason === 'AdminCredentialsUnreadable' &&
        err.message.includes(arn) &&
        err.message.includes('ResourceNotFoundException'),
    );
  } finally {
    reader.close();
  }
});

test('the reader uses BERTH_SECRETS_MANAGER_ENDPOINT over BERTH_ECS_ENDPOINT', async () => {
  const reader = createSecretReader({
    ...controllerEnv(),
    BERTH_ECS_ENDPOINT: 'http://127.0.0.1:1',
    BERTH_SECRETS_MANAGER_ENDPOINT: ecsLocal.url,
  });
  try {
    assert.equal(await reader('berth/db/warehouse'), ADMIN);
  } finally {
    reader.close();
  }
});
