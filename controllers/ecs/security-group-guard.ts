// Before every RunTask: are the security groups tools are launched into safe
// (security-group-rules.ts)? Their rules are facts about the outside world, so
// they are a cache: read again after `ttlMs`, and at once after a refusal (so a
// fixed group is seen at the next launch attempt). Concurrent checks share one read.
import {
  checkSecurityGroupRules,
  refusals,
  type SecurityGroupRules,
} from './security-group-rules.ts';

/** A launch refused because a tools' security group admits more than the proxy. */
export class UnsafeSecurityGroupError extends Error {
  override name = 'UnsafeSecurityGroup';
}

export interface SecurityGroupGuardOptions {
  groupIds: string[];
  proxyGroup?: string;
  read(ids: string[]): Promise<SecurityGroupRules[]>;
  ttlMs?: number;
  now?: () => number;
  /** Told once per distinct warning (e.g. the proxy is not admitted). */
  onWarning?(message: string): void;
}

export class SecurityGroupGuard {
  private readonly o: SecurityGroupGuardOptions;
  private cached: { groups: SecurityGroupRules[]; at: number } | undefined;
  private reading: Promise<SecurityGroupRules[]> | undefined;
  private readonly warned = new Set<string>();

  constructor(options: SecurityGroupGuardOptions) {
    this.o = options;
  }

  /** Resolves when tools may be launched on `toolPorts`; throws UnsafeSecurityGroupError otherwise. */
  async check(toolPorts: number[]): Promise<void> {
    if (this.o.groupIds.length === 0) {
      throw new UnsafeSecurityGroupError(
        "No security groups are configured (BERTH_ECS_SECURITY_GROUPS): ECS would put tools in the VPC's default group, which admits itself on every port.",
      );
    }
    const groups = await this.groups();
    const findings = checkSecurityGroupRules(groups, toolPorts, this.o.proxyGroup);
    for (const f of findings) {
      if (f.severity === 'warning' && !this.warned.has(f.message)) {
        this.warned.add(f.message);
        this.o.onWarning?.(f.message);
      }
    }
    const refused = refusals(findings);
    if (refused.length > 0) {
      this.cached = undefined; // look again at the next attempt
      throw new UnsafeSecurityGroupError(refused.map((f) => f.message).join(' '));
    }
  }

  private async groups(): Promise<SecurityGroupRules[]> {
    const now = (this.o.now ?? Date.now)();
    if (this.cached && now - this.cached.at < (this.o.ttlMs ?? 300_000)) return this.cached.groups;
    this.reading ??= this.o
      .read(this.o.groupIds)
      .then((groups) => {
        this.cached = { groups, at: (this.o.now ?? Date.now)() };
        return groups;
      })
      .finally(() => {
        this.reading = undefined;
      });
    return this.reading;
  }
}
