// The s3sync sidecar against the AWS SDK's own loops, on the same S3 (ecs-local's) in the
// same run (figures only mean something as ratios on a shared machine):
// 1. initial sync of 1,000 small files and of one 1 GiB file, both ways: the
//    sidecar starting on a full home and an empty prefix (upload) against
//    lib-storage `Upload` in a loop; and on an empty home and a full prefix (its
//    initial download, until /healthz says ok) against a ListObjectsV2 +
//    GetObject loop. Target: >= 0.8 of the baseline's throughput.
// 2. edit-to-S3 latency: a file rewritten under home until S3 has its new ETag
//    (p50, p99), against a bare PutObject of the same bytes.
// 3. at rest watching 10,000 files: the sidecar's CPU over BENCH_REST_MS (target
//    < 1 % of a core) and its RSS.
// 4. a sparse 5 GiB file (BENCH_SPARSE_GIB; 0 skips it): the sidecar's multipart
//    upload (time, peak RSS) against lib-storage `Upload` of the same file. Over
//    S3's 5 GB single-PUT limit, so it must go in parts; about 5 min each here.
//   node bench/s3sync/sync.ts
//   BENCH_SMALL_FILES=200 BENCH_BIG_MIB=128 BENCH_REST_MS=20000 node bench/s3sync/sync.ts
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { pino } from 'pino';
import { startEcsLocal } from '../../ecs-local/index.ts';
import { pct } from '../controllers/diagnostics.lib.ts';
import { cpuSeconds, processTree } from '../proxy/cpu.lib.ts';
import { type S3Target, startSidecar, until } from './sidecar.lib.ts';

const SMALL_FILES = Number(process.env.BENCH_SMALL_FILES ?? 1000);
const SMALL_BYTES = Number(process.env.BENCH_SMALL_BYTES ?? 4096);
const BIG_MIB = Number(process.env.BENCH_BIG_MIB ?? 1024);
const EDITS = Number(process.env.BENCH_EDITS ?? 100);
const REST_FILES = Number(process.env.BENCH_REST_FILES ?? 10_000);
const REST_MS = Number(process.env.BENCH_REST_MS ?? 60_000);
/** Requests the baseline loops keep in flight. */
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const SPARSE_GIB = Number(process.env.BENCH_SPARSE_GIB ?? 5);

const work = await mkdtemp(join(tmpdir(), 'berth-bench-s3sync-'));
// ecs-local's S3 (s3rver behind its signature and policy checks), as under make run.
const ecsLocal = await startEcsLocal({
  port: 0,
  throttling: false,
  s3: { directory: join(work, 's3'), buckets: [{ name: 'bench' }] },
  logger: pino({ level: 'warn' }),
});
const s3: S3Target = {
  url: ecsLocal.url,
  bucket: 'bench',
  region: 'eu-west-2',
  credentials: ecsLocal.credentials,
};
const client = new S3Client({
  endpoint: s3.url,
  forcePathStyle: true,
  region: s3.region,
  credentials: s3.credentials,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});
let prefixes = 0;
const freshPrefix = () => `home/bench-${++prefixes}/`;
let homes = 0;
const freshHome = async () => {
  const home = join(work, `home-${++homes}`);
  await mkdir(home, { recursive: true });
  return home;
};

async function inParallel<T>(items: T[], each: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, items.length) }, async () => {
      while (next < items.length) await each(items[next++]!);
    }),
  );
}

async function listAll(prefix: string): Promise<{ key: string; etag: string }[]> {
  const out: { key: string; etag: string }[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) out.push({ key: o.Key!, etag: o.ETag! });
    token = page.NextContinuationToken;
  } while (token);
  return out;
}

interface Fixture {
  files: string[];
  bytes: number;
  write(home: string): Promise<void>;
}

function smallFiles(): Fixture {
  const files = Array.from({ length: SMALL_FILES }, (_, i) => `small/f${i}.bin`);
  return {
    files,
    bytes: SMALL_FILES * SMALL_BYTES,
    async write(home) {
      await mkdir(join(home, 'small'), { recursive: true });
      for (const f of files) await writeFile(join(home, f), randomBytes(SMALL_BYTES));
    },
  };
}

function bigFile(): Fixture {
  const block = randomBytes(1 << 20);
  return {
    files: ['big.bin'],
    bytes: BIG_MIB << 20,
    async write(home) {
      const out = createWriteStream(join(home, 'big.bin'));
      for (let i = 0; i < BIG_MIB; i++) {
        const mib = Buffer.from(block);
        mib.writeUInt32BE(i, 0); // every MiB differs
        if (!out.write(mib)) await once(out, 'drain');
      }
      await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
    },
  };
}

async function uploadBaseline(fx: Fixture, home: string, prefix: string): Promise<number> {
  const start = performance.now();
  await inParallel(fx.files, async (f) => {
    await new Upload({
      client,
      params: { Bucket: s3.bucket, Key: prefix + f, Body: createReadStream(join(home, f)) },
    }).done();
  });
  return performance.now() - start;
}

async function downloadBaseline(prefix: string, home: string): Promise<number> {
  const start = performance.now();
  const objects = await listAll(prefix);
  await inParallel(objects, async (o) => {
    const path = join(home, o.key.slice(prefix.length));
    await mkdir(dirname(path), { recursive: true });
    const got = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: o.key }));
    await pipeline(got.Body as NodeJS.ReadableStream, createWriteStream(path));
  });
  return performance.now() - start;
}

async function sidecarUpload(fx: Fixture, home: string, prefix: string): Promise<number> {
  const start = performance.now();
  const sidecar = await startSidecar(s3, home, prefix);
  try {
    await until(
      async () =>
        (await listAll(prefix)).filter((o) => !o.key.endsWith('/')).length >= fx.files.length,
      'the sidecar uploading every file',
      1_800_000,
      100,
    );
    return performance.now() - start;
  } finally {
    await sidecar.stop();
  }
}

async function sidecarDownload(prefix: string, home: string): Promise<number> {
  const start = performance.now();
  const sidecar = await startSidecar(s3, home, prefix);
  try {
    await until(() => sidecar.healthy(), 'the initial download', 1_800_000, 20);
    return performance.now() - start;
  } finally {
    await sidecar.stop();
  }
}

const mbps = (bytes: number, ms: number) => `${(bytes / (1 << 20) / (ms / 1000)).toFixed(1)} MiB/s`;

async function initialSync(name: string, fx: Fixture): Promise<void> {
  const source = await freshHome();
  await fx.write(source);
  // Upload: the baseline first, then the sidecar, each into a fresh prefix.
  const baseUp = await uploadBaseline(fx, source, freshPrefix());
  const sideUp = await sidecarUpload(fx, source, freshPrefix());
  // Download: both from the prefix the baseline filled, into fresh homes.
  const full = `home/bench-${prefixes - 1}/`;
  const baseDown = await downloadBaseline(full, await freshHome());
  const sideDown = await sidecarDownload(full, await freshHome());
  console.log(
    `${name} upload:   SDK Upload loop ${baseUp.toFixed(0)} ms (${mbps(fx.bytes, baseUp)}), s3sync ${sideUp.toFixed(0)} ms (${mbps(fx.bytes, sideUp)}): ${(baseUp / sideUp).toFixed(2)} x the SDK's throughput (target >= 0.8)`,
  );
  console.log(
    `${name} download: SDK GetObject loop ${baseDown.toFixed(0)} ms (${mbps(fx.bytes, baseDown)}), s3sync ${sideDown.toFixed(0)} ms (${mbps(fx.bytes, sideDown)}): ${(baseDown / sideDown).toFixed(2)} x (target >= 0.8)`,
  );
}

async function editLatency(): Promise<void> {
  const home = await freshHome();
  const prefix = freshPrefix();
  const sidecar = await startSidecar(s3, home, prefix);
  const edit: number[] = [];
  const put: number[] = [];
  try {
    await until(() => sidecar.healthy(), 'the sidecar');
    for (let i = 0; i < EDITS; i++) {
      const body = randomBytes(1024);
      const etag = `"${createHash('md5').update(body).digest('hex')}"`;
      let start = performance.now();
      await writeFile(join(home, 'edited.txt'), body);
      await until(
        async () => {
          try {
            const h = await client.send(
              new HeadObjectCommand({ Bucket: s3.bucket, Key: `${prefix}edited.txt` }),
            );
            return h.ETag === etag;
          } catch {
            return false;
          }
        },
        'the edit in S3',
        30_000,
        5,
      );
      edit.push(performance.now() - start);
      start = performance.now();
      await client.send(
        new PutObjectCommand({ Bucket: s3.bucket, Key: `${prefix}direct.txt`, Body: body }),
      );
      put.push(performance.now() - start);
    }
  } finally {
    await sidecar.stop();
  }
  edit.sort((a, b) => a - b);
  put.sort((a, b) => a - b);
  console.log(
    `edit -> S3: s3sync p50 ${pct(edit, 50).toFixed(0)} ms, p99 ${pct(edit, 99).toFixed(0)} ms (target: within 1 s of the write); bare PutObject p50 ${pct(put, 50).toFixed(1)} ms, p99 ${pct(put, 99).toFixed(1)} ms`,
  );
}

/** Resident memory of a process, from /proc. */
function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN) / 1024;
}

async function atRest(): Promise<void> {
  const home = await freshHome();
  const prefix = freshPrefix();
  for (let d = 0; d < REST_FILES / 100; d++) {
    await mkdir(join(home, `d${d}`), { recursive: true });
    for (let i = 0; i < 100; i++) await writeFile(join(home, `d${d}`, `f${i}.txt`), `${d}/${i}\n`);
  }
  const sidecar = await startSidecar(s3, home, prefix);
  try {
    await until(
      async () => (await sidecar.healthy()) && (await listAll(prefix)).length >= REST_FILES,
      'the sidecar uploading 10,000 files',
      1_800_000,
      1000,
    );
    const pids = processTree(sidecar.child.pid!);
    const before = cpuSeconds(pids);
    const start = performance.now();
    await new Promise((r) => setTimeout(r, REST_MS));
    const used = cpuSeconds(pids) - before;
    const share = used / ((performance.now() - start) / 1000);
    console.log(
      `at rest watching ${REST_FILES} files for ${(REST_MS / 1000).toFixed(0)} s: CPU ${(share * 100).toFixed(2)} % of a core (target < 1 %), RSS ${rssMiB(sidecar.child.pid!).toFixed(0)} MiB`,
    );
  } finally {
    await sidecar.stop();
  }
}

async function sparseUpload(): Promise<void> {
  const home = await freshHome();
  const size = SPARSE_GIB * 1024 ** 3;
  const file = await open(join(home, 'sparse.bin'), 'w');
  await file.truncate(size);
  await file.write(Buffer.from('the end'), 0, 7, size - 7);
  await file.close();
  const base = await uploadBaseline(
    { files: ['sparse.bin'], bytes: size, write: async () => {} },
    home,
    freshPrefix(),
  );
  const prefix = freshPrefix();
  const start = performance.now();
  const sidecar = await startSidecar(s3, home, prefix);
  let peak = 0;
  try {
    await until(
      async () => {
        peak = Math.max(peak, rssMiB(sidecar.child.pid!));
        try {
          const h = await client.send(
            new HeadObjectCommand({ Bucket: s3.bucket, Key: `${prefix}sparse.bin` }),
          );
          return h.ContentLength === size;
        } catch {
          return false;
        }
      },
      'the sparse upload',
      3_600_000,
      1000,
    );
  } finally {
    await sidecar.stop();
  }
  const side = performance.now() - start;
  console.log(
    `sparse ${SPARSE_GIB} GiB upload: SDK Upload ${(base / 1000).toFixed(1)} s (${mbps(size, base)}), s3sync ${(side / 1000).toFixed(1)} s (${mbps(size, side)}, peak RSS ${peak.toFixed(0)} MiB): ${(base / side).toFixed(2)} x`,
  );
}

try {
  await initialSync(`${SMALL_FILES} x ${SMALL_BYTES} B`, smallFiles());
  await initialSync(`1 x ${BIG_MIB} MiB`, bigFile());
  await editLatency();
  await atRest();
  if (SPARSE_GIB > 0) await sparseUpload();
} finally {
  await ecsLocal.close();
  await rm(work, { recursive: true, force: true });
}
