// Restarts: a restart with state keeps local edits (mobius3 overwrote them with
// S3's); a first start with no state keeps both of two differing versions; a
// SIGKILL in the middle of a multipart upload loses nothing and shows nothing
// partial, and one just after an upload makes no conflict copy of itself.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { waitFor } from '../../support/wait.ts';
import { healthy, type World, world } from './harness.ts';

let w: World;
before(async () => {
  w = await world();
});
after(() => w?.close());

const conflictCopies = async () => {
  const local = (await readdir(w.home, { recursive: true })).filter((n) =>
    n.includes('(conflict '),
  );
  const remote = (await w.list()).filter((k) => k.includes('(conflict '));
  return [...local, ...remote];
};

test('a restart with state keeps what was edited locally while stopped', async () => {
  let sc = await w.start();
  await healthy(sc);
  await writeFile(join(w.home, 'kept.txt'), 'v1');
  await waitFor(async () => (await w.get('kept.txt')) === 'v1', 30_000, 'v1 in S3');
  assert.equal(await sc.stop(), 0);
  await writeFile(join(w.home, 'kept.txt'), 'v2, edited while the sidecar was down');
  sc = await w.start();
  await healthy(sc);
  await waitFor(
    async () => (await w.get('kept.txt')) === 'v2, edited while the sidecar was down',
    30_000,
    'the local edit in S3',
  );
  assert.equal(
    await readFile(join(w.home, 'kept.txt'), 'utf8'),
    'v2, edited while the sidecar was down',
  );
  assert.deepEqual(await conflictCopies(), []);
  assert.equal(await sc.stop(), 0);
});

test('a first start with no state: differing files keep both versions, equal ones are in step', async () => {
  await rm(join(w.home, '.s3sync'), { recursive: true, force: true });
  await w.put('differs.txt', 'the version in S3');
  await writeFile(join(w.home, 'differs.txt'), 'the version in the task');
  await w.put('equal.txt', 'same on both sides');
  await writeFile(join(w.home, 'equal.txt'), 'same on both sides');
  const sc = await w.start();
  await healthy(sc);
  const copies = await waitFor(
    async () => {
      const c = await conflictCopies();
      return c.length === 2 && c;
    },
    30_000,
    'the conflict copy on both sides',
  );
  assert.ok(
    copies.every((c) => c.startsWith('differs (conflict ')),
    copies.join(','),
  );
  assert.equal(await readFile(join(w.home, 'differs.txt'), 'utf8'), 'the version in S3');
  assert.equal(
    await readFile(join(w.home, copies[0] as string), 'utf8'),
    'the version in the task',
  );
  assert.equal(await w.get(copies[0] as string), 'the version in the task');
  assert.equal(await w.get('differs.txt'), 'the version in S3');
  assert.equal(await sc.stop(), 0);
  for (const c of copies) {
    await rm(join(w.home, c), { force: true });
    await w.del(c);
  }
});

test('SIGKILL in the middle of a multipart upload, then a restart: one complete object, no conflict copy, nothing partial ever listed', async () => {
  const MiB = 1024 * 1024;
  const body = randomBytes(96 * MiB);
  const md5 = createHash('md5').update(body).digest('hex');
  const env = { S3SYNC_MULTIPART_THRESHOLD_BYTES: String(5 * MiB), S3SYNC_CONCURRENCY: '2' };
  let sc = await w.start(env);
  await healthy(sc);
  const seenSizes = new Set<number>();
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      for (const o of await w.list().catch(() => []))
        if (o === 'big.bin') seenSizes.add((await w.head(o))?.size ?? -1);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const before = w.proxy.bytesUp();
  await writeFile(join(w.home, 'big.bin'), body);
  await waitFor(() => w.proxy.bytesUp() - before > 16 * MiB, 60_000, 'the upload under way');
  assert.equal(await w.head('big.bin'), undefined, 'no object before CompleteMultipartUpload');
  sc.child.kill('SIGKILL');
  await sc.exited;

  sc = await w.start(env);
  await healthy(sc, 120_000);
  await waitFor(
    async () => (await w.head('big.bin'))?.size === body.length,
    120_000,
    'the object complete',
  );
  watching = false;
  await watcher;
  const got = await w.client.send(
    new GetObjectCommand({ Bucket: w.s3.bucket, Key: w.key('big.bin') }),
  );
  const h = createHash('md5');
  for await (const c of got.Body as AsyncIterable<Buffer>) h.update(c);
  assert.equal(h.digest('hex'), md5, 'the bytes are the file');
  assert.deepEqual(
    [...seenSizes].filter((s) => s !== body.length),
    [],
    'nothing partial listed',
  );
  assert.deepEqual(
    (await w.list()).filter((k) => k.startsWith('big')),
    ['big.bin'],
  );

  // Killed right after an upload completes (before the state is written): the
  // next start finds the same file on both sides (mtime in metadata) and records it.
  await writeFile(join(w.home, 'big.bin'), randomBytes(12 * MiB));
  await waitFor(
    () => sc.lines.some((l) => l.msg === 'uploaded' && l.path === 'big.bin' && l.size === 12 * MiB),
    60_000,
    'the second upload',
  );
  sc.child.kill('SIGKILL');
  await sc.exited;
  sc = await w.start(env);
  await healthy(sc, 60_000);
  assert.deepEqual(await conflictCopies(), []);
  assert.equal((await w.head('big.bin'))?.size, 12 * MiB);
  assert.equal(await sc.stop(), 0);
});
