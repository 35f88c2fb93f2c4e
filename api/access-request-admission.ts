// Admission of AccessRequests, for everyone, admins too. A new request must name a
// Dataset that exists (422 on spec.dataset), one its requester (the namespace)
// cannot read already (422), and not one they already have a Pending request for
// (409); the API sets its `berth.io/dataset` label. Once written, its spec is fixed
// (422: ask again with a new request) and the label stays equal to spec.dataset,
// checked in the write's own transaction so that every path (PUT, merge patch,
// apply) is covered. A request without a status is Pending: the store keeps
// status out of creates, and the first decision writes it.
import {
  type AccessRequest,
  ApiError,
  approvedRequesters,
  type BerthObject,
  DATASET_LABEL,
  type Dataset,
  datasetGrants,
  isApiError,
} from '../crds/index.ts';
import { deepEqual, type Identity, type Principal, type WriteOptions } from '../store/index.ts';
import type { StorePort } from './store-port.ts';

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function invalid(name: unknown, field: string, message: string, reason: string): ApiError {
  const what = typeof name === 'string' ? `AccessRequest "${name}"` : 'AccessRequest';
  return new ApiError('Invalid', `${what} is invalid: ${field}: ${message}`, {
    kind: 'AccessRequest',
    ...(typeof name === 'string' ? { name } : {}),
    causes: [{ field, message, reason }],
  });
}

/** A request's phase: no status yet is Pending. */
export function phaseOf(r: Pick<AccessRequest, 'status'>): 'Pending' | 'Approved' | 'Denied' {
  return r.status?.phase ?? 'Pending';
}

/** Sets the dataset label from spec.dataset on a body that names one (in place). */
export function labelWithDataset(obj: BerthObject): void {
  const dataset = isRecord(obj.spec) ? obj.spec.dataset : undefined;
  if (typeof dataset !== 'string') return;
  const md = obj.metadata as Record<string, unknown>;
  md.labels = { ...(isRecord(md.labels) ? md.labels : {}), [DATASET_LABEL]: dataset };
}

/** The groups of the requester: the caller's own, or (an admin asking for someone) theirs. */
async function requesterGroups(
  identity: Identity,
  p: Principal,
  requester: string,
): Promise<readonly string[]> {
  if (requester === p.name) return p.groups;
  return (await identity.getUser(requester))?.groups ?? [];
}

/**
 * The checks of a new request in `namespace` (the requester's), before the store
 * sees it; sets the dataset label. A body the schema will refuse anyway (no
 * spec.dataset string) is left to the schema's 422.
 */
export async function admitNewAccessRequest(
  store: StorePort,
  identity: Identity,
  p: Principal,
  obj: BerthObject,
  namespace: string,
): Promise<void> {
  const dataset = isRecord(obj.spec) ? obj.spec.dataset : undefined;
  if (typeof dataset !== 'string') return;
  labelWithDataset(obj);
  const name = obj.metadata.name;
  let ds: Dataset;
  try {
    ds = (await store.get('Dataset', { name: dataset })) as unknown as Dataset;
  } catch (err) {
    if (isApiError(err, 'NotFound') || isApiError(err, 'BadRequest'))
      throw invalid(
        name,
        'spec.dataset',
        `Dataset "${dataset}" does not exist`,
        'FieldValueNotFound',
      );
    throw err;
  }
  const mine = (await store.list('AccessRequest', { namespace }))
    .items as unknown as AccessRequest[];
  const subject = {
    kind: 'user' as const,
    name: namespace,
    groups: await requesterGroups(identity, p, namespace),
  };
  if (datasetGrants(ds, subject, approvedRequesters(dataset, mine))) {
    throw invalid(
      name,
      'spec.dataset',
      `${namespace === p.name ? 'you' : `user "${namespace}"`} can already read Dataset "${dataset}"; no request is needed`,
      'FieldValueDuplicate',
    );
  }
  const pending = mine.find(
    (r) => r.spec.dataset === dataset && phaseOf(r) === 'Pending' && !r.metadata.deletionTimestamp,
  );
  if (pending) {
    throw new ApiError(
      'AlreadyExists',
      `a Pending request for Dataset "${dataset}" already exists: accessrequests "${pending.metadata.name}" in namespace "${namespace}"; wait for its decision or delete it`,
      { kind: 'accessrequests', name: pending.metadata.name },
    );
  }
}

/** The spec fields a write changed, as field paths. */
function changedSpecFields(before: BerthObject, after: BerthObject): string[] {
  const a = (before.spec ?? {}) as Record<string, unknown>;
  const b = (after.spec ?? {}) as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => !deepEqual(a[k], b[k])).map((k) => `spec.${k}`);
}

/**
 * In the write's transaction: a request's spec never changes, and its dataset
 * label is always its spec.dataset (approvers' label selectors rely on it).
 */
export const accessRequestGuard: NonNullable<WriteOptions['inTransaction']> = async (
  _client,
  change,
) => {
  if (change.type === 'DELETED' || change.object.kind !== 'AccessRequest') return;
  const obj = change.object;
  if (change.type === 'MODIFIED' && change.previous) {
    const fields = changedSpecFields(change.previous, obj);
    if (fields.length > 0) {
      const message = 'fixed once written; create a new request';
      throw new ApiError(
        'Invalid',
        `AccessRequest "${obj.metadata.name}" is invalid: ${fields.join(', ')}: ${message}`,
        {
          kind: 'AccessRequest',
          name: obj.metadata.name,
          causes: fields.map((field) => ({ field, message, reason: 'FieldValueForbidden' })),
        },
      );
    }
  }
  const dataset = (obj.spec as { dataset?: string } | undefined)?.dataset;
  if (obj.metadata.labels?.[DATASET_LABEL] !== dataset) {
    throw invalid(
      obj.metadata.name,
      `metadata.labels["${DATASET_LABEL}"]`,
      `set by berth to spec.dataset ("${dataset}"); leave it as it is`,
      'FieldValueForbidden',
    );
  }
};
