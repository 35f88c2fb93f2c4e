// Wall: what the files endpoints hand out or hold (presigned URLs, their
// signatures and key ids, the API's own S3 secret) never reaches the audit log
// or the API's log, at the most verbose level, through successes and failures
// (S3 unreachable) alike.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { type RunningApi, startApi } from '../../api/index.ts';
import { listAudit } from '../../store/index.ts';
import {
  download,
  filesConfig,
  list,
  post,
  q,
  remove,
  startEcsLocalS3,
  upload,
} from '../api/files/support.ts';
import type { Harness } from '../api/support.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { admin } from '../support/ecs-local.ts';

describe('files wall: no secret in the logs', () => {
  let db: TestDatabase;
  let s3: Awaited<ReturnType<typeof startEcsLocalS3>>;
  let api: RunningApi;
  let h: Harness;
  const lines: string[] = [];
  const issued: string[] = [];

  before(async () => {
    db = await freshDatabase();
    s3 = await startEcsLocalS3();
    api = await startApi({
      pool: db.pool,
      port: 0,
      signIn: false,
      config: { ...filesConfig(s3), logLevel: 'trace' },
      logStream: new Writable({
        write(chunk, _enc, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    });
    const alice = (await api.identity.createToken({ user: 'alice' })).token;
    h = {
      db,
      api,
      url: api.url,
      admin: alice,
      alice,
      bob: alice,
      close: async () => {},
    };
  });
  after(async () => {
    await api?.close();
    await s3?.close();
    await db?.drop();
  });

  it('URLs, signatures, key ids and the S3 secret appear in no audit entry or log line', async () => {
    const remember = (r: { body?: { url?: string; parts?: { url: string }[] } }) => {
      if (r.body?.url) issued.push(r.body.url);
      for (const p of r.body?.parts ?? []) issued.push(p.url);
    };
    remember(await post(h, h.alice, 'upload', { path: 'x.txt', size: 1 }));
    await upload(h, h.alice, 'docs/a.txt', new TextEncoder().encode('a'));
    await upload(h, h.alice, 'docs/big.bin', new Uint8Array(17 * 1024 * 1024));
    remember(await post(h, h.alice, 'download', { path: 'docs/a.txt' }));
    const started = await post(h, h.alice, 'upload', { path: 'p.bin', size: 20 * 1024 * 1024 });
    remember(
      await post(h, h.alice, 'upload/parts', {
        path: 'p.bin',
        uploadId: started.body.uploadId,
        partNumbers: [1, 2],
      }),
    );
    await download(h, h.alice, 'docs/a.txt').catch(() => undefined);
    await post(h, h.alice, 'move', { from: 'docs', to: 'moved' });
    await post(h, h.alice, 'folders', { path: 'new' });
    await remove(h, h.alice, q({ path: 'moved', recursive: 'true' }));
    // Failures log too: S3 unreachable.
    await admin(s3.ecsLocal, '/_ecs-local/faults', {
      method: 'POST',
      body: JSON.stringify({ s3Outage: true }),
    });
    const down = await post(h, h.alice, 'download', { path: 'new/none' });
    assert.equal(down.status, 503, down.text);
    await list(h, h.alice);
    await admin(s3.ecsLocal, '/_ecs-local/faults', {
      method: 'POST',
      body: JSON.stringify({ s3Outage: false }),
    });
    assert.ok(issued.length >= 4, String(issued.length));

    const { items } = await listAudit(db.pool, { user: 'alice', limit: 1000 });
    const actions = new Set(items.map((e) => e.action));
    for (const a of [
      'file.uploaded',
      'file.downloaded',
      'file.moved',
      'file.deleted',
      'folder.created',
    ])
      assert.ok(actions.has(a), `${a} was audited`);
    const audit = JSON.stringify(items);
    const log = lines.join('');
    assert.ok(log.includes('"audit"'), 'the audit lines are in the log');
    assert.ok(log.includes('file storage request failed'), 'the outage was logged');
    const forbidden = [
      s3.credentials.accessKeyId,
      s3.credentials.secretAccessKey,
      'X-Amz-Signature',
      'X-Amz-Credential',
      'x-amz-signature',
      ...issued.map((u) => new URL(u).searchParams.get('X-Amz-Signature')!),
      ...issued,
    ];
    for (const secret of forbidden) {
      assert.ok(!audit.includes(secret), `audit log holds ${secret.slice(0, 40)}`);
      assert.ok(!log.includes(secret), `API log holds ${secret.slice(0, 40)}`);
    }
  });
});
