// berth files ls|cp|rm against a real API whose files endpoints presign for a
// real S3 (s3rver): files go up and come back byte for byte (one PUT, and in
// parts above 16 MiB), folders with -r, a trailing "/" meaning "into", names
// with spaces and Unicode, deletes, and errors that name the path. Another
// user's listing never shows them (the API's prefix; the walls themselves are
// tested through ecs-local's S3 in test/security).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { type RunningApi, startApi } from '../../api/index.ts';
import { homePrefix } from '../../crds/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { startS3rver, type TestS3 } from '../support/s3rver.ts';
import { type Run, runBerth } from './harness.ts';

let db: TestDatabase;
let api: RunningApi;
let s3: TestS3;
let dir: string;
const tokens: Record<string, string> = {};
const uids: Record<string, string> = {};

function berth(user: string, args: string[]): Promise<Run> {
  return runBerth(args, {
    env: {
      BERTH_CONFIG: join(dir, `config-${user}.yaml`),
      BERTH_SERVER: api.url,
      BERTH_TOKEN: tokens[user],
    },
  });
}

function ok(r: Run): Run {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

function failed(r: Run, message: RegExp): Run {
  assert.equal(r.code, 1, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /X-Amz-Signature/i, 'no presigned URL in an error');
  return r;
}

async function head(user: string, path: string) {
  return s3
    .client()
    .send(new HeadObjectCommand({ Bucket: s3.bucket, Key: homePrefix(uids[user]!) + path }));
}

before(async () => {
  db = await freshDatabase();
  s3 = await startS3rver();
  api = await startApi({
    pool: db.pool,
    port: 0,
    config: {
      logLevel: 'silent',
      filesBucket: s3.bucket,
      s3Endpoint: s3.url,
      s3Region: s3.region,
      s3AccessKeyId: s3.credentials.accessKeyId,
      s3SecretAccessKey: s3.credentials.secretAccessKey,
    },
  });
  for (const name of ['alice', 'bob']) {
    const user = await api.identity.upsertUser({ name });
    uids[name] = user.uid;
    tokens[name] = (await api.identity.createToken({ user: name })).token;
  }
  dir = await mkdtemp(join(tmpdir(), 'berth-cli-files-'));
});

after(async () => {
  await api?.close();
  await s3?.close();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('a file goes up and comes back byte for byte, with spaces and Unicode in its name', async () => {
  const local = join(dir, 'résumé 2026 ✓.txt');
  const content = `hello ${randomBytes(8).toString('hex')}\n`;
  await writeFile(local, content);
  const up = ok(await berth('alice', ['files', 'cp', local, 'home:reports/']));
  assert.match(up.stdout, /copied 1 file/);
  const listed = ok(await berth('alice', ['files', 'ls', 'home:reports']));
  assert.match(listed.stdout, /^NAME\s+SIZE\s+MODIFIED$/m);
  assert.match(listed.stdout, /^résumé 2026 ✓\.txt\s+\d+B\s+\d{4}-\d\d-\d\d \d\d:\d\dZ$/m);
  const top = ok(await berth('alice', ['files', 'ls']));
  assert.match(top.stdout, /^reports\/\s+-/m, 'folders end with "/"');
  const back = join(dir, 'back.txt');
  ok(await berth('alice', ['files', 'cp', 'home:reports/résumé 2026 ✓.txt', back]));
  assert.equal(await readFile(back, 'utf8'), content);
  const json = JSON.parse(
    ok(await berth('alice', ['files', 'ls', 'home:reports/', '-o', 'json'])).stdout,
  );
  assert.equal(json.items[0].path, 'reports/résumé 2026 ✓.txt');
  assert.equal(json.items[0].size, Buffer.byteLength(content));
});

test('a file over 16 MiB goes up in parts and comes back identical', async () => {
  const local = join(dir, 'big.bin');
  const data = randomBytes(17 * 1024 * 1024 + 12345);
  await writeFile(local, data);
  ok(await berth('alice', ['files', 'cp', local, 'home:big.bin']));
  assert.equal((await head('alice', 'big.bin')).ContentLength, data.length);
  const back = join(dir, 'big-back.bin');
  ok(await berth('alice', ['files', 'cp', 'home:big.bin', back]));
  assert.ok(data.equals(await readFile(back)), 'downloaded bytes equal the uploaded ones');
  const leftovers = (await readdir(dir)).filter((n) => n.includes('.berth-'));
  assert.deepEqual(leftovers, [], 'no temporary download file left behind');
});

test('cp -r copies a folder both ways; a trailing "/" means into', async () => {
  const src = join(dir, 'project');
  await mkdir(join(src, 'data', 'raw'), { recursive: true });
  await mkdir(join(src, 'empty'), { recursive: true });
  await writeFile(join(src, 'README.md'), '# project\n');
  await writeFile(join(src, 'data', 'raw', 'a b.csv'), 'x,y\n1,2\n');
  failed(await berth('alice', ['files', 'cp', src, 'home:work/']), /is a folder: use -r/);
  const up = ok(await berth('alice', ['files', 'cp', '-r', src, 'home:work/']));
  assert.match(up.stdout, /copied 2 files/);
  assert.equal((await head('alice', 'work/project/data/raw/a b.csv')).ContentLength, 8);
  const names = ok(await berth('alice', ['files', 'ls', 'home:work/project', '--no-headers']));
  assert.match(names.stdout, /^data\//m);
  assert.match(names.stdout, /^empty\//m);
  assert.match(names.stdout, /^README\.md/m);
  // Without "/" and no folder of that name, DST is the new name.
  ok(await berth('alice', ['files', 'cp', '-r', src, 'home:copy']));
  assert.equal((await head('alice', 'copy/README.md')).ContentLength, 10);

  const down = join(dir, 'down');
  await mkdir(down);
  ok(await berth('alice', ['files', 'cp', '-r', 'home:work/project', `${down}/`]));
  assert.equal(
    await readFile(join(down, 'project', 'data', 'raw', 'a b.csv'), 'utf8'),
    'x,y\n1,2\n',
  );
  assert.deepEqual(await readdir(join(down, 'project', 'empty')), []);
  failed(
    await berth('alice', ['files', 'cp', 'home:work/project', join(dir, 'x')]),
    /home:work\/project is a folder: use -r/,
  );
});

test('rm deletes a file, and a folder only with -r', async () => {
  await writeFile(join(dir, 'gone.txt'), 'bye');
  ok(await berth('alice', ['files', 'cp', join(dir, 'gone.txt'), 'home:trash/gone.txt']));
  ok(await berth('alice', ['files', 'cp', join(dir, 'gone.txt'), 'home:trash/keep.txt']));
  const removed = ok(await berth('alice', ['files', 'rm', 'home:trash/gone.txt']));
  assert.match(removed.stdout, /deleted home:trash\/gone\.txt \(1 object\)/);
  const left = ok(await berth('alice', ['files', 'ls', 'home:trash', '--no-headers']));
  assert.doesNotMatch(left.stdout, /gone\.txt/);
  failed(await berth('alice', ['files', 'rm', 'home:trash']), /trash/);
  ok(await berth('alice', ['files', 'rm', '-r', 'home:trash']));
  const listed = ok(await berth('alice', ['files', 'ls', 'home:']));
  assert.doesNotMatch(listed.stdout, /trash/);
  failed(await berth('alice', ['files', 'ls', 'home:trash']), /home:trash: no such file or folder/);
  // ls of a file shows that file.
  ok(await berth('alice', ['files', 'cp', join(dir, 'gone.txt'), 'home:one.txt']));
  const one = ok(await berth('alice', ['files', 'ls', 'home:one.txt', '--no-headers']));
  assert.match(one.stdout, /^one\.txt\s+3B/);
});

test('errors name the path and what was wrong', async () => {
  failed(
    await berth('alice', ['files', 'ls', 'home:../etc']),
    /invalid path "home:\.\.\/etc": .*"\.\."/,
  );
  failed(
    await berth('alice', ['files', 'cp', join(dir, 'nope.txt'), 'home:x']),
    /nope\.txt: no such file or folder/,
  );
  failed(
    await berth('alice', ['files', 'cp', 'home:missing.txt', join(dir, 'm.txt')]),
    /home:missing\.txt: no such file or folder/,
  );
  failed(await berth('alice', ['files', 'cp', 'a', 'b']), /exactly one of SRC and DST/);
  failed(await berth('alice', ['files', 'cp', 'home:a', 'home:b']), /exactly one of SRC and DST/);
  failed(
    await berth('alice', ['files', 'cp', join(dir, 'back.txt'), 'home:a//b.txt']),
    /empty folder names/,
  );
  failed(await berth('alice', ['files', 'rm', '-r', 'home:']), /whole home folder/);
});

test("another user's listing never shows your files", async () => {
  await writeFile(join(dir, 'secret.txt'), 'alice only');
  ok(await berth('alice', ['files', 'cp', join(dir, 'secret.txt'), 'home:secret.txt']));
  const bobs = await berth('bob', ['files', 'ls', '-o', 'json']);
  ok(bobs);
  assert.deepEqual(JSON.parse(bobs.stdout).items, []);
  failed(
    await berth('bob', ['files', 'cp', 'home:secret.txt', join(dir, 'stolen.txt')]),
    /no such file/,
  );
});
