// Wall: a presigned URL the API hands out is good for one key, one method and,
// for a single PUT, one length; S3 (ecs-local's endpoint, a real SigV4 verifier)
// refuses it for anything else. alice's URLs are altered to reach bob's key, to
// do another operation, to send more bytes than were declared.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { type FilesHarness, post, startFilesHarness, upload } from '../api/files/support.ts';

describe('files wall: presigned URLs', () => {
  let h: FilesHarness;
  let aliceUid: string;
  let bobUid: string;

  async function exists(uid: string, path: string): Promise<boolean> {
    const client = h.s3.client();
    try {
      await client.send(new HeadObjectCommand({ Bucket: h.s3.bucket, Key: `home/${uid}/${path}` }));
      return true;
    } catch {
      return false;
    } finally {
      client.destroy();
    }
  }

  before(async () => {
    h = await startFilesHarness();
    aliceUid = (await h.api.identity.getUser('alice'))!.uid;
    bobUid = (await h.api.identity.getUser('bob'))!.uid;
    await upload(h, h.alice, 'a.txt', new TextEncoder().encode('alice'));
    await upload(h, h.bob, 'b.txt', new TextEncoder().encode('bob secret'));
  });
  after(async () => h?.close());

  it("a download URL of alice's, pointed at bob's key, is refused", async () => {
    const signed = await post(h, h.alice, 'download', { path: 'a.txt' });
    assert.equal(signed.status, 200, signed.text);
    const url = new URL(signed.body.url);
    assert.ok(url.pathname.endsWith(`/home/${aliceUid}/a.txt`));
    for (const path of [
      url.pathname.replace(aliceUid, bobUid).replace('a.txt', 'b.txt'),
      url.pathname.replace('a.txt', `../../${bobUid}/b.txt`),
      url.pathname.replace('a.txt', `%2E%2E/%2E%2E/${bobUid}/b.txt`),
    ]) {
      const altered = new URL(url);
      altered.pathname = path;
      const res = await fetch(altered, { redirect: 'manual' });
      const body = await res.text();
      assert.ok(
        res.status >= 400 && res.status < 500,
        `${path}: ${res.status} ${body.slice(0, 200)}`,
      );
      assert.doesNotMatch(body, /bob secret/);
    }
  });

  it('a URL is good for its method only, and a single PUT for its length only', async () => {
    const get = await post(h, h.alice, 'download', { path: 'a.txt' });
    for (const method of ['PUT', 'DELETE']) {
      const res = await fetch(get.body.url, { method, ...(method === 'PUT' ? { body: 'x' } : {}) });
      assert.equal(res.status, 403, `${method} with a GET URL: ${res.status}`);
    }
    assert.equal(await exists(aliceUid, 'a.txt'), true);

    const put = await post(h, h.alice, 'upload', { path: 'small.txt', size: 5 });
    assert.equal(put.body.kind, 'single');
    const longer = await fetch(put.body.url, { method: 'PUT', body: 'x'.repeat(5 * 1024 * 1024) });
    assert.equal(longer.status, 403, `a longer body than declared: ${longer.status}`);
    assert.equal(await exists(aliceUid, 'small.txt'), false);
    // The same URL pointed at bob's home is refused too.
    const altered = new URL(put.body.url);
    altered.pathname = altered.pathname.replace(aliceUid, bobUid);
    const elsewhere = await fetch(altered, { method: 'PUT', body: 'abcde' });
    assert.equal(elsewhere.status, 403);
    assert.equal(await exists(bobUid, 'small.txt'), false);
    // As issued, it works.
    const ok = await fetch(put.body.url, { method: 'PUT', body: 'abcde' });
    assert.equal(ok.status, 200);
    assert.equal(await exists(aliceUid, 'small.txt'), true);
  });

  it("a part URL of alice's upload cannot be moved to bob's key or another upload", async () => {
    const started = await post(h, h.alice, 'upload', { path: 'big.bin', size: 20 * 1024 * 1024 });
    const parts = await post(h, h.alice, 'upload/parts', {
      path: 'big.bin',
      uploadId: started.body.uploadId,
      partNumbers: [1],
    });
    const url = new URL(parts.body.parts[0].url);
    const toBob = new URL(url);
    toBob.pathname = toBob.pathname.replace(aliceUid, bobUid);
    const res = await fetch(toBob, { method: 'PUT', body: new Uint8Array(8 * 1024 * 1024) });
    assert.equal(res.status, 403);
    const otherPart = new URL(url);
    otherPart.searchParams.set('partNumber', '2');
    const res2 = await fetch(otherPart, { method: 'PUT', body: new Uint8Array(10) });
    assert.equal(res2.status, 403);
  });
});
