// bin/berth, the shell entry, before anything is set up: with a Node too old to
// run TypeScript and no project toolchain it says in one line what to do and
// exits 2; with a new enough Node, or the toolchain's, it runs berth.ts.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';

const root = join(import.meta.dirname, '..', '..');
let dir: string;
let oldNodeDir: string;

/** The system's node when it is older than 22.19 (Debian's 20 here), else a stand-in that says it is 20. */
async function oldNode(): Promise<string> {
  if (existsSync('/usr/bin/node')) {
    const version = execFileSync('/usr/bin/node', ['--version'], { encoding: 'utf8' }).trim();
    const [major, minor] = version.slice(1).split('.').map(Number);
    if (major! < 22 || (major === 22 && minor! < 19)) return '/usr/bin';
  }
  const fake = join(dir, 'old-node');
  await mkdir(fake);
  await writeFile(join(fake, 'node'), '#!/bin/sh\necho v20.11.1\n');
  await chmod(join(fake, 'node'), 0o755);
  return fake;
}

/** A checkout with bin/berth and a berth.ts that reports how it was run. */
async function checkout(name: string): Promise<string> {
  const co = join(dir, name);
  await mkdir(join(co, 'bin'), { recursive: true });
  await copyFile(join(root, 'bin', 'berth'), join(co, 'bin', 'berth'));
  await chmod(join(co, 'bin', 'berth'), 0o755);
  await writeFile(
    join(co, 'bin', 'berth.ts'),
    'console.log(JSON.stringify({ node: process.execPath, args: process.argv.slice(2) }));\n',
  );
  return co;
}

function run(co: string, path: string) {
  return spawnSync(join(co, 'bin', 'berth'), ['get', 'td'], {
    env: { PATH: path, HOME: dir },
    encoding: 'utf8',
  });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-shell-'));
  oldNodeDir = await oldNode();
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('an old Node and no toolchain: one line saying to run make run, exit 2', async () => {
  const co = await checkout('fresh');
  const r = run(co, `${oldNodeDir}:/usr/bin:/bin`);
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stdout, '');
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, r.stderr);
  assert.match(
    lines[0]!,
    /^berth needs Node\.js 22\.19 or newer \(found v\d+\.\d+\.\d+\): run `make run` \(or `make setup`\) in \S+ first/,
  );
});

test('a new enough Node on PATH runs berth.ts with the arguments', async () => {
  const co = await checkout('new-node');
  const r = run(co, `${dirname(process.execPath)}:/usr/bin:/bin`);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).args, ['get', 'td']);
});

test("the project toolchain's Node wins over an old one on PATH", async () => {
  const co = await checkout('toolchain');
  await mkdir(join(co, '.toolchain', 'node_modules', '.bin'), { recursive: true });
  await symlink(process.execPath, join(co, '.toolchain', 'node_modules', '.bin', 'node'));
  const r = run(co, `${oldNodeDir}:/usr/bin:/bin`);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).args, ['get', 'td']);
});
