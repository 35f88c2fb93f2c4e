// ecs-local answers Secrets Manager's GetSecretValue and DescribeSecret to the
// unmodified @aws-sdk/client-secrets-manager, signed with its key pair like the
// ECS API (the controllers' reader over it: test/controllers/credentials/
// secrets-manager-reader.test.ts).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
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
