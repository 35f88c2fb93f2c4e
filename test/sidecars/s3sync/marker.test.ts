// The change marker from the sidecars' side: two sidecars on one prefix (two
// tools of one user) see each other's uploads within a few seconds with their
// full listings a minute away; a sidecar does not list after its own bumps; a
// change made straight in S3 (no bump) arrives at the next full listing.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { waitFor } from '../../support/wait.ts';
import { healthy, type Sidecar, type World, world } from './harness.ts';

let w: World;
const homes: string[] = [];
before(async () => {
  w = await world();
});
after(async () => {
  await w?.close();
  for (const h of homes) await rm(h, { recursive: true, force: true });
});

const MARKER = '.s3sync/changed';
const listings = () => w.proxy.requestLines().filter((l) => /[?&]list-type=2/.test(l)).length;
const markerWriter = async () => {
  try {
    const h = await w.client.send(
      new HeadObjectCommand({ Bucket: w.s3.bucket, Key: w.key(MARKER) }),
    );
    return h.Metadata?.writer;
  } catch {
    return undefined;
  }
};
const read = (home: string, rel: string) =>
  readFile(join(home, rel), 'utf8').catch(() => undefined);

/** The defaults of the two intervals (60 s full listing, 2 s marker), as in a task. */
const AT_DEFAULTS = { S3SYNC_POLL_INTERVAL_MS: '60000', S3SYNC_MARKER_INTERVAL_MS: '2000' };

test('two sidecars on one prefix see each other’s uploads within a few seconds', async () => {
  const other = await mkdtemp(join(tmpdir(), 's3sync-other-'));
  homes.push(other);
  const a: Sidecar = await w.start(AT_DEFAULTS);
  const b: Sidecar = await w.start({ ...AT_DEFAULTS, BERTH_HOME: other });
  try {
    await Promise.all([healthy(a), healthy(b)]);
    let t0 = Date.now();
    await writeFile(join(w.home, 'from-a.txt'), 'written in tool A');
    await waitFor(() => read(other, 'from-a.txt'), 30_000, 'A’s file in B');
    const aToB = Date.now() - t0;
    t0 = Date.now();
    await writeFile(join(other, 'from-b.txt'), 'written in tool B');
    await waitFor(() => read(w.home, 'from-b.txt'), 30_000, 'B’s file in A');
    const bToA = Date.now() - t0;
    console.log(`A→B ${aToB} ms, B→A ${bToA} ms (debounce, upload, marker, listing, download)`);
    // ~3 s expected; the 30 s waits leave slack on a loaded machine and stay under 60 s.
    assert.ok(aToB < 30_000 && bToA < 30_000);
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
});

test('a sidecar bumps the marker after its uploads and does not list after its own bumps', async () => {
  const sc = await w.start({ ...AT_DEFAULTS, S3SYNC_MARKER_INTERVAL_MS: '200' });
  try {
    await healthy(sc);
    // Its full listing is a minute away: from here on, only a marker check could list.
    const listed = listings();
    const before = await markerWriter();
    for (let i = 0; i < 5; i++) await writeFile(join(w.home, `own-${i}.txt`), `own ${i}`);
    await waitFor(
      async () => (await w.get('own-4.txt')) === 'own 4' && (await markerWriter()) !== before,
      30_000,
      'the uploads and the bump',
    );
    // Its bumps are coalesced (one PUT per 500 ms at most); wait for the last of them.
    let writer = await markerWriter();
    let since = Date.now();
    await waitFor(
      async () => {
        const now = await markerWriter();
        if (now !== writer) [writer, since] = [now, Date.now()];
        return Date.now() - since > 2000;
      },
      30_000,
      'the marker at rest',
    );
    // Then 25 more checks at 200 ms: none of its own bumps led to a listing.
    const heads = () => w.proxy.requestLines().filter((l) => l.startsWith('HEAD ')).length;
    const headsBefore = heads();
    await waitFor(() => heads() - headsBefore >= 25, 30_000, '25 checks of the marker', 100);
    assert.equal(listings(), listed, 'no listing after its own bumps');
    assert.equal(await markerWriter(), writer);
  } finally {
    await sc.stop();
  }
});

test('a change made straight in S3 (no bump) arrives at the next full listing', async () => {
  const sc = await w.start({ S3SYNC_POLL_INTERVAL_MS: '3000', S3SYNC_MARKER_INTERVAL_MS: '500' });
  try {
    await healthy(sc);
    const writer = await markerWriter();
    const listed = listings();
    await w.put('by-user-code.txt', 'written with boto3');
    await waitFor(() => read(w.home, 'by-user-code.txt'), 30_000, 'the file at the next listing');
    assert.equal(await markerWriter(), writer, 'nothing bumped the marker');
    assert.ok(listings() > listed, 'a full listing brought it');
  } finally {
    await sc.stop();
  }
});
