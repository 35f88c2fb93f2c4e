// s3sync as it runs in a task: an ecs-local task whose only credentials are its
// task role (berth's file role for one user: their prefix only), fetched by the
// SDK's default chain from the container credentials endpoint, against
// ecs-local's policy-checking S3. It brings its own prefix down (nothing of
// another user's), sends local writes and deletes up, and stays healthy.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { ecsClient, registerFargate, runOne, waitForStatus } from '../../ecs-local/helpers.ts';
import {
  BUCKET,
  createFilesRole,
  type S3Env,
  s3Client,
  startWithS3,
} from '../../ecs-local/s3-helpers.ts';
import { waitFor } from '../../support/wait.ts';

const MAIN = join(import.meta.dirname, '..', '..', '..', 'sidecars', 's3sync', 'main.ts');
const PORT = 18890 + Math.floor(Math.random() * 500);
let env: S3Env;
let home: string;
let healthUrl: string;

before(async () => {
  env = await startWithS3({
    imageMap: {
      'berth/s3sync:latest': {
        command: [`$${'{node}'}`, '--disable-warning=ExperimentalWarning', MAIN],
      },
    },
  });
  home = await mkdtemp(join(tmpdir(), 's3sync-task-home-'));
  const admin = s3Client(env.ecsLocal);
  await admin.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: 'home/uid-a/mine.txt', Body: 'mine' }),
  );
  await admin.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: 'home/uid-b/theirs.txt', Body: 'theirs' }),
  );
  const role = await createFilesRole(env.ecsLocal, 'uid-a');
  const ecs = ecsClient(env.ecsLocal);
  const def = await registerFargate(ecs, 's3sync', 'berth/s3sync:latest', {
    port: PORT,
    environment: [
      { name: 'BERTH_FILES_BUCKET', value: BUCKET },
      { name: 'BERTH_FILES_PREFIX', value: 'home/uid-a/' },
      { name: 'BERTH_HOME', value: home },
      { name: 'AWS_ENDPOINT_URL_S3', value: env.ecsLocal.url },
      { name: 'AWS_REGION', value: 'eu-west-2' },
      { name: 'S3SYNC_PORT', value: String(PORT) },
      { name: 'S3SYNC_POLL_INTERVAL_MS', value: '1000' },
    ],
  });
  const task = await runOne(ecs, def, { overrides: { taskRoleArn: role } });
  const running = await waitForStatus(ecs, task.taskArn as string, 'RUNNING', 30_000);
  const ip = running.attachments?.[0]?.details?.find((d) => d.name === 'privateIPv4Address')?.value;
  healthUrl = `http://${ip}:${PORT}/healthz`;
});
after(async () => {
  await env?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

test('with only its task role: its own prefix comes down, local changes go up, nothing of another user', async () => {
  await waitFor(
    async () => (await fetch(healthUrl).catch(() => undefined))?.status === 200,
    60_000,
    's3sync healthy in the task',
  );
  assert.equal(await readFile(join(home, 'mine.txt'), 'utf8'), 'mine');
  assert.deepEqual(
    (await readdir(home)).filter((n) => n !== '.s3sync'),
    ['mine.txt'],
    "nothing of another user's prefix",
  );
  const admin = s3Client(env.ecsLocal);
  const get = (key: string) =>
    admin
      .send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))
      .then((o) => o.Body?.transformToString())
      .catch(() => undefined);
  await writeFile(join(home, 'from the tool.txt'), 'written in the task');
  await waitFor(
    async () => (await get('home/uid-a/from the tool.txt')) === 'written in the task',
    30_000,
    'the upload',
  );
  await unlink(join(home, 'mine.txt'));
  await waitFor(async () => (await get('home/uid-a/mine.txt')) === undefined, 30_000, 'the delete');
  await admin.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: 'home/uid-a/later.txt', Body: 'later' }),
  );
  await waitFor(
    () => stat(join(home, 'later.txt')).catch(() => undefined),
    30_000,
    'a later S3 file',
  );
  const theirs = await admin.send(
    new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'home/uid-b/' }),
  );
  assert.deepEqual(
    (theirs.Contents ?? []).map((o) => o.Key),
    ['home/uid-b/theirs.txt'],
  );
  assert.equal((await fetch(healthUrl)).status, 200);
});
