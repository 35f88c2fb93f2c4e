// May this person use this tool? Per-user tools: the owner (namespace == user)
// only; admin rights do not open other users' tools. Shared apps (instances in
// the shared namespace, ToolDefinition sharing=shared): whoever the definition's
// `access` allows (absent: every signed-in user). The same access rule decides
// who may launch a per-user tool.

import type { ToolDefinition } from '../crds/index.ts';
import type { Principal } from '../store/index.ts';

export function accessAllows(principal: Principal, def: ToolDefinition): boolean {
  const access = def.spec.access;
  if (!access) return true;
  if (access.users.includes(principal.name)) return true;
  return access.groups.some((g) => principal.groups.includes(g));
}

export function mayOpen(
  principal: Principal,
  namespace: string,
  def: ToolDefinition | undefined,
  sharedNamespace: string,
): boolean {
  if (namespace === sharedNamespace) {
    return def !== undefined && def.spec.sharing === 'shared' && accessAllows(principal, def);
  }
  if (namespace !== principal.name) return false;
  return def === undefined || accessAllows(principal, def);
}
