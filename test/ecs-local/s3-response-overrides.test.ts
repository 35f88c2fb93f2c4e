// A presigned GET's response-* parameters (the API's downloads name the file with
// response-content-disposition) are honoured on signed requests, covered by the
// signature, and refused on unsigned ones.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import {
  BUCKET,
  createFilesRole,
  runProbe,
  type S3Env,
  s3Client,
  signedFetch,
  startWithS3,
  taskSession,
} from './s3-helpers.ts';

const UID = '3f6b2a1c-8d4e-4f5a-9b0c-1d2e3f4a5b6c';
const KEY = `home/${UID}/reports/résumé.csv`;
const DISPOSITION = `attachment; filename="resume.csv"; filename*=UTF-8''r%C3%A9sum%C3%A9.csv`;

let env: S3Env;
let admin: S3Client;

before(async () => {
  env = await startWithS3();
  admin = s3Client(env.ecsLocal);
  await admin.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: KEY,
      Body: 'a,b\n1,2\n',
      ContentType: 'text/plain',
    }),
  );
});

after(async () => {
  await env?.close();
});

test('a presigned GET with response overrides is answered with those headers', async () => {
  const url = await getSignedUrl(
    admin,
    new GetObjectCommand({
      Bucket: BUCKET,
      Key: KEY,
      ResponseContentDisposition: DISPOSITION,
      ResponseContentType: 'text/csv; charset=utf-8',
      ResponseCacheControl: 'no-store',
      ResponseContentLanguage: 'en-GB',
      ResponseExpires: new Date('2030-01-01T00:00:00Z'),
    }),
    { expiresIn: 60 },
  );
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'a,b\n1,2\n');
  assert.equal(res.headers.get('content-disposition'), DISPOSITION);
  assert.equal(res.headers.get('content-type'), 'text/csv; charset=utf-8');
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.equal(res.headers.get('content-language'), 'en-GB');
  assert.equal(res.headers.get('expires'), 'Tue, 01 Jan 2030 00:00:00 GMT');
  // Without overrides the stored type is sent, and no disposition.
  const plain = await fetch(
    await getSignedUrl(admin, new GetObjectCommand({ Bucket: BUCKET, Key: KEY }), {
      expiresIn: 60,
    }),
  );
  assert.equal(plain.headers.get('content-type'), 'text/plain');
  assert.equal(plain.headers.get('content-disposition'), null);
  await plain.arrayBuffer();
  // The SDK's own signed GET and HEAD take them too.
  const head = await admin.send(
    new HeadObjectCommand({ Bucket: BUCKET, Key: KEY, ResponseContentDisposition: DISPOSITION }),
  );
  assert.equal(head.ContentDisposition, DISPOSITION);
});

test("a task's session credentials may presign a download naming the file", async () => {
  const task = await runProbe(env.ecsLocal, await createFilesRole(env.ecsLocal, UID));
  const session = s3Client(env.ecsLocal, await taskSession(task));
  const url = await getSignedUrl(
    session,
    new GetObjectCommand({ Bucket: BUCKET, Key: KEY, ResponseContentDisposition: DISPOSITION }),
    { expiresIn: 60 },
  );
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-disposition'), DISPOSITION);
  await res.arrayBuffer();
});

test('overrides are covered by the signature; unsigned or altered requests are refused', async () => {
  const path = `/${BUCKET}/${KEY.split('/').map(encodeURIComponent).join('/')}`;
  const unsigned = await fetch(
    `${env.ecsLocal.url}${path}?response-content-disposition=${encodeURIComponent(DISPOSITION)}`,
  );
  assert.equal(unsigned.status, 403);
  assert.match(await unsigned.text(), /<Code>AccessDenied<\/Code>/);
  assert.equal(unsigned.headers.get('content-disposition'), null);

  const url = await getSignedUrl(
    admin,
    new GetObjectCommand({ Bucket: BUCKET, Key: KEY, ResponseContentDisposition: 'inline' }),
    { expiresIn: 60 },
  );
  const altered = await fetch(
    url.replace('response-content-disposition=inline', 'response-content-disposition=attachment'),
  );
  assert.equal(altered.status, 403);
  assert.match(await altered.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
  // A response-* parameter S3 does not allow to override is refused, signed or not.
  const unknown = await signedFetch(
    env.ecsLocal,
    env.ecsLocal.credentials,
    'GET',
    `${path}?response-x-frame-options=deny`,
  );
  assert.equal(unknown.status, 400);
  assert.match(unknown.body, /<Code>InvalidArgument<\/Code>/);
});
