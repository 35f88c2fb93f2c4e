// The security group check on its own (no AWS): which rules are refused on which
// tool ports, the proxy warning, and the launch guard's cache of the groups.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  checkSecurityGroupRules,
  type IngressRule,
  SecurityGroupGuard,
  type SecurityGroupRules,
} from '../../controllers/index.ts';

const rule = (r: Partial<IngressRule>): IngressRule => ({
  protocol: 'tcp',
  cidrs: [],
  ipv6Cidrs: [],
  groups: [],
  prefixLists: [],
  ...r,
});
const group = (ingress: IngressRule[], id = 'sg-tools'): SecurityGroupRules => ({ id, ingress });
const proxyRule = rule({ fromPort: 0, toPort: 65535, groups: ['sg-proxy'] });
const errors = (g: SecurityGroupRules[], ports = [8000, 8888]) =>
  checkSecurityGroupRules(g, ports, 'sg-proxy').filter((f) => !f.ok && f.severity === 'error');

test('only the proxy admitted: one passing finding', () => {
  const findings = checkSecurityGroupRules([group([proxyRule])], [8000, 8888], 'sg-proxy');
  assert.deepEqual(
    findings.map((f) => f.ok),
    [true],
  );
});

test('the world, ::/0 or the group itself on a tool port is refused; elsewhere it is not', () => {
  assert.equal(
    errors([group([proxyRule, rule({ fromPort: 8888, toPort: 8888, cidrs: ['0.0.0.0/0'] })])])
      .length,
    1,
  );
  assert.equal(
    errors([group([proxyRule, rule({ fromPort: 8000, toPort: 9000, ipv6Cidrs: ['::/0'] })])])
      .length,
    1,
  );
  assert.equal(
    errors([group([proxyRule, rule({ fromPort: 8000, toPort: 8000, groups: ['sg-tools'] })])])
      .length,
    1,
  );
  assert.equal(
    errors([group([proxyRule, rule({ protocol: '-1', cidrs: ['0.0.0.0/0'] })])]).length,
    1,
  );
  // Not a tool port, not TCP, another group, a narrower range: none of these.
  assert.equal(
    errors([group([proxyRule, rule({ fromPort: 22, toPort: 22, cidrs: ['0.0.0.0/0'] })])]).length,
    0,
  );
  assert.equal(
    errors([
      group([
        proxyRule,
        rule({ protocol: 'udp', fromPort: 8000, toPort: 8000, cidrs: ['0.0.0.0/0'] }),
      ]),
    ]).length,
    0,
  );
  assert.equal(
    errors([group([proxyRule, rule({ fromPort: 8000, toPort: 8000, groups: ['sg-other'] })])])
      .length,
    0,
  );
  assert.equal(
    errors([group([proxyRule, rule({ fromPort: 8000, toPort: 8000, cidrs: ['10.0.0.0/16'] })])])
      .length,
    0,
  );
});

test('a refusal names the group, the rule and the ports, with the command that removes it', () => {
  const [f] = errors([
    group([proxyRule, rule({ protocol: '6', fromPort: 7000, toPort: 9000, cidrs: ['0.0.0.0/0'] })]),
  ]);
  assert.match(
    f!.message,
    /sg-tools admits 0\.0\.0\.0\/0 on tool ports 8000, 8888 \(rule: 6 ports 7000-9000 from 0\.0\.0\.0\/0\)/,
  );
  assert.match(
    f!.fix!,
    /revoke-security-group-ingress --group-id sg-tools --ip-permissions 'IpProtocol=6,FromPort=7000,ToPort=9000,IpRanges=\[\{CidrIp=0\.0\.0\.0\/0\}\]'/,
  );
});

test('a warning, not a refusal, when no rule admits the proxy on a tool port', () => {
  const findings = checkSecurityGroupRules(
    [group([rule({ fromPort: 8000, toPort: 8000, groups: ['sg-proxy'] })])],
    [8000, 8888],
    'sg-proxy',
  );
  assert.equal(findings.length, 1);
  assert.equal(findings[0]!.severity, 'warning');
  assert.match(findings[0]!.message, /admits the proxy's group sg-proxy on tool port 8888:/);
});

test('the guard reads the groups once per TTL, and again at once after a refusal', async () => {
  let now = 0;
  let reads = 0;
  let rules = [proxyRule];
  const guard = new SecurityGroupGuard({
    groupIds: ['sg-tools'],
    proxyGroup: 'sg-proxy',
    ttlMs: 1000,
    now: () => now,
    read: async () => {
      reads += 1;
      return [group(rules)];
    },
  });
  await Promise.all([guard.check([8000]), guard.check([8000])]);
  assert.equal(reads, 1, 'concurrent checks share one read');
  rules = [proxyRule, rule({ protocol: '-1', cidrs: ['0.0.0.0/0'] })];
  await guard.check([8000]);
  assert.equal(reads, 1, 'cached within the TTL');
  now = 1500;
  await assert.rejects(guard.check([8000]), { name: 'UnsafeSecurityGroup' });
  assert.equal(reads, 2);
  rules = [proxyRule];
  await guard.check([8000]);
  assert.equal(reads, 3, 'read again at once after the refusal');
  await assert.rejects(
    new SecurityGroupGuard({ groupIds: [], read: async () => [] }).check([8000]),
    /No security groups are configured/,
  );
});
