// Who may read what, as the credentials controller needs it: a launch's subject
// and the Datasets it may read, a Dataset's members among the subjects that have
// a role. The rules themselves are crds' (datasetGrants): the API, the CLI and the
// grants in PostgreSQL never disagree.
import {
  type AccessRequest,
  type AccessSubject,
  approvedRequesters,
  DATASET_LABEL,
  type Database,
  type Dataset,
  datasetGrants,
  type ToolInstance,
} from '../../crds/index.ts';
import { Identity, type ResourceStore } from '../../store/index.ts';
import type { Subject } from './engine.ts';

/** The namespace of shared apps: their instances carry the app's own grants, not a user's. */
export const SHARED_NAMESPACE = 'shared';

/** Whose credentials an instance's launch carries, with the user's groups from the users table. */
export async function subjectOf(store: ResourceStore, ti: ToolInstance): Promise<AccessSubject> {
  const ns = ti.metadata.namespace ?? '';
  if (ns === SHARED_NAMESPACE) return { kind: 'app', name: ti.spec.toolRef };
  const user = await new Identity(store.pool).getUser(ns);
  return { kind: 'user', name: ns, groups: user?.groups ?? [] };
}

/**
 * The names of the Datasets `subject` may read (named access, groups, approved
 * requests, everyone), and of every Dataset.
 */
export async function readableDatasets(
  store: ResourceStore,
  subject: AccessSubject,
): Promise<{ readable: string[]; all: string[] }> {
  const [datasets, requests] = await Promise.all([
    listDatasets(store),
    subject.kind === 'user'
      ? (store.list('AccessRequest', { namespace: subject.name }).then((r) => r.items) as Promise<
          AccessRequest[]
        >)
      : Promise.resolve([] as AccessRequest[]),
  ]);
  const readable = datasets
    .filter(
      (ds) =>
        !ds.metadata.deletionTimestamp &&
        datasetGrants(ds, subject, approvedRequesters(ds.metadata.name, requests)),
    )
    .map((ds) => ds.metadata.name)
    .sort();
  return { readable, all: datasets.map((ds) => ds.metadata.name) };
}

export async function listDatasets(store: ResourceStore): Promise<Dataset[]> {
  return (await store.list('Dataset')).items as Dataset[];
}

export async function listDatabases(store: ResourceStore): Promise<Database[]> {
  return (await store.list('Database')).items as Database[];
}

/** Everything a Dataset reconcile decides membership from, read once per reconcile. */
export interface MembershipFacts {
  groupsOf: Map<string, readonly string[]>;
  approved: Set<string>;
  /** This Dataset's requests nobody has decided and berth has not yet marked Pending. */
  unmarked: AccessRequest[];
}

export async function membershipFacts(
  store: ResourceStore,
  dataset: string,
): Promise<MembershipFacts> {
  const [users, requests] = await Promise.all([
    new Identity(store.pool).listUsers(),
    // Only this Dataset's requests: the API labels every request with its dataset.
    store
      .list('AccessRequest', { labelSelector: `${DATASET_LABEL}=${dataset}` })
      .then((r) => r.items as AccessRequest[]),
  ]);
  return {
    groupsOf: new Map(users.map((u) => [u.name, u.groups])),
    approved: approvedRequesters(dataset, requests),
    unmarked: requests.filter(
      (r) => r.spec.dataset === dataset && !r.status && !r.metadata.deletionTimestamp,
    ),
  };
}

/** Which of `subjects` (roles that exist in a database) may read `ds`. */
export function membersAmong(
  ds: Dataset,
  subjects: readonly Subject[],
  facts: MembershipFacts,
): Subject[] {
  return subjects.filter((s) =>
    datasetGrants(
      ds,
      s.kind === 'app'
        ? { kind: 'app', name: s.name }
        : { kind: 'user', name: s.name, groups: facts.groupsOf.get(s.name) ?? [] },
      facts.approved,
    ),
  );
}

/** Who has access now, for Dataset status (admins and approvers see it). */
export function accessSummary(
  ds: Dataset,
  userSubjects: ReadonlySet<string>,
  facts: MembershipFacts,
): { everyone: boolean; users: string[]; apps: string[] } {
  const a = ds.spec.access;
  const users = new Set<string>();
  if (a.type === 'everyone') {
    for (const u of userSubjects) users.add(u);
  } else {
    for (const u of a.users) users.add(u);
    for (const u of facts.approved) users.add(u);
    for (const [name, groups] of facts.groupsOf)
      if (a.groups.some((g) => groups.includes(g))) users.add(name);
  }
  return { everyone: a.type === 'everyone', users: [...users].sort(), apps: [...a.apps].sort() };
}
