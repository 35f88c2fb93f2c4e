// The files endpoints end to end against a real S3 (s3rver) through plain fetch:
// list, upload (single and multipart through presigned URLs), download, delete,
// new folder, move, and what each writes to the audit log.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { listAudit } from '../../../store/index.ts';
import {
  download,
  type FilesHarness,
  list,
  post,
  q,
  remove,
  startFilesHarness,
  upload,
} from './support.ts';

const MIB = 1024 * 1024;

describe('files: round trips', () => {
  let h: FilesHarness;
  /** What S3 holds at `path` in `user`'s home, read with the admin pair (not through the API). */
  async function stored(user: string, path: string): Promise<Buffer> {
    const uid = (await h.api.identity.getUser(user))!.uid;
    const client = h.s3.client();
    try {
      const got = await client.send(
        new GetObjectCommand({ Bucket: h.s3.bucket, Key: `home/${uid}/${path}` }),
      );
      return Buffer.from(await got.Body!.transformToByteArray());
    } finally {
      client.destroy();
    }
  }
  before(async () => {
    h = await startFilesHarness();
  });
  after(async () => h?.close());

  it('a new home is empty, and a small file goes up and comes back', async () => {
    const empty = await list(h, h.alice);
    assert.equal(empty.status, 200, empty.text);
    assert.deepEqual(empty.body, { path: '', items: [] });

    const bytes = new TextEncoder().encode('a,b\n1,2\n');
    const done = await upload(h, h.alice, 'reports/q1.csv', bytes);
    assert.equal(done.path, 'reports/q1.csv');
    assert.equal(done.size, bytes.length);
    assert.match(done.etag, /^[0-9a-f]{32}$/);

    const root = await list(h, h.alice);
    assert.deepEqual(
      root.body.items.map((i: { name: string; type: string; path: string }) => [
        i.name,
        i.type,
        i.path,
      ]),
      [['reports', 'folder', 'reports']],
    );
    const inside = await list(h, h.alice, q({ path: 'reports' }));
    assert.equal(inside.body.path, 'reports');
    assert.equal(inside.body.items.length, 1);
    const item = inside.body.items[0];
    assert.equal(item.name, 'q1.csv');
    assert.equal(item.size, bytes.length);
    assert.ok(item.lastModified && item.etag);

    assert.deepEqual(new Uint8Array(await stored('alice', 'reports/q1.csv')), bytes);
  });

  it('a download is a presigned GET of the file, as an attachment with its UTF-8 name', async () => {
    const bytes = new TextEncoder().encode('x,y\n');
    await upload(h, h.alice, 'reports/Übersicht März.csv', bytes);
    const got = await download(h, h.alice, 'reports/Übersicht März.csv');
    assert.deepEqual(new Uint8Array(got.bytes), bytes);
    assert.equal(
      got.res.headers.get('content-disposition'),
      `attachment; filename="_bersicht M_rz.csv"; filename*=UTF-8''%C3%9Cbersicht%20M%C3%A4rz.csv`,
    );
    const missing = await post(h, h.alice, 'download', { path: 'reports/none.csv' });
    assert.equal(missing.status, 404, missing.text);
    assert.equal(missing.body.details.causes[0].field, 'path');
  });

  it('a multipart upload of 20 MiB uses 8 MiB parts and keeps every byte', async () => {
    const bytes = new Uint8Array(20 * MIB);
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = (i / 4096) % 251;
    const started = await post(h, h.alice, 'upload', { path: 'big.bin', size: bytes.length });
    assert.equal(started.body.kind, 'multipart');
    assert.equal(started.body.partSize, 8 * MIB);
    assert.equal(started.body.partCount, 3);
    await post(h, h.alice, 'upload/abort', { path: 'big.bin', uploadId: started.body.uploadId });

    const done = await upload(h, h.alice, 'big.bin', bytes);
    assert.equal(done.size, bytes.length);
    const got = await stored('alice', 'big.bin');
    assert.equal(got.length, bytes.length);
    assert.ok(got.equals(Buffer.from(bytes.buffer)));
  });

  it('part sizes keep a 5 GiB file and a 5 TiB one within 10,000 parts', async () => {
    const five = await post(h, h.alice, 'upload', { path: 'huge/5g.bin', size: 5 * 1024 * MIB });
    assert.equal(five.status, 200, five.text);
    assert.equal(five.body.kind, 'multipart');
    assert.equal(five.body.partSize, 8 * MIB);
    assert.equal(five.body.partCount, 640);
    const parts = await post(h, h.alice, 'upload/parts', {
      path: 'huge/5g.bin',
      uploadId: five.body.uploadId,
      partNumbers: Array.from({ length: 100 }, (_, i) => i + 541),
    });
    assert.equal(parts.status, 200, parts.text);
    assert.equal(parts.body.parts.length, 100);
    assert.equal(parts.body.parts[0].partNumber, 541);
    assert.ok(parts.body.expiresAt);
    const abort = await post(h, h.alice, 'upload/abort', {
      path: 'huge/5g.bin',
      uploadId: five.body.uploadId,
    });
    assert.equal(abort.status, 200, abort.text);
    // Aborted: its id is no longer good for parts.
    const again = await post(h, h.alice, 'upload/parts', {
      path: 'huge/5g.bin',
      uploadId: five.body.uploadId,
      partNumbers: [1],
    });
    assert.equal(again.status, 404, again.text);

    const tib = await post(h, h.alice, 'upload', { path: 'huge/5t.bin', size: 5 * 1024 ** 4 });
    assert.equal(tib.status, 200, tib.text);
    assert.ok(tib.body.partCount <= 10_000, String(tib.body.partCount));
    assert.ok(tib.body.partSize * tib.body.partCount >= 5 * 1024 ** 4);
  });

  it('an existing file is refused unless overwrite, and a folder is never a file', async () => {
    await upload(h, h.alice, 'notes.txt', new TextEncoder().encode('one'));
    const again = await post(h, h.alice, 'upload', { path: 'notes.txt', size: 3 });
    assert.equal(again.status, 409, again.text);
    assert.equal(again.body.details.causes[0].field, 'path');
    assert.match(again.body.message, /"notes.txt" already exists/);
    await upload(h, h.alice, 'notes.txt', new TextEncoder().encode('two!'), { overwrite: true });
    assert.equal((await stored('alice', 'notes.txt')).toString(), 'two!');

    const onFolder = await post(h, h.alice, 'upload', {
      path: 'reports',
      size: 1,
      overwrite: true,
    });
    assert.equal(onFolder.status, 409, onFolder.text);
    assert.match(onFolder.body.message, /folder "reports" already exists/);
  });

  it('new folders, moves of files and folders, and deletes', async () => {
    const made = await post(h, h.alice, 'folders', { path: 'projects/empty' });
    assert.equal(made.status, 200, made.text);
    assert.deepEqual(made.body, { path: 'projects/empty' });
    const twice = await post(h, h.alice, 'folders', { path: 'projects/empty' });
    assert.equal(twice.status, 409, twice.text);
    const listed = await list(h, h.alice, q({ path: 'projects' }));
    assert.deepEqual(listed.body.items, [
      { name: 'empty', path: 'projects/empty', type: 'folder' },
    ]);
    assert.deepEqual((await list(h, h.alice, q({ path: 'projects/empty' }))).body.items, []);

    await upload(h, h.alice, 'projects/a/one.txt', new TextEncoder().encode('1'));
    await upload(h, h.alice, 'projects/a/sub/two.txt', new TextEncoder().encode('22'));
    const renamed = await post(h, h.alice, 'move', {
      from: 'projects/a/one.txt',
      to: 'projects/a/uno.txt',
    });
    assert.deepEqual(renamed.body, { moved: 1 });
    const intoItself = await post(h, h.alice, 'move', { from: 'projects/a', to: 'projects/a/b' });
    assert.equal(intoItself.status, 400, intoItself.text);
    assert.equal(intoItself.body.details.causes[0].field, 'to');
    const onFolder = await post(h, h.alice, 'move', { from: 'projects/a', to: 'projects/empty' });
    assert.equal(onFolder.status, 409, onFolder.text);
    const moved = await post(h, h.alice, 'move', { from: 'projects/a', to: 'archive/a' });
    assert.deepEqual(moved.body, { moved: 2 });
    assert.equal((await stored('alice', 'archive/a/sub/two.txt')).toString(), '22');
    assert.equal((await list(h, h.alice, q({ path: 'projects/a' }))).status, 404);
    const missing = await post(h, h.alice, 'move', { from: 'nothing', to: 'else' });
    assert.equal(missing.status, 404, missing.text);
    assert.equal(missing.body.details.causes[0].field, 'from');

    const notEmpty = await remove(h, h.alice, q({ path: 'archive' }));
    assert.equal(notEmpty.status, 409, notEmpty.text);
    assert.match(notEmpty.body.message, /recursive=true/);
    const gone = await remove(h, h.alice, q({ path: 'archive', recursive: 'true' }));
    assert.deepEqual(gone.body, { deleted: 2 });
    assert.deepEqual((await remove(h, h.alice, q({ path: 'projects/empty' }))).body, {
      deleted: 1,
    });
    assert.deepEqual((await remove(h, h.alice, q({ path: 'notes.txt' }))).body, { deleted: 1 });
    const twiceGone = await remove(h, h.alice, q({ path: 'notes.txt' }));
    assert.equal(twiceGone.status, 404, twiceGone.text);
    const home = await remove(h, h.alice, q({ path: '' }));
    assert.equal(home.status, 400, home.text);
    assert.equal(home.body.details.causes[0].field, 'path');
  });

  it('writes audit entries with the path and size, never a URL or signature', async () => {
    const { items } = await listAudit(h.db.pool, { user: 'alice', action: 'file', limit: 1000 });
    const actions = new Set(items.map((e) => e.action));
    for (const a of ['file.uploaded', 'file.downloaded', 'file.deleted', 'file.moved'])
      assert.ok(actions.has(a), `${a} in ${[...actions].join(', ')}`);
    const folder = await listAudit(h.db.pool, { user: 'alice', action: 'folder.created' });
    assert.equal(folder.items[0]?.detail.path, 'projects/empty');
    const up = items.find((e) => e.action === 'file.uploaded' && e.detail.path === 'big.bin');
    assert.equal(up?.detail.size, 20 * MIB);
    assert.equal(up?.actor, 'alice');
    const text = JSON.stringify(items);
    assert.doesNotMatch(text, /X-Amz-Signature|X-Amz-Credential|S3RVER|http:\/\//);
  });

  it('names the field in a bad limit or continue token', async () => {
    const limit = await list(h, h.alice, q({ limit: '0' }));
    assert.equal(limit.status, 400, limit.text);
    assert.equal(limit.body.details.causes[0].field, 'limit');
    const token = await list(h, h.alice, q({ continue: 'bm90LWEtdG9rZW4' }));
    assert.equal(token.status, 400, token.text);
    assert.equal(token.body.details.causes[0].field, 'continue');
    const unknown = await list(h, h.alice, q({ user: 'bob' }));
    assert.equal(unknown.status, 400, unknown.text);
    assert.equal(unknown.body.details.causes[0].field, 'user');
  });
});
