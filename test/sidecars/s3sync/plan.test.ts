// The pure parts of s3sync: the three-way decision case by case, the conflict
// name, excludes, which keys are safe local paths, and the multipart part size.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  conflictName,
  DEFAULT_EXCLUDES,
  excluder,
  keyFromRel,
  partSizeFor,
  plan,
  relFromKey,
} from '../../../sidecars/s3sync/index.ts';

const base = { size: 5, mtimeMs: 1000, etag: 'e1' };
const same = { size: 5, mtimeMs: 1000 };
const edited = { size: 6, mtimeMs: 2000 };
const r1 = { size: 5, etag: 'e1' };
const r2 = { size: 7, etag: 'e2' };

test('three-way decisions against the state', () => {
  const cases: [string, Parameters<typeof plan>, ReturnType<typeof plan>][] = [
    ['in step', [same, r1, base], 'none'],
    ['changed locally only', [edited, r1, base], 'upload'],
    ['changed in S3 only', [same, r2, base], 'download'],
    ['changed on both sides', [edited, r2, base], 'compare'],
    ['deleted locally, unchanged in S3', [undefined, r1, base], 'deleteRemote'],
    ["deleted locally, changed in S3: keep S3's", [undefined, r2, base], 'download'],
    ['deleted in S3, unchanged locally', [same, undefined, base], 'deleteLocal'],
    ['deleted in S3, changed locally: keep the local one', [edited, undefined, base], 'upload'],
    ['gone from both', [undefined, undefined, base], 'forget'],
    ['nothing anywhere', [undefined, undefined, undefined], 'none'],
    ['no state, local only', [same, undefined, undefined], 'upload'],
    ['no state, S3 only', [undefined, r1, undefined], 'download'],
    [
      'no state, on both: compare (equal: in step; else conflict)',
      [same, r1, undefined],
      'compare',
    ],
    ['a touched mtime is a local change', [{ size: 5, mtimeMs: 1001 }, r1, base], 'upload'],
  ];
  for (const [what, args, want] of cases) assert.equal(plan(...args), want, what);
});

test('conflict names: S3 keeps the name, the local version gets the UTC minute, a counter when taken', () => {
  const at = new Date('2026-12-03T10:15:42Z');
  assert.equal(conflictName('notes.txt', at), 'notes (conflict 2026-12-03 10.15).txt');
  assert.equal(conflictName('a/b/data.tar.gz', at), 'a/b/data.tar (conflict 2026-12-03 10.15).gz');
  assert.equal(conflictName('.bashrc', at), '.bashrc (conflict 2026-12-03 10.15)');
  assert.equal(conflictName('Makefile', at, 2), 'Makefile (conflict 2026-12-03 10.15 2)');
});

test('excludes: names at any depth, paths from home, the local-only folder unless opted in', () => {
  const ex = excluder(DEFAULT_EXCLUDES, 'local-only');
  for (const p of [
    '.ipynb_checkpoints/a-checkpoint.ipynb',
    'proj/.ipynb_checkpoints/',
    'x/__pycache__/m.cpython-312.pyc',
    'm.pyc',
    '.cache/pip/x',
    '.local/share/Trash/files/a',
    '.~lock.report.odt#',
    '.s3sync/state.json',
    'local-only/big.parquet',
    'local-only/',
  ])
    assert.ok(ex(p), `${p} excluded`);
  for (const p of ['notes.txt', 'a/local-only/x', '.local/share/other', 'cache/x', 'pyc'])
    assert.ok(!ex(p), `${p} synced`);
  const optIn = excluder(DEFAULT_EXCLUDES, undefined);
  assert.ok(!optIn('local-only/big.parquet'));
  assert.ok(optIn('.s3sync/state.json'), '.s3sync is always excluded');
});

test('keys that are not safe local paths are skipped; a key over 1,024 bytes is never made', () => {
  const p = 'home/u/';
  assert.deepEqual(relFromKey(p, 'home/u/a b/é.txt'), { rel: 'a b/é.txt' });
  assert.deepEqual(relFromKey(p, 'home/u/f/'), { rel: 'f/' });
  for (const bad of [
    'home/u/../x',
    'home/u/a/../../x',
    'home/u//etc/passwd',
    'home/u/a\0b',
    'home/u/./x',
    'home/u/',
    `home/u/${'n'.repeat(256)}`,
  ])
    assert.ok('skip' in relFromKey(p, bad), JSON.stringify(bad));
  const rel1024 = 'x'.repeat(1024 - p.length);
  assert.deepEqual(keyFromRel(p, rel1024), { key: p + rel1024 });
  assert.ok('skip' in keyFromRel(p, `${rel1024}y`));
  assert.ok('skip' in keyFromRel(p, `${'é'.repeat(509)}`), 'counted in bytes, not characters');
});

test('part size: at least 8 MiB, never more than 10,000 parts', () => {
  const MiB = 1024 * 1024;
  assert.equal(partSizeFor(16 * MiB), 8 * MiB);
  for (const size of [5 * 1024 ** 3, 50 * 1024 ** 3, 5 * 1024 ** 4]) {
    assert.ok(Math.ceil(size / partSizeFor(size)) <= 10_000, `${size}`);
  }
});
