// Host header parsing. Routing uses the Host header alone (never X-Forwarded-Host,
// never an absolute-form request target), normalised: lowercase, port and one
// trailing dot removed. Only two shapes reach a tool:
//   <instance>--<namespace>.<tool domain>  a per-user tool (namespace = the user's slug)
//   <instance>.<tool domain>               a shared app (namespace = the shared namespace)
// and the base domain itself is berth's own host. The tool domain is the base
// domain unless another is configured (BERTH_TOOL_DOMAIN); then nothing under the
// base domain but itself, and nothing at the tool domain itself, is served.
// Anything else is refused.

import { normaliseHostname } from '../crds/index.ts';

export { hostPort, normaliseHostname } from '../crds/index.ts';

export type ParsedHost =
  | { kind: 'berth'; hostname: string }
  | { kind: 'tool'; hostname: string; namespace: string; instance: string }
  | { kind: 'invalid' };

const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
export function parseHost(
  header: string | undefined,
  baseDomain: string,
  sharedNamespace: string,
  toolDomain: string = baseDomain,
): ParsedHost {
  const hostname = normaliseHostname(header);
  if (!hostname) return { kind: 'invalid' };
  if (hostname === baseDomain) return { kind: 'berth', hostname };
  if (!hostname.endsWith(`.${toolDomain}`)) return { kind: 'invalid' };
  const label = hostname.slice(0, hostname.length - toolDomain.length - 1);
  if (!LABEL.test(label)) return { kind: 'invalid' };
  const sep = label.indexOf('--');
  if (sep < 0) return { kind: 'tool', hostname, namespace: sharedNamespace, instance: label };
  const instance = label.slice(0, sep);
  const namespace = label.slice(sep + 2);
  if (!LABEL.test(instance) || !LABEL.test(namespace) || namespace === sharedNamespace) {
    return { kind: 'invalid' };
  }
  return { kind: 'tool', hostname, namespace, instance };
}

/** The host name a ToolInstance is reached at, or undefined when its names cannot form one. */
export function toolHostname(
  namespace: string,
  instance: string,
  toolDomain: string,
  sharedNamespace: string,
): string | undefined {
  if (!LABEL.test(instance) || instance.includes('--')) return undefined;
  const label = namespace === sharedNamespace ? instance : `${instance}--${namespace}`;
  if (!LABEL.test(label) || !LABEL.test(namespace)) return undefined;
  return `${label}.${toolDomain}`;
}
