// What a caller may see of the objects a read returns (get, list, watch), per kind:
// ToolDefinitions they may use; AccessRequests of their own and, for approvers,
// those for the Datasets they approve; a Dataset's `status.access` (who has
// access) only for admins and that Dataset's approvers. The rules themselves are
// crds/dataset-access.ts's; this file applies them to what the store answers.
import {
  type AccessRequest,
  type BerthObject,
  type Dataset,
  isApprover,
  type KindInfo,
} from '../crds/index.ts';
import type { Principal } from '../store/index.ts';
import { canUseToolDefinition } from './authorize.ts';
import type { StorePort } from './store-port.ts';

/** How long a watch trusts the list of Datasets its caller approves before reading it again. */
const APPROVALS_TTL_MS = 2000;

export interface ReadView {
  /** Whether the caller may see this object at all. */
  visible(obj: BerthObject): boolean;
  /** The object as the caller may see it (fields they may not see removed; a copy when changed). */
  shape(obj: BerthObject): BerthObject;
  /** Whether objects may come and go from view (a watch then turns them into ADDED/DELETED). */
  filtering: boolean;
  /** Reads again what visibility depends on, when older than a moment (watches call it per event). */
  refresh(): Promise<void>;
}

const EVERYTHING: ReadView = {
  visible: () => true,
  shape: (o) => o,
  filtering: false,
  refresh: async () => {},
};

/** The names of the Datasets `p` approves (every one for an admin). */
export async function approvedDatasets(store: StorePort, p: Principal): Promise<Set<string>> {
  const { items } = await store.list('Dataset', {});
  return new Set(
    (items as unknown as Dataset[]).filter((d) => isApprover(d, p)).map((d) => d.metadata.name),
  );
}

/** A Dataset without `status.access` unless `p` is an admin or one of its approvers. */
export function shapeDataset(obj: BerthObject, p: Principal): BerthObject {
  const ds = obj as unknown as Dataset;
  if (!ds.status || ds.status.access === undefined || !ds.spec || isApprover(ds, p)) return obj;
  const { access: _hidden, ...status } = ds.status;
  return { ...obj, status } as BerthObject;
}

/** The request's requester (its namespace) and the Dataset it asks for. */
function requestOf(obj: BerthObject): { requester: string; dataset: string | undefined } {
  const r = obj as unknown as AccessRequest;
  return { requester: r.metadata.namespace ?? '', dataset: r.spec?.dataset };
}

/**
 * The view of `kind` for `p` reading at `namespace` (undefined: every namespace,
 * or a cluster-scoped kind).
 */
export async function readView(
  store: StorePort,
  p: Principal,
  kind: KindInfo,
  namespace: string | undefined,
): Promise<ReadView> {
  if (kind.kind === 'Dataset') {
    return { ...EVERYTHING, shape: (o) => (p.admin ? o : shapeDataset(o, p)) };
  }
  if (p.admin) return EVERYTHING;
  if (kind.kind === 'ToolDefinition') {
    return { ...EVERYTHING, visible: (o) => canUseToolDefinition(p, o), filtering: true };
  }
  if (kind.kind !== 'AccessRequest' || namespace === p.name) return EVERYTHING;
  let approves = await approvedDatasets(store, p);
  let readAt = Date.now();
  return {
    visible(o) {
      const { requester, dataset } = requestOf(o);
      return requester === p.name || (dataset !== undefined && approves.has(dataset));
    },
    shape: (o) => o,
    filtering: true,
    async refresh() {
      if (Date.now() - readAt < APPROVALS_TTL_MS) return;
      approves = await approvedDatasets(store, p);
      readAt = Date.now();
    },
  };
}
