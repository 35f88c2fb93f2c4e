// Subjects: the permanent NOLOGIN role of a user or shared app. Its COMMENT holds
// JSON naming whom it stands for, so roles map back to users without a table.
import type pg from 'pg';
import { appRole, privateSchema, rolePrefix, userRole } from './names.ts';
import { rolesWithPrefix } from './statements.ts';

export type Subject = { kind: 'user' | 'app'; name: string };

export function subjectRole(installationId: string, subject: Subject): string {
  return subject.kind === 'user'
    ? userRole(installationId, subject.name)
    : appRole(installationId, subject.name);
}

/** Users' and apps' schemas never collide: an app's key carries its kind. */
export function subjectSchema(installationId: string, subject: Subject): string {
  return privateSchema(
    installationId,
    subject.kind === 'user' ? subject.name : `app:${subject.name}`,
  );
}

export function subjectComment(subject: Subject): string {
  return JSON.stringify({ berth: 'subject', kind: subject.kind, name: subject.name });
}

/** The name prefixes of this installation's subject roles (users, apps). */
export function subjectPrefixes(installationId: string): string[] {
  const p = rolePrefix(installationId);
  return [`${p}u_`, `${p}a_`];
}

export function datasetRolePrefix(installationId: string): string {
  return `${rolePrefix(installationId)}d_`;
}

function parseSubject(comment: string | null): Subject | undefined {
  if (!comment) return undefined;
  try {
    const v = JSON.parse(comment) as { berth?: unknown; kind?: unknown; name?: unknown };
    if (v.berth !== 'subject' || typeof v.name !== 'string') return undefined;
    if (v.kind !== 'user' && v.kind !== 'app') return undefined;
    return { kind: v.kind, name: v.name };
  } catch {
    return undefined;
  }
}

/**
 * This installation's subjects with a role on this cluster. Roles (and so dataset
 * memberships) are cluster-wide, so this is the cluster's list whichever database
 * `pool` is on: every Database on one cluster syncs the same members.
 */
export async function listSubjects(pool: pg.Pool, installationId: string): Promise<Subject[]> {
  const prefixes = subjectPrefixes(installationId);
  const { rows } = await pool.query<{ rolname: string; comment: string | null }>(
    rolesWithPrefix(rolePrefix(installationId)),
  );
  const out: Subject[] = [];
  for (const r of rows) {
    if (!prefixes.some((p) => r.rolname.startsWith(p))) continue;
    const s = parseSubject(r.comment);
    if (s && subjectRole(installationId, s) === r.rolname) out.push(s);
  }
  return out;
}
