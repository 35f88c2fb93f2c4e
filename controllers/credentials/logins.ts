// Per-launch logins: created (or, for a retried launch, brought back to the same
// settings) inside prepareLaunchLogin's transaction; disabled at stop (NOLOGIN,
// then its sessions ended); dropped with REASSIGN OWNED / DROP OWNED / DROP ROLE
// so what it created stays with its subject; listed and garbage-collected by name.
import type pg from 'pg';
import { loginRole, parseLoginRole, rolePrefix } from './names.ts';
import { roleChange, sendAll } from './role-change.ts';
import * as sql from './statements.ts';
import { subjectPrefixes } from './subjects.ts';

export interface LoginInfo {
  role: string;
  uid: string;
  attempt: number;
  /** From the role's comment; absent when the comment is missing or unreadable. */
  created?: Date;
  instance?: string;
}

/** What a login's COMMENT says: whose it is and since when (never a secret). */
export function loginComment(instance: string, created: Date): string {
  return JSON.stringify({ berth: 'login', instance, created: created.toISOString() });
}

function parseComment(comment: string | null): { created?: Date; instance?: string } {
  if (!comment) return {};
  try {
    const v = JSON.parse(comment) as { berth?: unknown; instance?: unknown; created?: unknown };
    if (v.berth !== 'login') return {};
    const created = typeof v.created === 'string' ? new Date(v.created) : undefined;
    return {
      ...(created && !Number.isNaN(created.getTime()) ? { created } : {}),
      ...(typeof v.instance === 'string' ? { instance: v.instance } : {}),
    };
  } catch {
    return {};
  }
}

/**
 * NOLOGIN first, committed, then its sessions are ended: a tool that reconnects at
 * once is refused, because the commit is visible before the termination. Missing
 * login: nothing to do.
 */
export async function disableLogin(
  pool: pg.Pool,
  installationId: string,
  uid: string,
  attempt: number,
): Promise<void> {
  const login = loginRole(installationId, uid, attempt);
  const exists = await roleChange(pool, async (client) => {
    const { rows } = await client.query<{ login_exists: boolean }>(
      sql.loginSubject(login, subjectPrefixes(installationId)),
    );
    if (!rows[0]?.login_exists) return false;
    await sendAll(client, [sql.disableLogin(login)]);
    return true;
  });
  if (exists) await pool.query(sql.terminateSessions(login));
}

/**
 * Disables the login (as above), then in this database hands what it owns to its
 * subject role (or, if it has none, to the admin), drops its grants and the role.
 * Missing login: done.
 */
export async function dropLogin(
  pool: pg.Pool,
  installationId: string,
  uid: string,
  attempt: number,
): Promise<void> {
  await disableLogin(pool, installationId, uid, attempt);
  const login = loginRole(installationId, uid, attempt);
  await roleChange(pool, async (client) => {
    const { rows } = await client.query<{ login_exists: boolean; subject: string | null }>(
      sql.loginSubject(login, subjectPrefixes(installationId)),
    );
    const row = rows[0];
    if (!row?.login_exists) return;
    const heir =
      row.subject ?? (await client.query<{ name: string }>(sql.currentUser)).rows[0]!.name;
    await sendAll(client, [sql.dropLogin(login, heir)]);
  });
}

/** This installation's logins on the cluster, from pg_roles and their comments. */
export async function listLogins(pool: pg.Pool, installationId: string): Promise<LoginInfo[]> {
  const { rows } = await pool.query<{ rolname: string; comment: string | null }>(
    sql.rolesWithPrefix(`${rolePrefix(installationId)}l_`),
  );
  const out: LoginInfo[] = [];
  for (const r of rows) {
    const parsed = parseLoginRole(installationId, r.rolname);
    if (!parsed) continue;
    out.push({ role: r.rolname, ...parsed, ...parseComment(r.comment) });
  }
  return out;
}

/**
 * Drops every login of this installation whose instance attempt is not live and
 * that is older than `graceMs` (a login without a readable creation time counts as
 * old). The grace covers a launch whose login is committed but whose status does
 * not yet say so. Returns the logins dropped; one that fails to drop is left for
 * the next pass and reported in `failed`.
 */
export async function gcLogins(
  pool: pg.Pool,
  installationId: string,
  isLive: (uid: string, attempt: number) => boolean,
  graceMs: number,
  now: Date = new Date(),
): Promise<{ dropped: LoginInfo[]; failed: { login: LoginInfo; error: string }[] }> {
  const dropped: LoginInfo[] = [];
  const failed: { login: LoginInfo; error: string }[] = [];
  for (const l of await listLogins(pool, installationId)) {
    if (isLive(l.uid, l.attempt)) continue;
    if (l.created && now.getTime() - l.created.getTime() < graceMs) continue;
    try {
      await dropLogin(pool, installationId, l.uid, l.attempt);
      dropped.push(l);
    } catch (err) {
      const e = err as { code?: string; message?: string };
      failed.push({ login: l, error: `${e.code ?? 'error'}: ${e.message ?? ''}` });
    }
  }
  return { dropped, failed };
}
