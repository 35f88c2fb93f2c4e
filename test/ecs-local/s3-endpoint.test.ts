// ecs-local's S3 endpoint with the real SDK: ecs-local's own pair is the
// account's admin; presigned URLs work with plain fetch and are refused once
// expired or altered; lib-storage's multipart Upload; CORS for the web UI; data
// on disk across a restart; and the S3 outage fault.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { adminFetch } from '../../ecs-local/index.ts';
import { BUCKET, ORIGIN, type S3Env, s3Client, startWithS3 } from './s3-helpers.ts';

let env: S3Env;

before(async () => {
  env = await startWithS3();
});

after(async () => {
  await env?.close();
});

async function errorOf(p: Promise<unknown>): Promise<S3ServiceException> {
  try {
    await p;
  } catch (err) {
    if (err instanceof S3ServiceException) return err;
    throw err;
  }
  assert.fail('expected an S3 error');
}

test("ecs-local's own pair puts, lists, reads, copies and deletes objects", async () => {
  const s3 = s3Client(env.ecsLocal);
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'admin/a b/é.txt', Body: 'hello' }));
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'admin/folder/', Body: '' }));
  const listed = await s3.send(
    new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'admin/', Delimiter: '/' }),
  );
  assert.deepEqual(
    listed.CommonPrefixes?.map((p) => p.Prefix),
    ['admin/a b/', 'admin/folder/'],
  );
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'admin/a b/é.txt' }));
  assert.equal(await got.Body!.transformToString(), 'hello');
  await s3.send(
    new CopyObjectCommand({
      Bucket: BUCKET,
      Key: 'admin/copy.txt',
      CopySource: `${BUCKET}/${encodeURIComponent('admin/a b/é.txt')}`,
    }),
  );
  await s3.send(
    new CopyObjectCommand({
      Bucket: BUCKET,
      Key: 'admin/folder2/',
      CopySource: `${BUCKET}/admin/folder/`,
    }),
  );
  const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'admin/copy.txt' }));
  assert.equal(head.ContentLength, 5);
  assert.equal(
    (await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'admin/folder2/' }))).ContentLength,
    0,
  );
  const deleted = await s3.send(
    new DeleteObjectsCommand({
      Bucket: BUCKET,
      Delete: { Objects: [{ Key: 'admin/copy.txt' }, { Key: 'admin/folder2/' }] },
    }),
  );
  assert.equal(deleted.Deleted?.length, 2);
  const missing = await errorOf(
    s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'admin/copy.txt' })),
  );
  assert.equal(missing.$metadata.httpStatusCode, 404);
});

test('presigned GET and PUT work with plain fetch; expired or altered URLs are refused', async () => {
  const s3 = s3Client(env.ecsLocal);
  const put = await getSignedUrl(
    s3,
    new PutObjectCommand({ Bucket: BUCKET, Key: 'presigned/x.csv' }),
    { expiresIn: 60 },
  );
  const putRes = await fetch(put, { method: 'PUT', body: 'a,b\n1,2\n' });
  assert.equal(putRes.status, 200, await putRes.text());
  assert.ok(putRes.headers.get('etag'));
  const get = await getSignedUrl(
    s3,
    new GetObjectCommand({ Bucket: BUCKET, Key: 'presigned/x.csv' }),
    { expiresIn: 60 },
  );
  const getRes = await fetch(get);
  assert.equal(await getRes.text(), 'a,b\n1,2\n');

  // Altered: another key under the same signature.
  const altered = get.replace('presigned/x.csv', 'presigned/y.csv');
  const alteredRes = await fetch(altered);
  assert.equal(alteredRes.status, 403);
  assert.match(await alteredRes.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
  // Expired: signed two hours ago for an hour.
  const old = await getSignedUrl(
    s3,
    new GetObjectCommand({ Bucket: BUCKET, Key: 'presigned/x.csv' }),
    {
      expiresIn: 3600,
      signingDate: new Date(Date.now() - 2 * 3600_000),
    },
  );
  const oldRes = await fetch(old);
  assert.equal(oldRes.status, 403);
  assert.match(await oldRes.text(), /Request has expired/);
  // No signature at all.
  const bare = await fetch(`${env.ecsLocal.url}/${BUCKET}/presigned/x.csv`);
  assert.equal(bare.status, 403);
  assert.match(await bare.text(), /<Code>AccessDenied<\/Code>/);
});

test("lib-storage's Upload sends a file larger than one part as a multipart upload", async () => {
  const s3 = s3Client(env.ecsLocal);
  const body = Buffer.alloc(12 * 1024 * 1024 + 123, 7);
  body.write('start', 0);
  const upload = new Upload({
    client: s3,
    params: { Bucket: BUCKET, Key: 'big/twelve.bin', Body: body },
    partSize: 5 * 1024 * 1024,
  });
  let parts = 0;
  upload.on('httpUploadProgress', () => {
    parts += 1;
  });
  await upload.done();
  assert.ok(parts >= 3, `progress events: ${parts}`);
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'big/twelve.bin' }));
  const bytes = Buffer.from(await got.Body!.transformToByteArray());
  assert.equal(bytes.length, body.length);
  assert.ok(bytes.equals(body));
});

test("a CORS preflight from the UI's origin is answered, and answers expose ETag", async () => {
  const pre = await fetch(`${env.ecsLocal.url}/${BUCKET}/home/x/y.txt`, {
    method: 'OPTIONS',
    headers: {
      origin: ORIGIN,
      'access-control-request-method': 'PUT',
      'access-control-request-headers': 'content-type',
    },
  });
  assert.equal(pre.status, 200);
  assert.equal(pre.headers.get('access-control-allow-origin'), ORIGIN);
  assert.match(pre.headers.get('access-control-allow-methods') ?? '', /PUT/);
  const other = await fetch(`${env.ecsLocal.url}/${BUCKET}/home/x/y.txt`, {
    method: 'OPTIONS',
    headers: { origin: 'http://evil.example', 'access-control-request-method': 'PUT' },
  });
  assert.equal(other.status, 403);
  assert.equal(other.headers.get('access-control-allow-origin'), null);
  const s3 = s3Client(env.ecsLocal);
  const put = await getSignedUrl(s3, new PutObjectCommand({ Bucket: BUCKET, Key: 'cors/z.txt' }), {
    expiresIn: 60,
  });
  const res = await fetch(put, { method: 'PUT', body: 'z', headers: { origin: ORIGIN } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('access-control-allow-origin'), ORIGIN);
  assert.match(res.headers.get('access-control-expose-headers') ?? '', /ETag/);
});

test('aws-chunked bodies are refused with a 501 naming the header', async () => {
  const s3 = new (await import('@aws-sdk/client-s3')).S3Client({
    endpoint: env.ecsLocal.url,
    forcePathStyle: true,
    region: 'eu-west-2',
    credentials: env.ecsLocal.credentials,
    maxAttempts: 1,
    requestChecksumCalculation: 'WHEN_SUPPORTED',
  });
  const { Readable } = await import('node:stream');
  const err = await errorOf(
    s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: 'chunked/a',
        Body: Readable.from([Buffer.from('abc')]),
        ContentLength: 3,
      }),
    ),
  );
  assert.equal(err.$metadata.httpStatusCode, 501);
  assert.match(err.message, /aws-chunked/);
});

test('the S3 outage fault drops every S3 connection until it is turned off', async () => {
  const s3 = s3Client(env.ecsLocal);
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'outage/a', Body: 'a' }));
  const on = await adminFetch(env.ecsLocal.url, env.ecsLocal.credentials, '/_ecs-local/faults', {
    method: 'POST',
    body: JSON.stringify({ s3Outage: true }),
  });
  assert.equal(on.status, 200);
  await assert.rejects(
    s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'outage/a' })),
    (err: Error) => {
      assert.ok(!(err instanceof S3ServiceException), `an answer came back: ${err.name}`);
      return true;
    },
  );
  await adminFetch(env.ecsLocal.url, env.ecsLocal.credentials, '/_ecs-local/faults', {
    method: 'POST',
    body: JSON.stringify({ s3Outage: false }),
  });
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'outage/a' }));
  assert.equal(await got.Body!.transformToString(), 'a');
});
