// Wall: one user's home folder is out of every other user's reach through the
// files endpoints, admins included. bob tries every endpoint against alice's
// files with the paths, continue tokens and upload ids he could get hold of;
// S3 is ecs-local's (every request signed and checked). Keys are never named by
// a request: the prefix comes from the caller's own users row.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import {
  type FilesHarness,
  list,
  post,
  q,
  remove,
  startFilesHarness,
  upload,
} from '../api/files/support.ts';

const MIB = 1024 * 1024;

describe('files wall: homes', () => {
  let h: FilesHarness;
  let aliceUid: string;
  const secret = new TextEncoder().encode('alice only');

  async function aliceFile(path: string): Promise<string | undefined> {
    const client = h.s3.client();
    try {
      const got = await client.send(
        new GetObjectCommand({ Bucket: h.s3.bucket, Key: `home/${aliceUid}/${path}` }),
      );
      return await got.Body!.transformToString();
    } catch {
      return undefined;
    } finally {
      client.destroy();
    }
  }

  before(async () => {
    h = await startFilesHarness();
    aliceUid = (await h.api.identity.getUser('alice'))!.uid;
    await upload(h, h.alice, 'private/plan.txt', secret);
    for (let i = 0; i < 5; i++)
      await upload(h, h.alice, `many/f${i}.txt`, new TextEncoder().encode(String(i)));
  });
  after(async () => h?.close());

  it("bob's listing, downloads and deletes never reach alice's files, by any path", async () => {
    const theirs = [
      `../${aliceUid}/private/plan.txt`,
      `%2e%2e/${aliceUid}/private/plan.txt`,
      `/home/${aliceUid}/private/plan.txt`,
      `home/${aliceUid}/private/plan.txt`,
      `..\\${aliceUid}\\private\\plan.txt`,
      'private/plan.txt',
    ];
    for (const path of theirs) {
      const listing = await list(h, h.bob, q({ path: path.replace(/plan\.txt$/, '') }));
      assert.ok([400, 404].includes(listing.status), `${path}: ${listing.text}`);
      const download = await post(h, h.bob, 'download', { path });
      assert.ok([400, 404].includes(download.status), `${path}: ${download.text}`);
      assert.equal(download.body.url, undefined);
      const del = await remove(h, h.bob, q({ path, recursive: 'true' }));
      assert.ok([400, 404].includes(del.status), `${path}: ${del.text}`);
      const moveOut = await post(h, h.bob, 'move', { from: path, to: 'stolen.txt' });
      assert.ok([400, 404].includes(moveOut.status), `${path}: ${moveOut.text}`);
    }
    // bob's own home is still empty and alice's file is untouched.
    assert.deepEqual((await list(h, h.bob)).body.items, []);
    assert.equal(await aliceFile('private/plan.txt'), 'alice only');
  });

  it("bob cannot upload, make a folder or move a file into alice's home", async () => {
    await upload(h, h.bob, 'mine.txt', new TextEncoder().encode('bob'));
    for (const path of [`../${aliceUid}/private/evil.txt`, `%2E%2E/${aliceUid}/evil.txt`]) {
      const up = await post(h, h.bob, 'upload', { path, size: 3, overwrite: true });
      assert.equal(up.status, 400, up.text);
      assert.equal(up.body.url, undefined);
      const folder = await post(h, h.bob, 'folders', { path });
      assert.equal(folder.status, 400, folder.text);
      const moveIn = await post(h, h.bob, 'move', { from: 'mine.txt', to: path, overwrite: true });
      assert.equal(moveIn.status, 400, moveIn.text);
      assert.equal(moveIn.body.details.causes[0].field, 'to');
    }
    // The same relative path lands in bob's own home, never in alice's.
    await upload(h, h.bob, 'private/plan.txt', new TextEncoder().encode('bob'), {
      overwrite: true,
    });
    assert.equal(await aliceFile('private/plan.txt'), 'alice only');
  });

  it("alice's continue token lists nothing for bob", async () => {
    const page = await list(h, h.alice, q({ path: 'many', limit: '2' }));
    assert.equal(page.body.items.length, 2);
    assert.ok(page.body.continue);
    for (const path of ['many', '', 'private']) {
      const r = await list(h, h.bob, q({ path, continue: page.body.continue }));
      assert.equal(r.status, 400, `${path}: ${r.text}`);
      assert.equal(r.body.details.causes[0].field, 'continue');
    }
    // A token made up to start inside alice's prefix is refused too.
    const forged = Buffer.from(
      JSON.stringify({
        v: 2,
        f: 'many',
        m: `home/${aliceUid}/many/f1.txt`,
        t: Buffer.from(`Khome/${aliceUid}/many/f1.txt`).toString('base64url'),
      }),
    ).toString('base64url');
    const r = await list(h, h.bob, q({ path: 'many', continue: forged }));
    assert.equal(r.status, 400, r.text);
  });

  it("bob can neither use, complete nor abort alice's multipart upload", async () => {
    const size = 17 * MIB;
    const started = await post(h, h.alice, 'upload', { path: 'big.bin', size });
    assert.equal(started.body.kind, 'multipart');
    const { uploadId } = started.body;
    // bob names alice's upload id with the same path (his home) and with hers.
    for (const path of ['big.bin', `../${aliceUid}/big.bin`]) {
      const expect = path === 'big.bin' ? 404 : 400;
      const parts = await post(h, h.bob, 'upload/parts', { path, uploadId, partNumbers: [1] });
      assert.equal(parts.status, expect, parts.text);
      assert.equal(parts.body.parts, undefined);
      const complete = await post(h, h.bob, 'upload/complete', {
        path,
        uploadId,
        parts: [{ partNumber: 1, etag: '"0123456789abcdef0123456789abcdef"' }],
      });
      assert.equal(complete.status, expect, complete.text);
      const abort = await post(h, h.bob, 'upload/abort', { path, uploadId });
      assert.equal(abort.status, expect, abort.text);
    }
    // alice's upload is intact: she finishes it.
    const bytes = new Uint8Array(size).fill(7);
    const urls = await post(h, h.alice, 'upload/parts', {
      path: 'big.bin',
      uploadId,
      partNumbers: [1, 2, 3],
    });
    assert.equal(urls.status, 200, urls.text);
    const etags = [];
    for (const p of urls.body.parts) {
      const from = (p.partNumber - 1) * started.body.partSize;
      const res = await fetch(p.url, {
        method: 'PUT',
        body: bytes.subarray(from, from + started.body.partSize),
      });
      assert.equal(res.status, 200);
      etags.push({ partNumber: p.partNumber, etag: res.headers.get('etag') });
    }
    const done = await post(h, h.alice, 'upload/complete', {
      path: 'big.bin',
      uploadId,
      parts: etags,
    });
    assert.equal(done.status, 200, done.text);
    assert.equal(done.body.size, size);
    assert.equal(
      (await list(h, h.bob)).body.items.some((i: { name: string }) => i.name === 'big.bin'),
      false,
    );
  });

  it('an admin gets their own home, never anyone else’s', async () => {
    const mine = await list(h, h.admin);
    assert.equal(mine.status, 200, mine.text);
    assert.deepEqual(mine.body.items, []);
    for (const query of [q({ user: 'alice' }), q({ path: `../${aliceUid}` })]) {
      const r = await list(h, h.admin, query);
      assert.equal(r.status, 400, r.text);
    }
    const download = await post(h, h.admin, 'download', { path: 'private/plan.txt' });
    assert.equal(download.status, 404, download.text);
    const asUser = await post(h, h.admin, 'download', { path: 'private/plan.txt', user: 'alice' });
    assert.equal(asUser.status, 400, asUser.text);
    assert.equal(asUser.body.details.causes[0].field, 'user');
  });
});
