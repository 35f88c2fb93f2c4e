// Discovery documents, as Kubernetes serves them: /apis lists the group,
// /apis/berth/v1alpha1 lists every kind with its verbs, scope, short names and
// (a berth extension) printer columns, so clients need no built-in kind table.
import { API_VERSION, GROUP, type KindInfo, VERSION } from '../crds/index.ts';

export function apiGroupList() {
  const version = { groupVersion: API_VERSION, version: VERSION };
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: [{ name: GROUP, versions: [version], preferredVersion: version }],
  };
}

export function apiResourceList(kinds: readonly KindInfo[]) {
  const resources: Record<string, unknown>[] = [];
  for (const k of kinds) {
    resources.push({
      name: k.plural,
      singularName: k.singular,
      namespaced: k.namespaced,
      kind: k.kind,
      verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
      shortNames: k.shortNames,
      printerColumns: k.printerColumns,
    });
    if (k.statusSubresource) {
      resources.push({
        name: `${k.plural}/status`,
        singularName: '',
        namespaced: k.namespaced,
        kind: k.kind,
        verbs: ['get', 'update', 'patch'],
      });
    }
    if (k.kind === 'AccessRequest') {
      // POST …/accessrequests/NAME/approval: an approver's decision (routes/approval.ts).
      resources.push({
        name: `${k.plural}/approval`,
        singularName: '',
        namespaced: true,
        kind: k.kind,
        verbs: ['create'],
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: API_VERSION, resources };
}
