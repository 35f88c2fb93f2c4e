// One user never reaches another user's files through a tool's credentials:
// a task run with user A's file role (the policy berth writes: ListBucket with
// s3:prefix under home/<A>/, object actions on home/<A>/*) gets session
// credentials that ecs-local's S3 endpoint checks against that policy on every
// request. They cannot list, read, write, delete, copy from or multipart into
// home/<B>/, nor list the bucket root, nor escape with dot segments (plain or
// percent-encoded) or double slashes; unsigned, expired and altered requests are
// refused; another task's token does not fetch this task's credentials.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  BUCKET,
  type Credentials,
  createFilesRole,
  type ProbeTask,
  probe,
  runProbe,
  type S3Env,
  s3Client,
  signedFetch,
  startWithS3,
  taskSession,
} from '../ecs-local/s3-helpers.ts';

const A = 'home/uid-a/';
const B = 'home/uid-b/';
const SECRET = 'only-b-may-read-this';

let env: S3Env;
let admin: S3Client;
let taskA: ProbeTask;
let taskB: ProbeTask;
let credsA: Credentials;
let s3A: S3Client;

before(async () => {
  env = await startWithS3();
  admin = s3Client(env.ecsLocal);
  await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${A}mine.txt`, Body: 'mine' }));
  await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${B}secret.txt`, Body: SECRET }));
  taskA = await runProbe(env.ecsLocal, await createFilesRole(env.ecsLocal, 'uid-a'));
  taskB = await runProbe(env.ecsLocal, await createFilesRole(env.ecsLocal, 'uid-b'));
  credsA = await taskSession(taskA);
  s3A = s3Client(env.ecsLocal, credsA);
});

after(async () => {
  await env?.close();
});

async function refused(p: Promise<unknown>, code = 'AccessDenied', status = 403): Promise<void> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof S3ServiceException, String(err));
    assert.equal(err.name, code);
    assert.equal(err.$metadata.httpStatusCode, status);
    return;
  }
  assert.fail(`expected ${code}, the request succeeded`);
}

async function bStillHasSecret(): Promise<void> {
  const got = await admin.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${B}secret.txt` }));
  assert.equal(await got.Body!.transformToString(), SECRET);
}

async function exists(key: string): Promise<boolean> {
  try {
    await admin.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    return true;
  } catch (err) {
    if (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404) return false;
    throw err;
  }
}

test("A's credentials work on A's own prefix (the wall is not simply closed)", async () => {
  const listed = await s3A.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: A }));
  assert.deepEqual(
    listed.Contents?.map((o) => o.Key),
    [`${A}mine.txt`],
  );
  await s3A.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${A}new.txt`, Body: 'n' }));
  await s3A.send(
    new CopyObjectCommand({
      Bucket: BUCKET,
      Key: `${A}copy.txt`,
      CopySource: `${BUCKET}/${A}new.txt`,
    }),
  );
  await s3A.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `${A}copy.txt` }));
});

test("A cannot list B's prefix, the bucket root, or prefixes that only start like A's", async () => {
  for (const Prefix of [B, 'home/', '', undefined, 'home/uid-a', 'home/uid-']) {
    await refused(s3A.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix })));
  }
  // A prefix under A's that climbs out with dot segments is refused outright.
  await refused(
    s3A.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${A}../uid-b/` })),
    'InvalidArgument',
    400,
  );
});

test("A cannot read, overwrite or delete B's files", async () => {
  await refused(s3A.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${B}secret.txt` })));
  // HEAD answers carry no body, so only the status tells.
  await refused(
    s3A.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `${B}secret.txt` })),
    'Unknown',
  );
  await refused(
    s3A.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${B}secret.txt`, Body: 'overwritten' })),
  );
  await refused(
    s3A.send(new PutObjectCommand({ Bucket: BUCKET, Key: `${B}planted.txt`, Body: 'x' })),
  );
  assert.equal(await exists(`${B}planted.txt`), false);
  await refused(s3A.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `${B}secret.txt` })));
  // One of A's keys and one of B's in one DeleteObjects: nothing is deleted.
  await refused(
    s3A.send(
      new DeleteObjectsCommand({
        Bucket: BUCKET,
        Delete: { Objects: [{ Key: `${A}mine.txt` }, { Key: `${B}secret.txt` }] },
      }),
    ),
  );
  assert.equal(await exists(`${A}mine.txt`), true);
  await bStillHasSecret();
});

test("A cannot copy B's files out, nor copy into B's prefix", async () => {
  await refused(
    s3A.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: `${A}stolen.txt`,
        CopySource: `${BUCKET}/${B}secret.txt`,
      }),
    ),
  );
  assert.equal(await exists(`${A}stolen.txt`), false);
  await refused(
    s3A.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: `${B}planted.txt`,
        CopySource: `${BUCKET}/${A}mine.txt`,
      }),
    ),
  );
  // A copy source that escapes A's prefix with dot segments.
  await refused(
    s3A.send(
      new CopyObjectCommand({
        Bucket: BUCKET,
        Key: `${A}stolen.txt`,
        CopySource: `${BUCKET}/${A}../uid-b/secret.txt`,
      }),
    ),
    'InvalidArgument',
    400,
  );
  assert.equal(await exists(`${A}stolen.txt`), false);
});

test("A cannot start, feed, complete, list or abort a multipart upload in B's prefix", async () => {
  await refused(s3A.send(new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: `${B}big.bin` })));
  // B's own upload in progress (started with the admin pair): its id is no key to it for A.
  const started = await admin.send(
    new CreateMultipartUploadCommand({ Bucket: BUCKET, Key: `${B}big.bin` }),
  );
  const UploadId = started.UploadId!;
  await admin.send(
    new UploadPartCommand({
      Bucket: BUCKET,
      Key: `${B}big.bin`,
      UploadId,
      PartNumber: 1,
      Body: 'b-part',
    }),
  );
  await refused(
    s3A.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: `${B}big.bin`,
        UploadId,
        PartNumber: 1,
        Body: 'a',
      }),
    ),
  );
  await refused(s3A.send(new ListPartsCommand({ Bucket: BUCKET, Key: `${B}big.bin`, UploadId })));
  // Naming A's own key with B's upload id does not reach B's upload either.
  await refused(
    s3A.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: `${A}x.bin`,
        UploadId,
        PartNumber: 1,
        Body: 'a-part',
      }),
    ),
    'NoSuchUpload',
    404,
  );
  await refused(
    s3A.send(
      new CompleteMultipartUploadCommand({
        Bucket: BUCKET,
        Key: `${A}x.bin`,
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: '"x"' }] },
      }),
    ),
    'NoSuchUpload',
    404,
  );
  await refused(
    s3A.send(
      new (await import('@aws-sdk/client-s3')).AbortMultipartUploadCommand({
        Bucket: BUCKET,
        Key: `${A}x.bin`,
        UploadId,
      }),
    ),
    'NoSuchUpload',
    404,
  );
  assert.equal(await exists(`${B}big.bin`), false);
  const parts = await admin.send(
    new ListPartsCommand({ Bucket: BUCKET, Key: `${B}big.bin`, UploadId }),
  );
  assert.deepEqual(
    parts.Parts?.map((p) => [p.PartNumber, p.Size]),
    [[1, 6]],
  );
  // An upload id that names a path is not one.
  await refused(
    s3A.send(
      new UploadPartCommand({
        Bucket: BUCKET,
        Key: `${A}x.bin`,
        UploadId: `../../${B}`,
        PartNumber: 1,
        Body: 'a',
      }),
    ),
    'NoSuchUpload',
    404,
  );
});

test("dot segments, percent-encoded or not, and double slashes do not reach B's files", async () => {
  for (const path of [
    `/${BUCKET}/${A}../uid-b/secret.txt`,
    `/${BUCKET}/${A}%2E%2E/uid-b/secret.txt`,
    `/${BUCKET}/${A}%2e%2e%2fuid-b%2fsecret.txt`,
    `/${BUCKET}/${A}..%2F..%2F${B}secret.txt`,
    `/${BUCKET}/${A}./../uid-b/secret.txt`,
    `/${BUCKET}/${A}/../uid-b/secret.txt`,
    `/${BUCKET}//${B}secret.txt`,
    `/${BUCKET}/${A}%2F..%2Fuid-b%2Fsecret.txt`,
  ]) {
    const got = await signedFetch(env.ecsLocal, credsA, 'GET', path);
    assert.notEqual(got.status, 200, path);
    assert.ok(!got.body.includes(SECRET), path);
    const put = await signedFetch(env.ecsLocal, credsA, 'PUT', path, 'overwritten');
    assert.notEqual(put.status, 200, path);
  }
  await bStillHasSecret();
});

test('unsigned, expired and altered requests are refused', async () => {
  const bare = await fetch(`${env.ecsLocal.url}/${BUCKET}/${A}mine.txt`);
  assert.equal(bare.status, 403);
  const url = await getSignedUrl(
    s3A,
    new GetObjectCommand({ Bucket: BUCKET, Key: `${A}mine.txt` }),
    { expiresIn: 60 },
  );
  assert.equal((await fetch(url)).status, 200);
  const toB = url.replace(`${A}mine.txt`, `${B}secret.txt`);
  const altered = await fetch(toB);
  assert.equal(altered.status, 403);
  assert.ok(!(await altered.text()).includes(SECRET));
  const expired = await getSignedUrl(
    s3A,
    new GetObjectCommand({ Bucket: BUCKET, Key: `${A}mine.txt` }),
    {
      expiresIn: 60,
      signingDate: new Date(Date.now() - 10 * 60_000),
    },
  );
  assert.equal((await fetch(expired)).status, 403);
  // The session token is part of the credential: another token is refused.
  const forged = s3Client(env.ecsLocal, {
    ...credsA,
    sessionToken: `${credsA.sessionToken!.slice(0, -4)}AAAA`,
  });
  await refused(
    forged.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: A })),
    'InvalidToken',
    400,
  );
  // A made-up key.
  const stranger = s3Client(env.ecsLocal, {
    accessKeyId: 'ASIAAAAAAAAAAAAAAAAA',
    secretAccessKey: 'x'.repeat(40),
    sessionToken: 't',
  });
  await refused(
    stranger.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: A })),
    'InvalidAccessKeyId',
    403,
  );
});

test("another task's token does not fetch this task's credentials", async () => {
  const a = (await probe(taskA, '/env')) as { uri: string; token: string };
  const b = (await probe(taskB, '/env')) as { uri: string; token: string };
  assert.notEqual(a.token, b.token);
  assert.equal((await fetch(a.uri, { headers: { authorization: b.token } })).status, 403);
  assert.equal((await fetch(b.uri, { headers: { authorization: a.token } })).status, 403);
  // And B's credentials are B's: they read B's file and not A's.
  const s3B = s3Client(env.ecsLocal, await taskSession(taskB));
  const got = await s3B.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${B}secret.txt` }));
  assert.equal(await got.Body!.transformToString(), SECRET);
  await refused(s3B.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${A}mine.txt` })));
});
