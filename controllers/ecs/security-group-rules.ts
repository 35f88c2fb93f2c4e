// The tools' security groups must admit only the proxy on tool ports: a group
// that admits itself lets one user's task reach another's around the proxy; one
// that admits 0.0.0.0/0 or ::/0 lets anyone. A pure check over the groups'
// ingress rules (as DescribeSecurityGroups gives them); used by the preflight
// (`berth doctor`) and before every RunTask (security-group-guard.ts).
import type { SecurityGroup } from '@aws-sdk/client-ec2';
import type { PreflightFinding } from './preflight.ts';

/** The default of BERTH_GATE_PORT (controllers/reconcilers/config.ts): the gate's published port in every task. */
export const GATE_PORT = 8000;

/** One ingress rule (EC2's IpPermission). */
export interface IngressRule {
  /** `tcp`, `udp`, `icmp`, a protocol number, or `-1` (every protocol and port). */
  protocol: string;
  fromPort?: number;
  toPort?: number;
  cidrs: string[];
  ipv6Cidrs: string[];
  /** Security group IDs admitted. */
  groups: string[];
  prefixLists: string[];
}

export interface SecurityGroupRules {
  id: string;
  name?: string;
  vpcId?: string;
  ingress: IngressRule[];
}

export const CHECK = 'Security group rules';

const allProtocols = (r: IngressRule) => r.protocol === '-1' || r.protocol.toLowerCase() === 'all';
const isTcp = (r: IngressRule) => r.protocol.toLowerCase() === 'tcp' || r.protocol === '6';

/** The tool ports a rule lets through (every one for protocol -1). */
function portsCovered(rule: IngressRule, toolPorts: number[]): number[] {
  if (allProtocols(rule)) return toolPorts;
  if (!isTcp(rule)) return [];
  const from = rule.fromPort ?? 0;
  const to = rule.toPort ?? 65535;
  return toolPorts.filter((p) => p >= from && p <= to);
}

/** `tcp 8000-8000` / `all traffic`, as the console shows a rule. */
function describeRule(rule: IngressRule, source: string): string {
  if (allProtocols(rule)) return `all traffic from ${source}`;
  const ports =
    rule.fromPort === rule.toPort
      ? `port ${rule.fromPort}`
      : `ports ${rule.fromPort}-${rule.toPort}`;
  return `${rule.protocol} ${ports} from ${source}`;
}

function revokeCommand(group: string, rule: IngressRule, source: string, kind: string): string {
  const ports = allProtocols(rule) ? '' : `,FromPort=${rule.fromPort},ToPort=${rule.toPort}`;
  const what =
    kind === 'group'
      ? `UserIdGroupPairs=[{GroupId=${source}}]`
      : kind === 'ipv6'
        ? `Ipv6Ranges=[{CidrIpv6=${source}}]`
        : `IpRanges=[{CidrIp=${source}}]`;
  return `aws ec2 revoke-security-group-ingress --group-id ${group} --ip-permissions 'IpProtocol=${rule.protocol}${ports},${what}'`;
}

/**
 * Errors for every rule that admits its own group, 0.0.0.0/0 or ::/0 on a tool
 * port; a warning when `proxyGroup` is given and no rule admits it on some tool
 * port; one passing finding when all is well.
 */
export function checkSecurityGroupRules(
  groups: SecurityGroupRules[],
  toolPorts: number[],
  proxyGroup?: string,
): PreflightFinding[] {
  const ports = [...new Set(toolPorts)].sort((a, b) => a - b);
  const findings: PreflightFinding[] = [];
  for (const g of groups) {
    const label = g.name ? `${g.id} ("${g.name}")` : g.id;
    for (const rule of g.ingress) {
      const covered = portsCovered(rule, ports);
      if (covered.length === 0) continue;
      const sources: [string, string, string][] = [
        ...rule.cidrs
          .filter((c) => c === '0.0.0.0/0')
          .map((c) => [c, 'ipv4', 'anyone'] as [string, string, string]),
        ...rule.ipv6Cidrs
          .filter((c) => c === '::/0')
          .map((c) => [c, 'ipv6', 'anyone'] as [string, string, string]),
        ...rule.groups
          .filter((id) => id === g.id)
          .map(
            (id) =>
              [
                id,
                'group',
                'every task in that group, so one user\u2019s tool can reach another\u2019s',
              ] as [string, string, string],
          ),
      ];
      for (const [source, kind, who] of sources) {
        const which =
          covered.length === 1 ? `tool port ${covered[0]}` : `tool ports ${covered.join(', ')}`;
        findings.push({
          ok: false,
          severity: 'error',
          check: CHECK,
          message: `Security group ${label} admits ${source} on ${which} (rule: ${describeRule(rule, source)}): that lets ${who} reach tools around the proxy, so berth will not launch tools into it.`,
          fix: `Remove the rule (${revokeCommand(g.id, rule, source, kind)}) and admit only the proxy's security group on the tool ports.`,
        });
      }
    }
  }
  if (proxyGroup) {
    const unreachable = ports.filter(
      (p) =>
        !groups.some((g) =>
          g.ingress.some((r) => r.groups.includes(proxyGroup) && portsCovered(r, [p]).length > 0),
        ),
    );
    if (unreachable.length > 0) {
      findings.push({
        ok: false,
        severity: 'warning',
        check: CHECK,
        message: `No rule of the tools' security groups (${groups.map((g) => g.id).join(', ')}) admits the proxy's group ${proxyGroup} on tool port${unreachable.length === 1 ? '' : 's'} ${unreachable.join(', ')}: the proxy could not reach those tools.`,
        fix: `Add one: aws ec2 authorize-security-group-ingress --group-id ${groups[0]?.id ?? '<group>'} --protocol tcp --port ${unreachable[0]} --source-group ${proxyGroup}`,
      });
    }
  }
  if (!findings.some((f) => !f.ok)) {
    findings.push({
      ok: true,
      check: CHECK,
      message: `No rule admits its own group, 0.0.0.0/0 or ::/0 on tool ports ${ports.join(', ')}${proxyGroup ? `; the proxy's group ${proxyGroup} is admitted` : ''}.`,
    });
  }
  return findings;
}

/** The refusals among `findings` (severity error). */
export function refusals(findings: PreflightFinding[]): PreflightFinding[] {
  return findings.filter((f) => !f.ok && f.severity !== 'warning');
}

/** A group as DescribeSecurityGroups answers it, as the check reads it. */
export function rulesOf(g: SecurityGroup): SecurityGroupRules {
  return {
    id: g.GroupId ?? '',
    name: g.GroupName,
    vpcId: g.VpcId,
    ingress: (g.IpPermissions ?? []).map((p) => ({
      protocol: p.IpProtocol ?? '-1',
      fromPort: p.FromPort,
      toPort: p.ToPort,
      cidrs: (p.IpRanges ?? []).flatMap((r) => (r.CidrIp ? [r.CidrIp] : [])),
      ipv6Cidrs: (p.Ipv6Ranges ?? []).flatMap((r) => (r.CidrIpv6 ? [r.CidrIpv6] : [])),
      groups: (p.UserIdGroupPairs ?? []).flatMap((u) => (u.GroupId ? [u.GroupId] : [])),
      prefixLists: (p.PrefixListIds ?? []).flatMap((l) => (l.PrefixListId ? [l.PrefixListId] : [])),
    })),
  };
}
