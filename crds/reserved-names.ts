// Names that can never be a user's slug (and so never a user's namespace): the
// namespace of shared apps, berth's own, and the ones Kubernetes tools treat as
// special. A user named like one of them would own objects berth or an admin
// put there (a shared app's instance, say).
export const RESERVED_USER_NAMES: ReadonlySet<string> = new Set([
  'shared',
  'berth',
  'default',
  'system',
  'kube-system',
  'kube-public',
  'kube-node-lease',
]);

/** Prefixes reserved the same way: `berth-…` and `kube-…` are berth's and Kubernetes's. */
export const RESERVED_USER_PREFIXES: readonly string[] = ['berth-', 'kube-'];

/** True for a slug no user may have. */
export function isReservedUserName(name: string): boolean {
  return RESERVED_USER_NAMES.has(name) || RESERVED_USER_PREFIXES.some((p) => name.startsWith(p));
}
