// The caller's view of the catalogue (GET /apis/berth/v1alpha1/datasetaccess): for
// every Dataset, whether they may read it and why, or where their request stands.
// Pure: computed from the Datasets, the caller's own AccessRequests and the
// rules in crds/dataset-access.ts, which the credentials controller uses too.
import {
  type AccessRequest,
  approvedRequesters,
  type Dataset,
  datasetGrants,
  isApprover,
} from '../crds/index.ts';
import type { Principal } from '../store/index.ts';

export type DatasetAccessState = 'granted' | 'pending' | 'denied' | 'requestable';
export type DatasetAccessVia = 'everyone' | 'user' | 'group' | 'request';

export interface DatasetAccessItem {
  dataset: string;
  title: string;
  access: DatasetAccessState;
  via?: DatasetAccessVia;
  /** The AccessRequest the state comes from (granted via a request, pending, denied). */
  request?: string;
  approver: boolean;
}

/** Why the spec alone grants `p` the Dataset, if it does. */
function grantedBySpec(ds: Dataset, p: Principal): DatasetAccessVia | undefined {
  const subject = { kind: 'user' as const, name: p.name, groups: p.groups };
  if (!datasetGrants(ds, subject, new Set())) return undefined;
  if (ds.spec.access.type === 'everyone') return 'everyone';
  return ds.spec.access.users.includes(p.name) ? 'user' : 'group';
}

/** Newest first: by creation time, then by name for requests made in the same second. */
function newestFirst(a: AccessRequest, b: AccessRequest): number {
  const t = (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '');
  return t || b.metadata.name.localeCompare(a.metadata.name);
}

function itemFor(ds: Dataset, p: Principal, mine: readonly AccessRequest[]): DatasetAccessItem {
  const name = ds.metadata.name;
  const base = { dataset: name, title: ds.spec.title, approver: isApprover(ds, p) };
  const via = grantedBySpec(ds, p);
  if (via) return { ...base, access: 'granted', via };
  const requests = mine
    .filter((r) => r.spec.dataset === name && !r.metadata.deletionTimestamp)
    .sort(newestFirst);
  const subject = { kind: 'user' as const, name: p.name, groups: p.groups };
  const approved = requests.find((r) => r.status?.phase === 'Approved');
  if (approved && datasetGrants(ds, subject, approvedRequesters(name, requests)))
    return { ...base, access: 'granted', via: 'request', request: approved.metadata.name };
  const latest = requests[0];
  const phase = latest?.status?.phase ?? 'Pending';
  if (!latest || phase === 'Approved') return { ...base, access: 'requestable' };
  return {
    ...base,
    access: phase === 'Pending' ? 'pending' : 'denied',
    request: latest.metadata.name,
  };
}

/** Every Dataset, by name, as `p` stands with it; `mine` are p's own AccessRequests. */
export function datasetAccessSummary(
  datasets: readonly Dataset[],
  mine: readonly AccessRequest[],
  p: Principal,
): { items: DatasetAccessItem[] } {
  const own = mine.filter((r) => r.metadata.namespace === p.name);
  return {
    items: [...datasets]
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
      .map((ds) => itemFor(ds, p, own)),
  };
}
