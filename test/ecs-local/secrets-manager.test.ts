// ecs-local answers Secrets Manager's GetSecretValue and DescribeSecret to the
// unmodified @aws-sdk/client-secrets-manager, signed with its key pair like the
// ECS API; the controllers' reader (controllers/credentials/secrets-manager.ts)
// resolves a Database's admin credentials through it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import {
  DatabaseUnavailable,
  resolveAdminCredentials,
} from '../../controllers/credentials/admin-credentials.ts';
import { createSecretReader } from '../../controllers/credentials/secrets-manager.ts';
import type { Database } from '../../crds/index.ts';
import { adminFetch, type EcsLocal } from '../../ecs-local/index.ts';
import { start } from './helpers.ts';

const ADMIN = JSON.stringify({ username: 'berth_admin', password: 'pw-from-secrets-manager' });

let ecsLocal: EcsLocal;

before(async () => {
  ecsLocal = await start({ secrets: [{ name: 'berth/db/warehouse', secretString: ADMIN }] });
});

after(async () => {
  await ecsLocal?.close(500);
});

function client(credentials = ecsLocal.credentials): SecretsManagerClient {
  return new SecretsManagerClient({
    endpoint: ecsLocal.url,
    region: 'eu-west-2',
    credentials,
    maxAttempts: 1,
  });
}

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

test('GetSecretValue by name and by ARN answers the secret from the config', async () => {
  const sm = client();
  const byName = await sm.send(new GetSecretValueCommand({ SecretId: 'berth/db/warehouse' }));
  assert.equal(byName.SecretString, ADMIN);
  assert.equal(byName.Name, 'berth/db/warehouse');
  assert.match(
    byName.ARN ?? '',
    /^arn:aws:secretsmanager:eu-west-2:000000000000:secret:berth\/db\/warehouse-[A-Za-z0-9_-]{6}$/,
  );
  const byArn = await sm.send(new GetSecretValueCommand({ SecretId: byName.ARN }));
  assert.equal(byArn.SecretString, ADMIN);
  const described = await sm.send(new DescribeSecretCommand({ SecretId: byName.ARN }));
  assert.equal(described.Name, 'berth/db/warehouse');
  assert.ok(described.LastChangedDate instanceof Date);
});

test('an unknown secret is ResourceNotFoundException, as in AWS', async () => {
  await assert.rejects(
    client().send(new GetSecretValueCommand({ SecretId: 'no/such/secret' })),
    (err: Error) => err instanceof ResourceNotFoundException,
  );
});

test('a request not signed with ecs-local key pair is refused and reveals nothing', async () => {
  const wrongKey = {
    accessKeyId: 'AKIAWRONGWRONGWRONG1',
    secretAccessKey: 'wrong-secret-key-0000',
  };
  await assert.rejects(
    client(wrongKey).send(new GetSecretValueCommand({ SecretId: 'berth/db/warehouse' })),
    (err: Error) => err.name === 'UnrecognizedClientException',
  );
  const badSecret = { ...ecsLocal.credentials, secretAccessKey: 'not-the-right-secret-key' };
  await assert.rejects(
    client(badSecret).send(new GetSecretValueCommand({ SecretId: 'berth/db/warehouse' })),
    (err: Error) => err.name === 'InvalidSignatureException',
  );
  const unsigned = await fetch(ecsLocal.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'secretsmanager.GetSecretValue',
    },
    body: JSON.stringify({ SecretId: 'berth/db/warehouse' }),
  });
  assert.equal(unsigned.status, 400);
  const text = await unsigned.text();
  assert.match(text, /MissingAuthenticationTokenException/);
  assert.doesNotMatch(text, /pw-from-secrets-manager/);
});

test('the signed admin endpoint sets a secret; unsigned, it is refused', async () => {
  const unsigned = await fetch(`${ecsLocal.url}/_ecs-local/secrets/berth%2Fdb%2Fnew`, {
    method: 'PUT',
    body: JSON.stringify({ secretString: 'x' }),
  });
  assert.equal(unsigned.status, 403);
  await assert.rejects(
    client().send(new GetSecretValueCommand({ SecretId: 'berth/db/new' })),
    (err: Error) => err instanceof ResourceNotFoundException,
  );
  const put = await adminFetch(
    ecsLocal.url,
    ecsLocal.credentials,
    '/_ecs-local/secrets/berth%2Fdb%2Fnew',
    {
      method: 'PUT',
      body: JSON.stringify({ secretString: '{"username":"u","password":"p"}' }),
    },
  );
  assert.equal(put.status, 200);
  const { arn } = (await put.json()) as { arn: string };
  const got = await client().send(new GetSecretValueCommand({ SecretId: arn }));
  assert.equal(got.SecretString, '{"username":"u","password":"p"}');
  const bad = await adminFetch(ecsLocal.url, ecsLocal.credentials, '/_ecs-local/secrets/x', {
    method: 'PUT',
    body: JSON.stringify({ value: 1 }),
  });
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: string }).error, /secretString/);
});

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
