// The path rules of crds/files.ts: what a request may name inside a home, and the
// keys made from it. The API refuses anything else with a 400 before S3 sees it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  FILE_PATH_MAX_BYTES,
  fileKey,
  filePath,
  folderKey,
  folderPath,
  homePrefix,
  S3_KEY_MAX_BYTES,
} from '../../crds/index.ts';

const UID = '3f1e9a52-8c1b-4d2e-9f00-0123456789ab';

function issue(schema: typeof filePath, value: string): string | undefined {
  const r = schema.safeParse(value);
  return r.success ? undefined : r.error.issues[0]!.message;
}

test('a home prefix comes from the uid alone, and only a uid', () => {
  assert.equal(homePrefix(UID), `home/${UID}/`);
  for (const bad of ['alice', '', '../x', `${UID}/..`, UID.toUpperCase(), `${UID} `])
    assert.throws(() => homePrefix(bad), /not a user uid/, bad);
  assert.equal(fileKey(UID, 'a/b.txt'), `home/${UID}/a/b.txt`);
  assert.equal(folderKey(UID, ''), `home/${UID}/`);
  assert.equal(folderKey(UID, 'a'), `home/${UID}/a/`);
  assert.equal(folderKey(UID, 'a/'), `home/${UID}/a/`);
});

test('ordinary names pass: Unicode, spaces, dots inside names, deep folders', () => {
  for (const ok of [
    'notes.txt',
    'Übersicht März 2026.xlsx',
    'données/été/résumé final.csv',
    '数据/报告.pdf',
    'a b/c  d/e',
    '.bashrc',
    '..hidden',
    'a.../b',
    'emoji 📈.png',
    '50% off.txt',
    'minutes%20v2.pdf',
    'x'.repeat(FILE_PATH_MAX_BYTES),
  ]) {
    assert.equal(issue(filePath, ok), undefined, ok);
    assert.equal(issue(folderPath, ok), undefined, ok);
  }
  assert.equal(issue(folderPath, ''), undefined);
  assert.equal(issue(folderPath, 'reports/'), undefined);
});

test('escapes from the home and hidden tricks are refused, each with its reason', () => {
  const cases: [string, RegExp][] = [
    ['..', /"\." or "\.\." folders/],
    ['../other-user/x', /"\." or "\.\." folders/],
    ['a/../../b', /"\." or "\.\." folders/],
    ['a/./b', /"\." or "\.\." folders/],
    ['/etc/passwd', /no leading "\/"/],
    ['//x', /no leading "\/"/],
    ['a//b', /empty folder names/],
    ['%2e%2e/x', /"%2e", "%2f" or "%5c"/],
    ['a/%2E%2E/b', /"%2e", "%2f" or "%5c"/],
    ['a%2Fb', /"%2e", "%2f" or "%5c"/],
    ['a\\..\\b', /not "\\"/],
    ['a\u0000b', /control characters/],
    ['a\nb', /control characters/],
    ['a\u007fb', /control characters/],
    ['a\u0085b', /control characters/],
    ['Cafe\u0301.txt', /normal form C/],
    ['x'.repeat(FILE_PATH_MAX_BYTES + 1), /at most \d+ bytes/],
    ['é'.repeat(FILE_PATH_MAX_BYTES / 2 + 1), /at most \d+ bytes/],
  ];
  for (const [bad, why] of cases) {
    assert.match(issue(filePath, bad) ?? '(accepted)', why, JSON.stringify(bad));
    assert.match(issue(folderPath, bad) ?? '(accepted)', why, JSON.stringify(bad));
  }
});

test('a file path names a file; a folder path may be the home or end with "/"', () => {
  assert.match(issue(filePath, '') ?? '', /must name a file/);
  assert.match(issue(filePath, 'reports/') ?? '', /not a folder/);
  assert.match(issue(folderPath, 'reports//') ?? '', /empty folder names/);
  assert.match(issue(filePath, 42 as unknown as string) ?? '', /string/);
});

test('the longest path fills an S3 key to the byte, and no more', () => {
  assert.equal(FILE_PATH_MAX_BYTES, S3_KEY_MAX_BYTES - homePrefix(UID).length);
  const longest = 'a/'.repeat(100) + 'b'.repeat(FILE_PATH_MAX_BYTES - 200);
  assert.equal(issue(filePath, longest), undefined);
  assert.equal(Buffer.byteLength(fileKey(UID, longest)), S3_KEY_MAX_BYTES);
  // Counted in UTF-8 bytes, not characters: 3-byte characters fill it sooner.
  const wide = '€'.repeat(Math.floor(FILE_PATH_MAX_BYTES / 3));
  assert.equal(issue(filePath, wide), undefined);
  assert.match(issue(filePath, `${wide}€`) ?? '', /at most/);
});
