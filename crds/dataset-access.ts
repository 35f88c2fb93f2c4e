// Who may read a Dataset and who may decide requests for it: pure functions the
// API (authorization, the Data page), the CLI and the credentials controller all
// use, so they can never disagree.
import type { AccessRequest } from './accessrequest.ts';
import type { Dataset } from './dataset.ts';

/** Whose credentials a launch carries: a user (namespace = slug) or a shared app (namespace `shared`). */
export type AccessSubject =
  | { kind: 'user'; name: string; groups: readonly string[] }
  | { kind: 'app'; name: string };

/**
 * Whether `subject` may read `ds`. `approved` are the names of the users whose
 * AccessRequest for this dataset is Approved (see approvedRequesters).
 */
export function datasetGrants(
  ds: Pick<Dataset, 'spec'>,
  subject: AccessSubject,
  approved: ReadonlySet<string>,
): boolean {
  const a = ds.spec.access;
  if (subject.kind === 'app') return a.apps.includes(subject.name);
  if (a.type === 'everyone') return true;
  return (
    a.users.includes(subject.name) ||
    a.groups.some((g) => subject.groups.includes(g)) ||
    approved.has(subject.name)
  );
}

/** The requesters (namespaces) of the Approved requests for dataset `name`, from any list of requests. */
export function approvedRequesters(name: string, requests: readonly AccessRequest[]): Set<string> {
  const out = new Set<string>();
  for (const r of requests) {
    if (r.spec.dataset !== name || r.status?.phase !== 'Approved' || r.metadata.deletionTimestamp)
      continue;
    if (r.metadata.namespace) out.add(r.metadata.namespace);
  }
  return out;
}

/** Whether `who` may approve or deny requests for `ds`: admins, and its approvers, but never for themselves. */
export function mayDecide(
  ds: Pick<Dataset, 'spec'>,
  who: { name: string; groups: readonly string[]; admin: boolean },
  requester: string,
): boolean {
  if (who.admin) return true;
  if (who.name === requester) return false;
  const a = ds.spec.approvers;
  return a.users.includes(who.name) || a.groups.some((g) => who.groups.includes(g));
}

/** Whether `who` is one of `ds`'s approvers (sees its requests and who has access). */
export function isApprover(
  ds: Pick<Dataset, 'spec'>,
  who: { name: string; groups: readonly string[]; admin: boolean },
): boolean {
  if (who.admin) return true;
  const a = ds.spec.approvers;
  return a.users.includes(who.name) || a.groups.some((g) => who.groups.includes(g));
}
