// The launch path: makes sure the subject role, its CONNECT and private schema,
// its dataset memberships and this attempt's login exist, reading the catalog
// once and sending only what is missing, with the role lock, in one round trip.
// The SCRAM verifier is computed off the event loop meanwhile.
import type pg from 'pg';
import { loginComment } from './logins.ts';
import { datasetRole, loginRole } from './names.ts';
import { retryable, roleChange, sendAll } from './role-change.ts';
import { TAKE_ROLE_LOCK } from './role-lock.ts';
import { scramVerifier } from './scram.ts';
import * as sql from './statements.ts';
import {
  datasetRolePrefix,
  type Subject,
  subjectComment,
  subjectRole,
  subjectSchema,
} from './subjects.ts';

export interface LaunchLoginInput {
  installationId: string;
  uid: string;
  attempt: number;
  /** "namespace/name" of the ToolInstance, recorded in the login's comment. */
  instance: string;
  subject: Subject;
  /** Dataset names the subject may read (any database); those with a role here become memberships. */
  datasets: string[];
  password: string;
  validUntil: Date;
  connectionLimit: number;
  statementTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
}

interface LaunchStateRow {
  database: string;
  version: number;
  subject_exists: boolean;
  schema_exists: boolean;
  has_connect: boolean;
  login_exists: boolean;
  login_comment: string | null;
  dataset_roles: string[];
  memberships: string[];
}

/** Ensures subject role, schema, memberships and the login; returns the login role and the schema. */
export async function prepareLaunchLogin(
  pool: pg.Pool,
  input: LaunchLoginInput,
): Promise<{ login: string; schema: string }> {
  const subject = subjectRole(input.installationId, input.subject);
  const schema = subjectSchema(input.installationId, input.subject);
  const login = loginRole(input.installationId, input.uid, input.attempt);
  const wanted = new Set(input.datasets.map((d) => datasetRole(input.installationId, d)));
  // PBKDF2 on the thread pool while the lock is taken and the catalog read.
  const verifier = scramVerifier(input.password);
  verifier.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
  const options: Omit<sql.LoginOptions, 'verifier'> = {
    login,
    subject,
    schema,
    validUntil: input.validUntil,
    connectionLimit: input.connectionLimit,
    statementTimeoutMs: input.statementTimeoutMs,
    idleInTransactionTimeoutMs: input.idleInTransactionTimeoutMs,
  };
  const stateQuery = sql.launchState({
    subject,
    schema,
    login,
    datasetRolePrefix: datasetRolePrefix(input.installationId),
    datasetRoles: [...wanted],
  });
  const changesFor = async (s: LaunchStateRow): Promise<string[]> => {
    const changes: string[] = [];
    if (!s.subject_exists)
      changes.push(sql.createSubjectRole(subject, subjectComment(input.subject)));
    if (!s.has_connect) changes.push(sql.grantConnect(s.database, subject));
    if (!s.schema_exists) changes.push(sql.createPrivateSchema(schema, subject));
    const isMember = new Set(s.memberships);
    for (const role of s.dataset_roles)
      if (!isMember.has(role)) changes.push(sql.grantMembership(role, subject, s.version));
    for (const role of s.memberships)
      if (!wanted.has(role)) changes.push(sql.revokeMembership(role, subject));
    const comment = loginComment(input.instance, new Date());
    const withVerifier = { ...options, verifier: await verifier };
    changes.push(
      s.login_exists
        ? sql.alterLogin(withVerifier, s.login_comment ? undefined : comment)
        : sql.createLogin(withVerifier, comment),
    );
    return changes;
  };
  // The launch path is optimistic: the catalog is read without the lock, and the
  // changes go with the lock in one implicit transaction (two round trips in all).
  // When another change got there between the read and the lock (a role created
  // meanwhile, a concurrent update), it is done again the careful way: read and
  // change in one transaction under the lock.
  try {
    const { rows } = await pool.query<LaunchStateRow>(stateQuery);
    await pool.query([TAKE_ROLE_LOCK, ...(await changesFor(rows[0]!))].join(';\n'));
  } catch (err) {
    if (!retryable(err)) throw err;
    await roleChange(pool, async (client) => {
      const { rows } = await client.query<LaunchStateRow>(stateQuery);
      await sendAll(client, await changesFor(rows[0]!));
    });
  }
  return { login, schema };
}
