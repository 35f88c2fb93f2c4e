// The EC2 Query protocol subset berth uses: DescribeSubnets,
// DescribeSecurityGroups, DescribeNetworkInterfaces. Form-encoded in, XML out,
// over a small configured default VPC; task ENIs come from the running tasks.
import type { EcsLocalConfig } from './config.ts';
import type { TaskEngine } from './tasks.ts';

const XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/';

export class Ec2Error extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

const esc = (v: unknown) =>
  String(v)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;');

/** `{a: 1, b: [..]}` -> `<a>1</a><b><item>..</item></b>`; arrays become EC2's item lists. */
function xml(value: unknown): string {
  if (Array.isArray(value)) return value.map((v) => `<item>${xml(v)}</item>`).join('');
  if (value && typeof value === 'object') {
    return Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `<${k}>${xml(v)}</${k}>`)
      .join('');
  }
  return esc(value);
}

/** `Prefix.1=a&Prefix.2=b` -> [a, b]. */
function listParam(form: URLSearchParams, prefix: string): string[] {
  const out: [number, string][] = [];
  for (const [k, v] of form) {
    const m = new RegExp(`^${prefix.replace('.', '\\.')}\\.(\\d+)$`).exec(k);
    if (m) out.push([Number(m[1]), v]);
  }
  return out.sort((a, b) => a[0] - b[0]).map(([, v]) => v);
}

function filters(form: URLSearchParams): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [k, name] of form) {
    const m = /^Filter\.(\d+)\.Name$/.exec(k);
    if (m) out.set(name, listParam(form, `Filter.${m[1]}.Value`));
  }
  return out;
}

type Fields = Record<string, (item: never) => string | string[] | undefined>;

function applyFilters<T>(items: T[], form: URLSearchParams, fields: Fields): T[] {
  const f = filters(form);
  for (const name of f.keys()) {
    if (!(name in fields))
      throw new Ec2Error('InvalidParameterValue', `The filter '${name}' is invalid`);
  }
  return items.filter((item) =>
    [...f].every(([name, values]) => {
      const actual = (fields[name] as (i: T) => string | string[] | undefined)(item);
      const list = Array.isArray(actual) ? actual : [actual];
      return values.some((v) => list.includes(v));
    }),
  );
}

export function ec2Response(
  action: string,
  requestId: string,
  body: Record<string, unknown>,
): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${XMLNS}"><requestId>${requestId}</requestId>${xml(body)}</${action}Response>`;
}

export function ec2ErrorXml(err: Ec2Error, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${esc(err.code)}</Code><Message>${esc(err.message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
}

export function handleEc2(
  config: EcsLocalConfig,
  engine: TaskEngine,
  form: URLSearchParams,
): { action: string; body: Record<string, unknown> } {
  const action = form.get('Action') ?? '';
  const net = config.network;
  const owner = config.accountId;
  if (action === 'DescribeSubnets') {
    const ids = listParam(form, 'SubnetId');
    for (const id of ids) {
      if (!net.subnets.some((s) => s.subnetId === id)) {
        throw new Ec2Error('InvalidSubnetID.NotFound', `The subnet ID '${id}' does not exist`);
      }
    }
    let subnets = net.subnets.filter((s) => ids.length === 0 || ids.includes(s.subnetId));
    subnets = applyFilters(subnets, form, {
      'vpc-id': () => net.vpcId,
      'subnet-id': (s: (typeof subnets)[number]) => s.subnetId,
      'availability-zone': (s: (typeof subnets)[number]) => `${config.region}${s.availabilityZone}`,
      'default-for-az': () => 'true',
      state: () => 'available',
    } as Fields);
    return {
      action,
      body: {
        subnetSet: subnets.map((s) => ({
          subnetId: s.subnetId,
          subnetArn: `arn:aws:ec2:${config.region}:${owner}:subnet/${s.subnetId}`,
          state: 'available',
          vpcId: net.vpcId,
          cidrBlock: s.cidrBlock,
          availableIpAddressCount: 4091,
          availabilityZone: `${config.region}${s.availabilityZone}`,
          defaultForAz: true,
          mapPublicIpOnLaunch: false,
          ownerId: owner,
          tagSet: [],
        })),
      },
    };
  }
  if (action === 'DescribeSecurityGroups') {
    const ids = listParam(form, 'GroupId');
    const names = listParam(form, 'GroupName');
    for (const id of ids) {
      if (!net.securityGroups.some((g) => g.groupId === id)) {
        throw new Ec2Error('InvalidGroup.NotFound', `The security group '${id}' does not exist`);
      }
    }
    for (const name of names) {
      if (!net.securityGroups.some((g) => g.groupName === name)) {
        throw new Ec2Error(
          'InvalidGroup.NotFound',
          `The security group '${name}' does not exist in default VPC '${net.vpcId}'`,
        );
      }
    }
    let groups = net.securityGroups.filter(
      (g) =>
        (ids.length === 0 && names.length === 0) ||
        ids.includes(g.groupId) ||
        names.includes(g.groupName),
    );
    groups = applyFilters(groups, form, {
      'vpc-id': () => net.vpcId,
      'group-id': (g: (typeof groups)[number]) => g.groupId,
      'group-name': (g: (typeof groups)[number]) => g.groupName,
    } as Fields);
    return {
      action,
      body: {
        securityGroupInfo: groups.map((g) => ({
          ownerId: owner,
          groupId: g.groupId,
          groupName: g.groupName,
          groupDescription: g.description,
          vpcId: net.vpcId,
          securityGroupArn: `arn:aws:ec2:${config.region}:${owner}:security-group/${g.groupId}`,
          ipPermissions: g.ipPermissions.map((p) => ({
            ipProtocol: p.ipProtocol,
            fromPort: p.fromPort,
            toPort: p.toPort,
            groups: p.userIdGroupPairs.map((u) => ({
              userId: owner,
              groupId: u.groupId,
              description: u.description,
            })),
            ipRanges: p.ipRanges,
            ipv6Ranges: p.ipv6Ranges,
            prefixListIds: p.prefixListIds,
          })),
          ipPermissionsEgress: [
            {
              ipProtocol: '-1',
              groups: [],
              ipRanges: [{ cidrIp: '0.0.0.0/0' }],
              ipv6Ranges: [],
              prefixListIds: [],
            },
          ],
          tagSet: [],
        })),
      },
    };
  }
  if (action === 'DescribeNetworkInterfaces') {
    const ids = listParam(form, 'NetworkInterfaceId');
    const attached = engine.all().filter((t) => t.eni.status === 'ATTACHED' && t.eni.ip);
    for (const id of ids) {
      if (!attached.some((t) => t.eni.eniId === id)) {
        throw new Ec2Error(
          'InvalidNetworkInterfaceID.NotFound',
          `The networkInterface ID '${id}' does not exist`,
        );
      }
    }
    type T = (typeof attached)[number];
    let tasks = attached.filter((t) => ids.length === 0 || ids.includes(t.eni.eniId));
    tasks = applyFilters(tasks, form, {
      'network-interface-id': (t: T) => t.eni.eniId,
      'subnet-id': (t: T) => t.eni.subnetId,
      'vpc-id': () => net.vpcId,
      'private-ip-address': (t: T) => t.eni.ip,
      'addresses.private-ip-address': (t: T) => t.eni.ip,
      'group-id': (t: T) => t.eni.securityGroups,
      status: () => 'in-use',
    } as Fields);
    return {
      action,
      body: {
        networkInterfaceSet: tasks.map((t) => ({
          networkInterfaceId: t.eni.eniId,
          subnetId: t.eni.subnetId,
          vpcId: net.vpcId,
          availabilityZone: t.eni.availabilityZone,
          description: `arn:aws:ecs:${config.region}:${owner}:attachment/${t.eni.attachmentId}`,
          ownerId: owner,
          requesterManaged: true,
          status: 'in-use',
          macAddress: t.eni.mac,
          privateIpAddress: t.eni.ip,
          privateDnsName: `ip-${t.eni.ip!.replaceAll('.', '-')}.${config.region}.compute.internal`,
          sourceDestCheck: true,
          interfaceType: 'interface',
          groupSet: t.eni.securityGroups.map((g) => ({
            groupId: g,
            groupName: net.securityGroups.find((s) => s.groupId === g)?.groupName,
          })),
          privateIpAddressesSet: [{ privateIpAddress: t.eni.ip, primary: true }],
          tagSet: [],
        })),
      },
    };
  }
  throw new Ec2Error(
    'InvalidAction',
    `The action ${action || '(none)'} is not valid for this web service.`,
  );
}
