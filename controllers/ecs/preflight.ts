// Preflight: does the configured cluster, and do the subnets and security groups
// tasks will use, exist, and do those groups admit only the proxy on tool ports
// (security-group-rules.ts)? Each finding says what was checked, what is wrong in
// words a new user understands, and how to fix it. Used by `berth doctor` and at
// controller start.
import type { Cluster } from '@aws-sdk/client-ecs';
import type { EcsDriverConfig } from './config.ts';
import {
  checkSecurityGroupRules,
  GATE_PORT,
  type SecurityGroupRules,
} from './security-group-rules.ts';

export interface PreflightFinding {
  ok: boolean;
  check: string;
  message: string;
  /** What to do about it (failed checks only). */
  fix?: string;
  /** A failed check's weight: an error refuses (the default), a warning only tells. */
  severity?: 'error' | 'warning';
}

export interface NetworkThing {
  id: string;
  vpcId?: string;
}

export interface PreflightDeps {
  describeCluster(name: string): Promise<Cluster | undefined>;
  describeSubnets(ids: string[]): Promise<NetworkThing[]>;
  describeSecurityGroups(ids: string[]): Promise<SecurityGroupRules[]>;
}

/** `toolPorts`: the ports tools listen on in their tasks (every ToolDefinition's, and the gate's). */
export async function runPreflight(
  config: EcsDriverConfig,
  deps: PreflightDeps,
  toolPorts: number[] = [GATE_PORT],
): Promise<PreflightFinding[]> {
  const where = config.endpoint ? `ecs-local at ${config.endpoint}` : `AWS region ${config.region}`;
  const findings: PreflightFinding[] = [];

  // 1. The cluster (and with it: can we reach ECS at all, are the credentials good).
  let cluster: Cluster | undefined;
  try {
    cluster = await deps.describeCluster(config.cluster);
  } catch (err) {
    findings.push(unreachable('ECS reachable', 'ECS', where, config, err));
    return findings; // nothing else can be checked meaningfully
  }
  if (!cluster) {
    findings.push({
      ok: false,
      check: 'ECS cluster',
      message: `The ECS cluster "${config.cluster}" does not exist in ${where}.`,
      fix: `Create it (aws ecs create-cluster --cluster-name ${config.cluster}${endpointFlag(config)}) or set BERTH_ECS_CLUSTER to the name of an existing cluster.`,
    });
  } else {
    findings.push({
      ok: true,
      check: 'ECS cluster',
      message: `Cluster "${cluster.clusterName ?? config.cluster}" exists (${cluster.status ?? 'ACTIVE'}).`,
    });
    const providers = cluster.capacityProviders ?? [];
    if (!providers.includes(config.capacityProvider)) {
      findings.push({
        ok: false,
        check: 'Fargate capacity provider',
        message: `The cluster "${config.cluster}" cannot run ${config.capacityProvider} tasks: that capacity provider is not attached to it (attached: ${providers.length ? providers.join(', ') : 'none'}).`,
        fix: `Attach it: aws ecs put-cluster-capacity-providers --cluster ${config.cluster} --capacity-providers FARGATE FARGATE_SPOT --default-capacity-provider-strategy capacityProvider=FARGATE,weight=1${endpointFlag(config)}`,
      });
    } else {
      findings.push({
        ok: true,
        check: 'Fargate capacity provider',
        message: `The cluster can run ${config.capacityProvider} tasks.`,
      });
    }
  }

  // 2. Subnets and 3. security groups.
  const subnets = await checkNetworkThings(
    {
      check: 'Subnets',
      noun: 'subnet',
      envVar: 'BERTH_ECS_SUBNETS',
      example: 'subnet-0abc1234,subnet-0def5678',
      advice:
        'private subnets of the VPC, in two or more availability zones, with a route to ECR (a NAT gateway or VPC endpoints)',
      why: "ECS would not know where to put a task's network interface",
    },
    config.subnets,
    deps.describeSubnets,
    where,
    config,
  );
  findings.push(...subnets.findings);
  const groups = await checkNetworkThings(
    {
      check: 'Security groups',
      noun: 'security group',
      envVar: 'BERTH_ECS_SECURITY_GROUPS',
      example: 'sg-0abc1234',
      advice: "a group that lets the berth proxy reach the tools' ports",
      why: 'nothing would let the berth proxy reach the tools',
    },
    config.securityGroups,
    deps.describeSecurityGroups,
    where,
    config,
  );
  findings.push(...groups.findings);
  if (groups.found.length > 0 && groups.findings.every((f) => f.ok)) {
    findings.push(
      ...checkSecurityGroupRules(
        groups.found as SecurityGroupRules[],
        toolPorts,
        config.proxySecurityGroup,
      ),
    );
  }

  // 4. awsvpc tasks need their subnets and security groups in one VPC.
  const vpcs = new Set(
    [...subnets.found, ...groups.found].map((t) => t.vpcId).filter((v) => v !== undefined),
  );
  if (vpcs.size > 1) {
    findings.push({
      ok: false,
      check: 'One VPC',
      message: `The subnets and security groups belong to different VPCs (${[...vpcs].join(', ')}); a task's network interface needs them all in one VPC.`,
      fix: 'Choose subnets and security groups from the same VPC.',
    });
  }
  return findings;
}

interface ThingInfo {
  check: string;
  noun: string;
  envVar: string;
  example: string;
  advice: string;
  /** What goes wrong without any. */
  why: string;
}

async function checkNetworkThings(
  info: ThingInfo,
  ids: string[],
  describe: (ids: string[]) => Promise<NetworkThing[]>,
  where: string,
  config: EcsDriverConfig,
): Promise<{ findings: PreflightFinding[]; found: NetworkThing[] }> {
  if (ids.length === 0) {
    return {
      found: [],
      findings: [
        {
          ok: false,
          check: info.check,
          message: `No ${info.noun}s are configured, so ${info.why}.`,
          fix: `Set ${info.envVar}=${info.example} (${info.advice}).`,
        },
      ],
    };
  }
  let found: NetworkThing[];
  try {
    found = await describe(ids);
  } catch (err) {
    if (!isNotFound(err))
      return { found: [], findings: [unreachable(info.check, 'EC2', where, config, err)] };
    // EC2 fails the whole call when one ID is unknown; ask one by one to say which.
    found = [];
    for (const id of ids) {
      try {
        found.push(...(await describe([id])));
      } catch (e) {
        if (!isNotFound(e))
          return { found: [], findings: [unreachable(info.check, 'EC2', where, config, e)] };
      }
    }
  }
  const known = new Set(found.map((t) => t.id));
  const missing = ids.filter((id) => !known.has(id));
  if (missing.length > 0) {
    return {
      found,
      findings: [
        {
          ok: false,
          check: info.check,
          message: `${missing.length === 1 ? `The ${info.noun}` : `These ${info.noun}s`} ${missing.map((m) => `"${m}"`).join(', ')} ${missing.length === 1 ? 'does' : 'do'} not exist in ${where}.`,
          fix: `Correct ${info.envVar} (now "${ids.join(',')}") to ${info.noun}s that exist: list them with aws ec2 ${info.noun === 'subnet' ? 'describe-subnets' : 'describe-security-groups'}${endpointFlag(config)}.`,
        },
      ],
    };
  }
  return {
    found,
    findings: [
      {
        ok: true,
        check: info.check,
        message: `${ids.length} ${info.noun}${ids.length === 1 ? '' : 's'} found: ${ids.join(', ')}.`,
      },
    ],
  };
}

function unreachable(
  check: string,
  service: string,
  where: string,
  config: EcsDriverConfig,
  err: unknown,
): PreflightFinding {
  const name = err instanceof Error ? err.name : 'Error';
  const detail = err instanceof Error ? err.message : String(err);
  if (
    /Credential|UnrecognizedClient|InvalidClientTokenId|ExpiredToken|AuthFailure|SignatureDoesNotMatch|InvalidSignature|MissingAuthentication/i.test(
      `${name} ${detail}`,
    )
  ) {
    return {
      ok: false,
      check,
      message: `${service} in ${where} did not accept berth's AWS credentials (${name}).`,
      fix: config.endpoint
        ? 'ecs-local answers only requests signed with its key pair: set BERTH_ECS_ACCESS_KEY_ID and BERTH_ECS_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) to the pair it printed at start (berth up hands its own to its parts).'
        : 'Give berth credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run it with an IAM role.',
    };
  }
  if (/AccessDenied|UnauthorizedOperation/i.test(name)) {
    return {
      ok: false,
      check,
      message: `The AWS identity berth runs as may not call ${service} here (${name}).`,
      fix: 'Grant it the ecs:* task permissions and ec2:DescribeSubnets, ec2:DescribeSecurityGroups (see deploy/).',
    };
  }
  return {
    ok: false,
    check,
    message: `Could not reach ${service} in ${where}: ${detail}`,
    fix: config.endpoint
      ? `Start ecs-local (bin/berth ecs-local) and set BERTH_ECS_ENDPOINT to the address it prints; now it is ${config.endpoint}.`
      : 'Check the network path to AWS and the region (BERTH_ECS_REGION).',
  };
}

function isNotFound(err: unknown): boolean {
  return (
    err instanceof Error && /NotFound|InvalidSubnetID|InvalidGroupId|InvalidGroup\b/.test(err.name)
  );
}

function endpointFlag(config: EcsDriverConfig): string {
  return config.endpoint ? ` --endpoint-url ${config.endpoint}` : '';
}
