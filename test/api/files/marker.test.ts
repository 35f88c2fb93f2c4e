// The change marker from the API's side: an upload completed through the API
// reaches a running s3sync sidecar's home within about 2 s although its full
// listing is a minute away (only the marker can explain it), and `.s3sync`, the
// sidecar's folder, is hidden from the listing and refused in every request.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { healthy, type Sidecar, startSidecar } from '../../sidecars/s3sync/harness.ts';
import { waitFor } from '../../support/wait.ts';
import { type FilesHarness, list, post, q, remove, startFilesHarness, upload } from './support.ts';

describe('files: the change marker', () => {
  let h: FilesHarness;
  let sc: Sidecar | undefined;
  let home: string;
  let prefix: string;
  before(async () => {
    h = await startFilesHarness();
    prefix = `home/${(await h.api.identity.getUser('alice'))!.uid}/`;
    home = await mkdtemp(join(tmpdir(), 'marker-home-'));
  });
  after(async () => {
    await sc?.stop('SIGKILL');
    await h?.close();
    await rm(home, { recursive: true, force: true });
  });

  it('an upload through the API reaches a running sidecar within about 2 s, its full listing a minute away', async () => {
    sc = await startSidecar({
      BERTH_FILES_BUCKET: h.s3.bucket,
      BERTH_FILES_PREFIX: prefix,
      BERTH_HOME: home,
      AWS_ENDPOINT_URL_S3: h.s3.url,
      AWS_ACCESS_KEY_ID: h.s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: h.s3.credentials.secretAccessKey,
      AWS_REGION: h.s3.region,
      S3SYNC_PORT: '0',
      // S3SYNC_POLL_INTERVAL_MS and S3SYNC_MARKER_INTERVAL_MS at their defaults (60 s, 2 s).
    });
    await healthy(sc);
    const t0 = Date.now();
    await upload(h, h.alice, 'from-the-files-page.txt', new TextEncoder().encode('via the API'));
    await waitFor(
      () => readFile(join(home, 'from-the-files-page.txt'), 'utf8').catch(() => undefined),
      // ~2 s expected (one marker interval and a download); slack for a loaded machine,
      // still well under the 60 s full listing.
      20_000,
      'the upload in the tool',
    );
    const took = Date.now() - t0;
    console.log(`an API upload reached the sidecar's home in ${took} ms`);
    assert.ok(took < 20_000);
    // The API's bump is an object in S3 the listing never shows.
    const c = h.s3.client();
    const marker = await c.send(
      new HeadObjectCommand({ Bucket: h.s3.bucket, Key: `${prefix}.s3sync/changed` }),
    );
    c.destroy();
    assert.match(marker.Metadata?.writer ?? '', /^api-/);

    // A new folder, a move and a delete through the API arrive the same way.
    assert.equal((await post(h, h.alice, 'folders', { path: 'made-on-the-page' })).status, 200);
    assert.equal(
      (await post(h, h.alice, 'move', { from: 'from-the-files-page.txt', to: 'renamed.txt' }))
        .status,
      200,
    );
    await waitFor(
      async () =>
        (await readFile(join(home, 'renamed.txt'), 'utf8').catch(() => undefined)) ===
          'via the API' &&
        (await readFile(join(home, 'from-the-files-page.txt')).catch(() => 'gone')) === 'gone' &&
        (await readFile(join(home, 'made-on-the-page')).catch((e) => e.code)) === 'EISDIR',
      20_000,
      'the move and the folder in the tool',
    );
    assert.equal((await remove(h, h.alice, q({ path: 'renamed.txt' }))).status, 200);
    await waitFor(
      () =>
        readFile(join(home, 'renamed.txt')).then(
          () => false,
          () => true,
        ),
      20_000,
      'the delete in the tool',
    );
  });

  it('the listing hides .s3sync, and no request may name a path in it', async () => {
    // A new folder through the API: the API writes the marker into alice's home.
    assert.equal((await post(h, h.alice, 'folders', { path: 'shown' })).status, 200);
    const c = h.s3.client();
    await c.send(new HeadObjectCommand({ Bucket: h.s3.bucket, Key: `${prefix}.s3sync/changed` }));
    const root = await list(h, h.alice);
    assert.equal(root.status, 200, root.text);
    const names = root.body.items.map((i: { name: string }) => i.name);
    assert.ok(!names.includes('.s3sync'), `listing: ${names.join(', ')}`);
    assert.ok(names.includes('shown'), `listing: ${names.join(', ')}`);

    const refused = (
      r: { status: number; body: { details?: { causes?: { field: string; message: string }[] } } },
      field: string,
    ) => {
      assert.equal(r.status, 400, JSON.stringify(r.body));
      const cause = r.body.details?.causes?.find((c) => c.field === field);
      assert.match(cause?.message ?? '', /\.s3sync/, JSON.stringify(r.body));
    };
    refused(await list(h, h.alice, q({ path: '.s3sync' })), 'path');
    refused(await list(h, h.alice, q({ path: '.s3sync/' })), 'path');
    refused(await post(h, h.alice, 'download', { path: '.s3sync/changed' }), 'path');
    refused(await post(h, h.alice, 'upload', { path: '.s3sync/changed', size: 1 }), 'path');
    refused(await post(h, h.alice, 'upload/complete', { path: '.s3sync/changed' }), 'path');
    refused(await post(h, h.alice, 'folders', { path: '.s3sync/x' }), 'path');
    refused(await remove(h, h.alice, q({ path: '.s3sync', recursive: 'true' })), 'path');
    refused(await post(h, h.alice, 'move', { from: '.s3sync', to: 'mine' }), 'from');
    refused(await post(h, h.alice, 'move', { from: 'shown', to: '.s3sync/x' }), 'to');
    // The marker is still there: nothing above touched it.
    await c.send(new HeadObjectCommand({ Bucket: h.s3.bucket, Key: `${prefix}.s3sync/changed` }));
    c.destroy();
    // Names that only start like it are ordinary files.
    const ok = await post(h, h.alice, 'upload', { path: '.s3sync-notes.txt', size: 1 });
    assert.equal(ok.status, 200, ok.text);
  });
});
