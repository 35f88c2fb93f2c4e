// The pieces of `berth files` that need no server: the `home:PATH` notation, the
// listing's table, sizes, and the progress line (drawn only on a terminal).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { filesTable } from '../../cli/commands/files.ts';
import { isRemote, joinRemote, remotePath, splitPath } from '../../cli/commands/files-remote.ts';
import { humanBytes, progressLine } from '../../cli/commands/files-transfer.ts';

test('home:PATH names a path in your home; home: alone is the home', () => {
  assert.equal(isRemote('home:a/b.txt'), true);
  assert.equal(isRemote('./home:a'), false);
  assert.equal(remotePath('home:a/b.txt'), 'a/b.txt');
  assert.equal(remotePath('home:'), '');
  assert.equal(remotePath('home:/'), '');
  assert.deepEqual(splitPath('a/b/c.txt'), { parent: 'a/b/', name: 'c.txt' });
  assert.deepEqual(splitPath('a/b/'), { parent: 'a/', name: 'b' });
  assert.deepEqual(splitPath('top'), { parent: '', name: 'top' });
  assert.equal(joinRemote('', 'x'), 'x');
  assert.equal(joinRemote('a', 'x'), 'a/x');
  assert.equal(joinRemote('a/', 'x'), 'a/x');
});

test('sizes in binary units, as kubectl prints quantities', () => {
  assert.equal(humanBytes(0), '0B');
  assert.equal(humanBytes(1023), '1023B');
  assert.equal(humanBytes(1536), '1.5Ki');
  assert.equal(humanBytes(20 * 1024 * 1024), '20Mi');
  assert.equal(humanBytes(5 * 1024 ** 4), '5Ti');
});

test('the listing marks folders with "/" and shows sizes and times', () => {
  const t = filesTable([
    { name: 'reports', path: 'reports', type: 'folder' },
    {
      name: 'a.csv',
      path: 'a.csv',
      type: 'file',
      size: 2048,
      lastModified: '2026-12-03T10:15:30Z',
    },
  ]);
  assert.deepEqual(t.header, ['NAME', 'SIZE', 'MODIFIED']);
  assert.deepEqual(t.rows, [
    ['reports/', '-', '-'],
    ['a.csv', '2Ki', '2026-12-03 10:15Z'],
  ]);
});

function fakeStream(tty: boolean) {
  const written: string[] = [];
  const stream = {
    isTTY: tty,
    write(s: string) {
      written.push(s);
      return true;
    },
  } as unknown as NodeJS.WriteStream;
  return { stream, written };
}

test('the progress line is redrawn in place on a terminal, and silent otherwise', () => {
  const tty = fakeStream(true);
  const p = progressLine(tty.stream);
  p.start('big.bin -> home:big.bin', 4096);
  p.add(1024);
  p.add(3072);
  p.done();
  const text = tty.written.join('');
  assert.ok(text.startsWith('\r\x1b[Kbig.bin -> home:big.bin  0B / 4Ki  0%'), JSON.stringify(text));
  assert.match(text, /4Ki \/ 4Ki {2}100%\n$/);
  const pipe = fakeStream(false);
  const q = progressLine(pipe.stream);
  q.start('x', 10);
  q.add(10);
  q.done();
  assert.deepEqual(pipe.written, []);
});
