// A login's password never reaches PostgreSQL: only its SCRAM-SHA-256 verifier is
// in the statements the engine sends, so it is not in pg_stat_activity nor in a
// server log line of any statement. The verifier is PostgreSQL's own (same salt,
// same result), so the password still logs in.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import type pg from 'pg';
import {
  dropLogin,
  loginPassword,
  prepareLaunchLogin,
  scramVerifier,
} from '../../../controllers/credentials/engine.ts';
import { type EngineDatabase, engineDatabase, launchInput } from './engine-support.ts';

let db: EngineDatabase;

before(async () => {
  db = await engineDatabase(2);
});
after(async () => await db?.cleanup());

/** Every statement text and parameter a pool's clients send. */
function recording(pool: pg.Pool): string[] {
  const sent: string[] = [];
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: unknown }).query = (...args: unknown[]) => {
      const [first, second] = args;
      const config = typeof first === 'string' ? { text: first, values: second } : first;
      sent.push(JSON.stringify(config));
      return query(...args);
    };
  });
  return sent;
}

test('the statements sent carry the SCRAM verifier, never the password; the password logs in', async () => {
  const pool = db.adminPool(2);
  const sent = recording(pool);
  const uid = randomUUID();
  const password = loginPassword(randomBytes32(), uid, 1, db.dbname);
  try {
    const input = launchInput(db, { uid, password });
    const { login } = await prepareLaunchLogin(pool, input);
    await prepareLaunchLogin(pool, input); // a retried launch: ALTER ROLE … PASSWORD
    const roleStatements = sent.filter((s) => /(create|alter) role .* password /i.test(s));
    assert.equal(roleStatements.length, 2, sent.join('\n'));
    for (const s of roleStatements) assert.match(s, /password 'SCRAM-SHA-256\$4096:/);
    for (const s of sent) assert.ok(!s.includes(password), 'a statement carried the password');

    const { rows } = await db.superQuery<{ query: string }>(
      'select query from pg_stat_activity where datname = current_database()',
    );
    assert.ok(rows.length > 0);
    for (const r of rows) assert.ok(!r.query.includes(password));

    const stored = await db.superQuery<{ rolpassword: string }>(
      'select rolpassword from pg_authid where rolname = $1',
      [login],
    );
    assert.match(stored.rows[0]!.rolpassword, /^SCRAM-SHA-256\$4096:/);
    const c = db.clientAs(login, password);
    await c.connect();
    await c.end();
    const wrong = db.clientAs(login, `${password.slice(0, -1)}x`);
    await assert.rejects(wrong.connect(), { code: '28P01' });
  } finally {
    await pool.end();
    await dropLogin(db.pool, db.installationId, uid, 1);
  }
});

test('scramVerifier computes what PostgreSQL computes for the same password and salt', async () => {
  const role = `berth_scram_probe_${randomUUID().slice(0, 8)}`;
  // A throwaway role whose plaintext PostgreSQL hashes itself, for comparison only.
  await db.superQuery(`create role ${role} password 'correct-horse-battery-42'`);
  try {
    const { rows } = await db.superQuery<{ rolpassword: string }>(
      'select rolpassword from pg_authid where rolname = $1',
      [role],
    );
    const theirs = rows[0]!.rolpassword;
    const salt = Buffer.from(/^SCRAM-SHA-256\$4096:([^$]+)\$/.exec(theirs)![1]!, 'base64');
    assert.equal(await scramVerifier('correct-horse-battery-42', salt), theirs);
  } finally {
    await db.superQuery(`drop role ${role}`);
  }
});

function randomBytes32(): Buffer {
  return Buffer.from(randomUUID().replaceAll('-', '').repeat(2), 'hex');
}
