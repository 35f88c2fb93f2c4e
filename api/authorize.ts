// Authorization. Admins may do everything. Other users:
// - ToolDefinition: get, list and watch the ones they may use (access absent,
//   their name in access.users, or one of their groups in access.groups); lists
//   and watches are filtered, a get of another one is 403.
// - ToolInstance: every verb, but only in their own namespace (namespace == user name).
// - Event: get, list and watch in their own namespace.
// - Database, Dataset: get, list and watch (the catalogue; a Dataset's
//   status.access is shown only to its approvers, data-access.ts).
// - AccessRequest: every verb in their own namespace (the requester's); reads in
//   other namespaces pass here and are filtered to the requests for Datasets the
//   caller approves (data-access.ts).
// - Anything else (later kinds, status writes, cluster-wide lists of namespaced
//   kinds, token management): admin only. Unknown kinds are denied by default.
import { ApiError, type KindInfo } from '../crds/index.ts';
import type { Principal } from '../store/index.ts';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';

const READ_VERBS: readonly Verb[] = ['get', 'list', 'watch'];
const ALL_VERBS: readonly Verb[] = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'];

export interface Target {
  kind: KindInfo;
  /** Undefined for cluster-scoped kinds and for lists across every namespace. */
  namespace?: string;
  name?: string;
  subresource?: 'status';
}

interface UserRule {
  /** Verbs a non-admin may use on the main resource. */
  verbs: readonly Verb[];
  /** Namespaced kinds: only in the user's own namespace. */
  ownNamespaceOnly: boolean;
  /** Reads elsewhere are allowed here and narrowed object by object (approvers' view). */
  filteredReadsElsewhere?: boolean;
}

const USER_RULES: Record<string, UserRule> = {
  ToolDefinition: { verbs: READ_VERBS, ownNamespaceOnly: false },
  ToolInstance: { verbs: ALL_VERBS, ownNamespaceOnly: true },
  Event: { verbs: READ_VERBS, ownNamespaceOnly: true },
  Database: { verbs: READ_VERBS, ownNamespaceOnly: false },
  Dataset: { verbs: READ_VERBS, ownNamespaceOnly: false },
  AccessRequest: { verbs: ALL_VERBS, ownNamespaceOnly: true, filteredReadsElsewhere: true },
};

function resourceName(t: Target): string {
  return t.subresource ? `${t.kind.plural}/${t.subresource}` : t.kind.plural;
}

function where(t: Target): string {
  if (!t.kind.namespaced) return '';
  return t.namespace === undefined ? ' in all namespaces' : ` in namespace "${t.namespace}"`;
}

export function forbidden(p: Principal, verb: string, t: Target, why?: string): ApiError {
  const named = t.name ? ` "${t.name}"` : '';
  const message = `user "${p.name}" cannot ${verb} ${resourceName(t)}${named}${where(t)}${why ? `: ${why}` : ''}`;
  return new ApiError('Forbidden', message, {
    kind: t.kind.plural,
    ...(t.name ? { name: t.name } : {}),
  });
}

/** Throws 403 unless the principal may use `verb` on the target. */
export function authorize(p: Principal, verb: Verb, t: Target): void {
  if (p.admin) return;
  const rule = USER_RULES[t.kind.kind];
  if (!rule) throw forbidden(p, verb, t, 'admin only');
  const isRead = READ_VERBS.includes(verb);
  if (t.subresource === 'status' && !isRead)
    throw forbidden(p, verb, t, 'status is written by berth itself');
  if (!rule.verbs.includes(verb)) throw forbidden(p, verb, t, 'admin only');
  if (t.kind.namespaced && rule.ownNamespaceOnly && !(isRead && rule.filteredReadsElsewhere)) {
    if (t.namespace === undefined) throw forbidden(p, verb, t, `use namespace "${p.name}"`);
    if (t.namespace !== p.name) throw forbidden(p, verb, t, `your namespace is "${p.name}"`);
  }
}

/** Admin-only operations outside the resource model (tokens). */
export function requireAdmin(p: Principal, what: string): void {
  if (!p.admin) throw new ApiError('Forbidden', `user "${p.name}" cannot ${what}: admin only`);
}

interface AccessRule {
  users?: string[];
  groups?: string[];
}

/** Whether a principal may use (see, launch) a ToolDefinition. */
export function canUseToolDefinition(p: Principal, td: { spec?: unknown }): boolean {
  if (p.admin) return true;
  const access = (td.spec as { access?: AccessRule } | undefined)?.access;
  if (!access) return true;
  if (access.users?.includes(p.name)) return true;
  return (access.groups ?? []).some((g) => p.groups.includes(g));
}
