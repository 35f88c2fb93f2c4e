// A folder of 10,000 files listed page by page through the API, over ecs-local's
// S3 (ListObjectsV2 pages with continuation tokens, which a raw s3rver cannot
// make on Node 24). The files are written straight to S3 with ecs-local's pair.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { type FilesHarness, list, listAll, q, startFilesHarness } from './support.ts';

describe('files: a folder of 10,000 files', () => {
  let h: FilesHarness;
  before(async () => {
    h = await startFilesHarness();
  });
  after(async () => h?.close());

  it('lists a folder of 10,000 files page by page, folders first', async () => {
    const client = h.s3.client();
    const me = await h.api.identity.getUser('bob');
    const prefix = `home/${me!.uid}/many/`;
    // Written straight to S3 (the API's upload path is tested above): 10,000 empty files.
    const names = Array.from({ length: 10_000 }, (_, i) => `f${String(i).padStart(5, '0')}.txt`);
    for (let i = 0; i < names.length; i += 100)
      await Promise.all(
        names.slice(i, i + 100).map((n) =>
          client.send(
            new PutObjectCommand({
              Bucket: h.s3.bucket,
              Key: prefix + n,
              Body: new Uint8Array(0),
            }),
          ),
        ),
      );
    await client.send(
      new PutObjectCommand({ Bucket: h.s3.bucket, Key: `${prefix}zz/x`, Body: 'x' }),
    );
    client.destroy();
    const { items, pages } = await listAll(h, h.bob, 'many', 1000);
    assert.equal(items.length, 10_001);
    assert.ok(pages >= 10, String(pages));
    const files = items.filter((i) => i.type === 'file');
    assert.deepEqual(
      files.map((i) => i.name),
      names,
    );
    assert.ok(files.every((f) => f.size === 0));
    assert.equal(items.filter((i) => i.type === 'folder').length, 1);
    const first = await list(h, h.bob, q({ path: 'many', limit: '1000' }));
    assert.equal(first.body.items.length, 1000);
    assert.ok(first.body.continue);
  });
});
