// The garbage collector drops logins no live instance attempt owns (a controller
// killed mid-launch, a stop that never finished), spares live ones and those
// within the grace period, and launch/stop cycles leave pg_roles as they found it.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import {
  dropLogin,
  gcLogins,
  listLogins,
  loginPassword,
  prepareLaunchLogin,
  syncDataset,
} from '../../../controllers/credentials/engine.ts';
import { type EngineDatabase, engineDatabase, launchInput, TABLES } from './engine-support.ts';

let db: EngineDatabase;
const key = Buffer.alloc(32, 5);

before(async () => {
  db = await engineDatabase(4);
});
after(async () => await db?.cleanup());

async function launch(uid: string, attempt = 1, name = 'gil') {
  return await prepareLaunchLogin(
    db.pool,
    launchInput(db, {
      uid,
      attempt,
      password: loginPassword(key, uid, attempt, db.dbname),
      subject: { kind: 'user', name },
      instance: `${name}/jupyterlab`,
    }),
  );
}

test('gcLogins drops a login whose attempt is not live, sparing live ones and those within grace', async () => {
  const live = randomUUID();
  const crashed = randomUUID(); // its launch committed the login, then the controller died
  const young = randomUUID();
  await launch(live, 2);
  await launch(crashed);
  await launch(young);
  const l = await listLogins(db.pool, db.installationId);
  assert.deepEqual(
    l.map((x) => [x.uid, x.attempt, x.instance]).sort(),
    [
      [live, 2, 'gil/jupyterlab'],
      [crashed, 1, 'gil/jupyterlab'],
      [young, 1, 'gil/jupyterlab'],
    ].sort(),
  );
  assert.ok(l.every((x) => x.created instanceof Date));
  // A login whose comment is gone counts as old.
  const crashedRole = l.find((x) => x.uid === crashed)!.role;
  await db.superQuery(`comment on role "${crashedRole}" is null`);
  // An older attempt of a live instance is not live.
  await launch(live, 1);
  const isLive = (uid: string, attempt: number) => uid === live && attempt === 2;

  const first = await gcLogins(db.pool, db.installationId, isLive, 60_000, new Date());
  assert.deepEqual(first.failed, []);
  assert.deepEqual(
    first.dropped.map((x) => x.uid),
    [crashed],
  );

  const later = await gcLogins(
    db.pool,
    db.installationId,
    isLive,
    60_000,
    new Date(Date.now() + 120_000),
  );
  assert.deepEqual(
    later.dropped.map((x) => [x.uid, x.attempt]).sort(),
    [
      [live, 1],
      [young, 1],
    ].sort(),
  );
  assert.deepEqual(
    (await listLogins(db.pool, db.installationId)).map((x) => [x.uid, x.attempt]),
    [[live, 2]],
  );
  await dropLogin(db.pool, db.installationId, live, 2);
});

test('200 launch/stop cycles leave the number of roles where it started', async () => {
  await syncDataset(db.pool, {
    installationId: db.installationId,
    dataset: 'orders',
    tables: [TABLES.orders],
    members: [{ kind: 'user', name: 'hal' }],
  });
  await launch(randomUUID(), 1, 'hal'); // the subject role exists from here on
  for (const x of await listLogins(db.pool, db.installationId))
    await dropLogin(db.pool, db.installationId, x.uid, x.attempt);
  const start = await db.roleCount();
  assert.ok(start >= 2); // subjects and the dataset role stay; logins come and go
  for (let i = 0; i < 200; i++) {
    const uid = randomUUID();
    await launch(uid, 1, 'hal');
    await dropLogin(db.pool, db.installationId, uid, 1);
  }
  assert.equal(await db.roleCount(), start);
  assert.deepEqual(await listLogins(db.pool, db.installationId), []);
});
