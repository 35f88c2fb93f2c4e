// ListObjectsV2 through ecs-local's S3 endpoint beyond one page (the front
// answers it; s3rver's own DES continuation tokens fail on Node 24): 2,500 keys
// page by page with and without a delimiter, max-keys, start-after,
// encoding-type=url, a folder holding only folders, and a task role limited to
// its prefix, which no continuation token can move outside it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
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

const UID = '7d0c6a8e-5b1f-4c59-9d0e-0a1b2c3d4e5f';
const OTHER = '0a9e1f3c-2b4d-4e6f-8a0b-1c2d3e4f5a6b';
const HOME = `home/${UID}/`;
const DATA = `${HOME}data/`;

let env: S3Env;
let admin: S3Client;
const expected: string[] = [];

before(async () => {
  env = await startWithS3();
  admin = s3Client(env.ecsLocal);
  for (let i = 0; i < 1499; i++) expected.push(`${DATA}k${String(i).padStart(4, '0')}.txt`);
  for (let i = 0; i < 1000; i++) expected.push(`${DATA}sub${String(i).padStart(4, '0')}/a.txt`);
  expected.push(`${DATA}only-folders/deep/x.txt`); // its folder holds only a folder
  expected.sort();
  const others = [`home/${OTHER}/secret.txt`, 'home/0-before-everyone.txt', 'zzz-after.txt'];
  const all = [...expected, ...others];
  for (let i = 0; i < all.length; i += 50) {
    await Promise.all(
      all
        .slice(i, i + 50)
        .map((Key) => admin.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body: Key }))),
    );
  }
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

/** Every page of a listing, following NextContinuationToken. */
async function allPages(
  client: S3Client,
  input: Omit<ConstructorParameters<typeof ListObjectsV2Command>[0], 'Bucket'>,
): Promise<ListObjectsV2CommandOutput[]> {
  const pages: ListObjectsV2CommandOutput[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: BUCKET, ...input, ContinuationToken: token }),
    );
    pages.push(page);
    assert.equal(page.KeyCount, (page.Contents?.length ?? 0) + (page.CommonPrefixes?.length ?? 0));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
    if (page.IsTruncated) assert.ok(token, 'a truncated page carries a continuation token');
    assert.ok(pages.length < 100, 'the listing ends');
  } while (token);
  return pages;
}

const keysOf = (pages: ListObjectsV2CommandOutput[]) =>
  pages.flatMap((p) => (p.Contents ?? []).map((o) => o.Key!));
const prefixesOf = (pages: ListObjectsV2CommandOutput[]) =>
  pages.flatMap((p) => (p.CommonPrefixes ?? []).map((o) => o.Prefix!));

test('2,500 keys list page by page without a delimiter, 1,000 at a time', async () => {
  const pages = await allPages(admin, { Prefix: DATA });
  assert.deepEqual(
    pages.map((p) => p.Contents?.length ?? 0),
    [1000, 1000, 500],
  );
  assert.deepEqual(keysOf(pages), expected);
  const first = pages[0]!.Contents![0]!;
  assert.equal(first.Size, Buffer.byteLength(first.Key!));
  assert.match(first.ETag ?? '', /^"[0-9a-f]{32}"$/);
  assert.equal(first.StorageClass, 'STANDARD');
  assert.ok(first.LastModified instanceof Date && !Number.isNaN(first.LastModified.getTime()));
  assert.equal(first.Owner, undefined);
  const owned = await admin.send(
    new ListObjectsV2Command({ Bucket: BUCKET, Prefix: DATA, MaxKeys: 1, FetchOwner: true }),
  );
  assert.ok(owned.Contents?.[0]?.Owner?.ID);
});

test('with a delimiter, pages of max-keys hold files and folders once each, a folder of only folders included', async () => {
  const pages = await allPages(admin, { Prefix: DATA, Delimiter: '/', MaxKeys: 300 });
  assert.ok(pages.slice(0, -1).every((p) => p.KeyCount === 300 && p.MaxKeys === 300));
  const files = keysOf(pages);
  const folders = prefixesOf(pages);
  assert.equal(files.length, 1499);
  assert.ok(files.every((k) => !k.slice(DATA.length).includes('/')));
  assert.equal(folders.length, 1001);
  assert.equal(new Set(folders).size, folders.length, 'no folder repeated across pages');
  assert.ok(folders.includes(`${DATA}only-folders/`));
  assert.ok(folders.includes(`${DATA}sub0000/`) && folders.includes(`${DATA}sub0999/`));
  // The folder holding only a folder lists that folder.
  const inner = await admin.send(
    new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${DATA}only-folders/`, Delimiter: '/' }),
  );
  assert.deepEqual(
    (inner.CommonPrefixes ?? []).map((p) => p.Prefix),
    [`${DATA}only-folders/deep/`],
  );
  assert.equal(inner.KeyCount, 1);
  // At the top, "home/" holds only folders too.
  const top = await admin.send(new ListObjectsV2Command({ Bucket: BUCKET, Delimiter: '/' }));
  assert.deepEqual(
    (top.CommonPrefixes ?? []).map((p) => p.Prefix),
    ['home/'],
  );
  assert.deepEqual(
    (top.Contents ?? []).map((o) => o.Key),
    ['zzz-after.txt'],
  );
});

test('start-after and max-keys position and size a listing', async () => {
  const start = `${DATA}sub0499/a.txt`;
  const pages = await allPages(admin, { Prefix: DATA, StartAfter: start, MaxKeys: 200 });
  assert.deepEqual(
    pages.map((p) => p.KeyCount),
    [200, 200, 100],
  );
  assert.equal(pages[0]!.StartAfter, start);
  assert.deepEqual(
    keysOf(pages),
    expected.filter((k) => k > start),
  );
  const none = await admin.send(
    new ListObjectsV2Command({ Bucket: BUCKET, Prefix: DATA, MaxKeys: 0 }),
  );
  assert.equal(none.KeyCount, 0);
  assert.equal(none.IsTruncated, false);
});

test('encoding-type=url encodes keys and prefixes in the answer', async () => {
  const key = `${HOME}odd/a b+c&d é.txt`;
  await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'x' }));
  const out = await admin.send(
    new ListObjectsV2Command({
      Bucket: BUCKET,
      Prefix: `${HOME}odd/`,
      EncodingType: 'url',
    }),
  );
  assert.equal(out.EncodingType, 'url');
  const sent = out.Contents?.[0]?.Key ?? '';
  assert.ok(!sent.includes(' ') && !sent.includes('&'), `encoded: ${sent}`);
  assert.equal(decodeURIComponent(sent.replace(/\+/g, ' ')), key);
  const plain = await admin.send(
    new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${HOME}odd/` }),
  );
  assert.equal(plain.Contents?.[0]?.Key, key);
});

test('bad listing parameters are refused with 400s naming them, never a 500', async () => {
  for (const [query, name] of [
    ['list-type=2&continuation-token=not%20a%20token', 'continuation-token'],
    ['list-type=2&continuation-token=AAAA', 'continuation-token'],
    ['list-type=2&max-keys=-1', 'max-keys'],
    ['list-type=2&encoding-type=base64', 'encoding-type'],
    ['list-type=2&marker=a', 'marker'],
  ] as const) {
    const res = await signedFetch(
      env.ecsLocal,
      env.ecsLocal.credentials,
      'GET',
      `/${BUCKET}?${query}`,
    );
    assert.equal(res.status, 400, `${query}: ${res.body}`);
    assert.match(res.body, /<Code>InvalidArgument<\/Code>/);
    assert.match(res.body, new RegExp(name));
  }
  const missing = await errorOf(admin.send(new ListObjectsV2Command({ Bucket: 'no-such-bucket' })));
  assert.equal(missing.name, 'NoSuchBucket');
});

test('a task role lists its whole prefix page by page, and no token reaches outside it', async () => {
  const roleArn = await createFilesRole(env.ecsLocal, UID);
  const task = await runProbe(env.ecsLocal, roleArn);
  const session = s3Client(env.ecsLocal, await taskSession(task));
  const pages = await allPages(session, { Prefix: HOME });
  const keys = keysOf(pages);
  assert.ok(keys.length >= 2500);
  assert.ok(keys.every((k) => k.startsWith(HOME)));
  assert.deepEqual(
    keys.filter((k) => k.startsWith(DATA)),
    expected,
  );
  // Tokens positioned before and inside another user's home, before every key, or past them all.
  const token = (t: string) => Buffer.from(t).toString('base64url');
  for (const [raw, count] of [
    ['Khome/', 1000],
    [`Khome/${OTHER}/`, 1000],
    ['K!', 1000],
    ['Phome/', 0],
    ['Kzzz-after.txt', 0],
  ] as const) {
    const out = await session.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: HOME, ContinuationToken: token(raw) }),
    );
    const listed = (out.Contents ?? []).map((o) => o.Key!);
    assert.ok(
      listed.every((k) => k.startsWith(HOME)),
      `${raw}: nothing outside the prefix`,
    );
    assert.equal(listed.length, count, raw);
  }
  // The prefix is what is authorized: another's, or the whole bucket, is denied.
  for (const Prefix of [`home/${OTHER}/`, 'home/', undefined]) {
    const denied = await errorOf(
      session.send(
        new ListObjectsV2Command({ Bucket: BUCKET, Prefix, ContinuationToken: token('Khome/') }),
      ),
    );
    assert.equal(denied.name, 'AccessDenied');
  }
});
