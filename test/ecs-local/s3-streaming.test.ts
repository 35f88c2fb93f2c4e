// Bodies stream through ecs-local's S3 front, never buffered: a 200 MB PutObject
// and its GetObject pass through a `berth ecs-local` child process (S3 turned on
// by its ECS_LOCAL_S3_* settings) whose peak RSS grows by far less than the body;
// the object survives a restart of ecs-local (s3rver's data on disk).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { type EcsLocalChild, startEcsLocalChild, writeTestImageMap } from './child.ts';
import { BUCKET, s3Client } from './s3-helpers.ts';

const SIZE = 200 * 1024 * 1024;
const CHUNK = Buffer.alloc(1024 * 1024);

let dir: string;
let child: EcsLocalChild | undefined;

async function startChild(): Promise<EcsLocalChild> {
  return startEcsLocalChild({
    stateDir: join(dir, 'state'),
    imageMap: writeTestImageMap(dir),
    octet: 100 + Math.floor(Math.random() * 150),
    extra: { ECS_LOCAL_S3_DIR: join(dir, 's3'), ECS_LOCAL_S3_BUCKETS: BUCKET },
  });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ecs-local-s3-stream-'));
  child = await startChild();
});

after(async () => {
  child?.child.kill('SIGTERM');
  await child?.exited;
  await rm(dir, { recursive: true, force: true });
});

/** Peak resident memory of a process, in bytes (VmHWM). */
async function peakRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

function body(): { stream: Readable; digest: () => string } {
  const hash = createHash('sha256');
  let sent = 0;
  const stream = new Readable({
    read() {
      if (sent >= SIZE) return this.push(null);
      CHUNK.writeUInt32BE(sent / CHUNK.length, 0);
      sent += CHUNK.length;
      const copy = Buffer.from(CHUNK);
      hash.update(copy);
      this.push(copy);
    },
  });
  return { stream, digest: () => hash.digest('hex') };
}

test('a 200 MB object streams in and out without ecs-local holding it in memory', async () => {
  const s3 = s3Client(child!);
  // Warm up (first requests load s3rver's and the signer's code).
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'warm', Body: 'w' }));
  const before = await peakRss(child!.pid);
  const { stream, digest } = body();
  await s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: 'big/200mb.bin',
      Body: stream,
      ContentLength: SIZE,
    }),
  );
  const sent = digest();
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'big/200mb.bin' }));
  assert.equal(got.ContentLength, SIZE);
  const hash = createHash('sha256');
  for await (const chunk of got.Body as Readable) hash.update(chunk as Buffer);
  assert.equal(hash.digest('hex'), sent);
  const growth = (await peakRss(child!.pid)) - before;
  console.log(
    `ecs-local peak RSS grew by ${(growth / 1024 / 1024).toFixed(1)} MB for a 200 MB body`,
  );
  assert.ok(growth < SIZE / 2, `peak RSS grew by ${growth} bytes`);
});

test("objects survive a restart of ecs-local (s3rver's data on disk)", async () => {
  child!.child.kill('SIGTERM');
  await child!.exited;
  child = await startChild();
  const s3 = s3Client(child!);
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'warm' }));
  assert.equal(await got.Body!.transformToString(), 'w');
});
