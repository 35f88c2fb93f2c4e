// Task role credentials: a real task process whose S3Client is given no
// credentials lists its own prefix through the SDK's default chain (the
// container credentials endpoint); the endpoint answers the agent's shape, a new
// pair on each fetch, only to the task's own token; the credentials die with the
// task; RunTask refuses a role that does not exist.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  ClientException,
  RegisterTaskDefinitionCommand,
  StopTaskCommand,
} from '@aws-sdk/client-ecs';
import { ListObjectsV2Command, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { ecsClient, runOne, waitForStatus } from './helpers.ts';
import {
  BUCKET,
  createFilesRole,
  type ProbeTask,
  probe,
  runProbe,
  type S3Env,
  s3Client,
  startWithS3,
  taskSession,
} from './s3-helpers.ts';

let env: S3Env;
let roleA: string;
let taskA: ProbeTask;

before(async () => {
  env = await startWithS3();
  roleA = await createFilesRole(env.ecsLocal, 'uid-a');
  const admin = s3Client(env.ecsLocal);
  await admin.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: 'home/uid-a/notes.txt', Body: 'mine' }),
  );
  await admin.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: 'home/uid-b/notes.txt', Body: 'theirs' }),
  );
  taskA = await runProbe(env.ecsLocal, roleA);
});

after(async () => {
  await env?.close();
});

test('a task process with no credentials given lists its own prefix through the default chain', async () => {
  const seen = (await probe(taskA, '/env')) as {
    uri: string;
    token: string;
    accessKey: string | null;
  };
  assert.match(seen.uri, /^http:\/\/127\.0\.0\.1:\d+\/_ecs-local\/credentials\/[\w-]+$/);
  assert.match(seen.token, /^[\w-]{43}$/);
  assert.equal(seen.accessKey, null);
  assert.deepEqual(await probe(taskA, '/list?prefix=home/uid-a/'), {
    ok: true,
    keys: ['home/uid-a/notes.txt'],
  });
  assert.deepEqual(await probe(taskA, '/put?key=home/uid-a/new.txt&body=hi'), { ok: true });
  assert.deepEqual(await probe(taskA, '/get?key=home/uid-a/new.txt'), { ok: true, body: 'hi' });
  assert.deepEqual(await probe(taskA, '/get?key=home/uid-b/notes.txt'), {
    ok: false,
    code: 'AccessDenied',
    status: 403,
  });
  assert.deepEqual(await probe(taskA, '/list?prefix=home/uid-b/'), {
    ok: false,
    code: 'AccessDenied',
    status: 403,
  });
});

test("the endpoint answers the agent's shape, a fresh pair each time, only to the task's token", async () => {
  const seen = (await probe(taskA, '/env')) as { uri: string; token: string };
  const first = await fetch(seen.uri, { headers: { authorization: seen.token } });
  assert.equal(first.status, 200);
  const a = (await first.json()) as Record<string, string>;
  assert.match(a.AccessKeyId!, /^ASIA[A-Z2-7]{16}$/);
  assert.ok(a.SecretAccessKey && a.Token);
  assert.equal(a.RoleArn, roleA);
  const expires = Date.parse(a.Expiration!);
  assert.ok(expires > Date.now() + 10 * 60_000, `expires ${a.Expiration}`);
  const b = (await (
    await fetch(seen.uri, { headers: { authorization: seen.token } })
  ).json()) as Record<string, string>;
  assert.notEqual(b.AccessKeyId, a.AccessKeyId);
  // Both pairs work until they expire (a refresh does not cut off requests in flight).
  for (const c of [a, b]) {
    const s3 = s3Client(env.ecsLocal, {
      accessKeyId: c.AccessKeyId!,
      secretAccessKey: c.SecretAccessKey!,
      sessionToken: c.Token!,
    });
    const out = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'home/uid-a/' }));
    assert.ok((out.Contents ?? []).length >= 1);
  }
  assert.equal((await fetch(seen.uri)).status, 401);
  assert.equal((await fetch(seen.uri, { headers: { authorization: 'x'.repeat(43) } })).status, 403);
  assert.equal(
    (await fetch(`${seen.uri}x`, { headers: { authorization: seen.token } })).status,
    403,
  );
});

test('RunTask refuses a task role that does not exist, in ECS words', async () => {
  const ecs = ecsClient(env.ecsLocal);
  const def = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'no-role',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      containerDefinitions: [{ name: 'main', image: 'test/idle:1' }],
    }),
  );
  await assert.rejects(
    runOne(ecs, def.taskDefinition!.taskDefinitionArn!, {
      overrides: { taskRoleArn: 'arn:aws:iam::000000000000:role/nobody' },
    }),
    (err: Error) => {
      assert.ok(err instanceof ClientException, err.name);
      assert.match(
        err.message,
        /unable to assume the role 'arn:aws:iam::000000000000:role\/nobody'/,
      );
      return true;
    },
  );
});

test("a task definition's taskRoleArn gives its tasks credentials too", async () => {
  const ecs = ecsClient(env.ecsLocal);
  const roleB = await createFilesRole(env.ecsLocal, 'uid-b');
  const def = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'with-role',
      requiresCompatibilities: ['FARGATE'],
      networkMode: 'awsvpc',
      cpu: '256',
      memory: '512',
      taskRoleArn: roleB,
      containerDefinitions: [{ name: 'main', image: 'test/idle:1' }],
    }),
  );
  const task = await runOne(ecs, def.taskDefinition!.taskDefinitionArn!);
  const running = await waitForStatus(ecs, task.taskArn!, 'RUNNING', 20_000);
  assert.equal(running.lastStatus, 'RUNNING');
  await ecs.send(new StopTaskCommand({ task: task.taskArn! }));
});

test('credentials stop working at the S3 endpoint once the task has stopped', async () => {
  const task = await runProbe(env.ecsLocal, roleA);
  const creds = await taskSession(task);
  const seen = (await probe(task, '/env')) as { uri: string; token: string };
  const s3 = s3Client(env.ecsLocal, creds);
  await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'home/uid-a/' }));
  await task.ecs.send(new StopTaskCommand({ task: task.arn }));
  await waitForStatus(task.ecs, task.arn, 'STOPPED', 30_000);
  await assert.rejects(
    s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'home/uid-a/' })),
    (err: Error) => {
      assert.ok(err instanceof S3ServiceException);
      assert.equal(err.name, 'ExpiredToken');
      return true;
    },
  );
  assert.equal((await fetch(seen.uri, { headers: { authorization: seen.token } })).status, 403);
});
