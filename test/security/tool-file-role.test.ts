// Wall: a tool berth launches for a user carries S3 credentials (its task role,
// the user's file role) that reach that user's home prefix and nothing else: not
// another user's prefix (list, read, write, delete), not the bucket's root, not
// another bucket. Through the whole launch path: the controllers make the role
// from the policy template, RunTask passes it, ecs-local serves the task's
// credentials and checks every S3 request against the role's policy.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { homePrefix } from '../../crds/index.ts';
import {
  BUCKET,
  echoSpec,
  type FilesEnv,
  startFilesEnv,
  toolEnv,
} from '../controllers/files/support.ts';
import { createInstance, createTool, waitForPhase } from '../controllers/reconcile-support.ts';

let env: FilesEnv;
let admin: S3Client;
let alice: S3Client;
let aliceUid: string;
let bobUid: string;

function s3(
  endpoint: string,
  region: string,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
): S3Client {
  return new S3Client({
    endpoint,
    region,
    forcePathStyle: true,
    credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

async function denied(p: Promise<unknown>, what: string): Promise<void> {
  await assert.rejects(p, (err: { name?: string; $metadata?: { httpStatusCode?: number } }) => {
    assert.equal(err.$metadata?.httpStatusCode, 403, `${what}: ${err.name}`);
    return true;
  });
}

before(async () => {
  env = await startFilesEnv({ addressOctet: 76, files: true });
  aliceUid = (await env.identity.upsertUser({ name: 'alice' })).uid;
  bobUid = (await env.identity.upsertUser({ name: 'bob' })).uid;
  const { region } = env.ecsLocal.config;
  const { accessKeyId, secretAccessKey } = env.ecsLocal.credentials;
  admin = s3(env.ecsLocal.url, region, { accessKeyId, secretAccessKey });
  await admin.send(
    new PutObjectCommand({ Bucket: BUCKET, Key: `${homePrefix(bobUid)}secret.txt`, Body: 'bob' }),
  );
  await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'top-level.txt', Body: 'root' }));

  await createTool(env.manager.store, 'echo', echoSpec());
  await createInstance(env.manager.store, 'alice', 'echo', 'echo');
  const ti = await waitForPhase(env.manager.store, 'alice', 'echo', 'Ready', 30_000);
  // The credentials the SDK's default chain fetches inside alice's task.
  const e = await toolEnv(env, ti);
  assert.ok(e.AWS_CONTAINER_CREDENTIALS_FULL_URI, 'the task has role credentials');
  const creds = (await (
    await fetch(e.AWS_CONTAINER_CREDENTIALS_FULL_URI, {
      headers: { authorization: e.AWS_CONTAINER_AUTHORIZATION_TOKEN! },
    })
  ).json()) as { AccessKeyId: string; SecretAccessKey: string; Token: string };
  alice = s3(e.AWS_ENDPOINT_URL_S3!, region, {
    accessKeyId: creds.AccessKeyId,
    secretAccessKey: creds.SecretAccessKey,
    sessionToken: creds.Token,
  });
});

after(async () => {
  alice?.destroy();
  admin?.destroy();
  await env?.close();
});

test("alice's tool lists, writes, reads and deletes in her own home", async () => {
  const key = `${homePrefix(aliceUid)}notes/a.txt`;
  await alice.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'mine' }));
  const got = await alice.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  assert.equal(await got.Body?.transformToString(), 'mine');
  const listed = await alice.send(
    new ListObjectsV2Command({ Bucket: BUCKET, Prefix: homePrefix(aliceUid) }),
  );
  assert.deepEqual(
    listed.Contents?.map((o) => o.Key),
    [key],
  );
  await alice.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
});

test("alice's tool cannot list, read, write or delete bob's files", async () => {
  const bobKey = `${homePrefix(bobUid)}secret.txt`;
  await denied(
    alice.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: homePrefix(bobUid) })),
    "list bob's home",
  );
  await denied(alice.send(new GetObjectCommand({ Bucket: BUCKET, Key: bobKey })), 'read');
  await denied(alice.send(new HeadObjectCommand({ Bucket: BUCKET, Key: bobKey })), 'head');
  await denied(
    alice.send(new PutObjectCommand({ Bucket: BUCKET, Key: bobKey, Body: 'overwritten' })),
    'overwrite',
  );
  await denied(
    alice.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: `${homePrefix(bobUid)}planted.txt`, Body: 'x' }),
    ),
    'plant',
  );
  await denied(alice.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: bobKey })), 'delete');
  const still = await admin.send(new GetObjectCommand({ Bucket: BUCKET, Key: bobKey }));
  assert.equal(await still.Body?.transformToString(), 'bob');
});

test("alice's tool cannot list the bucket, read outside homes, or reach her uid's look-alikes", async () => {
  await denied(alice.send(new ListObjectsV2Command({ Bucket: BUCKET })), 'list the bucket');
  await denied(
    alice.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'home/' })),
    'list home/',
  );
  await denied(
    alice.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `home/${aliceUid}` })),
    'list without the trailing slash',
  );
  await denied(alice.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'top-level.txt' })), 'root');
  await denied(
    alice.send(new PutObjectCommand({ Bucket: BUCKET, Key: `home/${aliceUid}x/a`, Body: 'x' })),
    'a look-alike prefix',
  );
});
