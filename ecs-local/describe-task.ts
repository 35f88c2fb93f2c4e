// A task as ECS's DescribeTasks (and RunTask, StopTask) answer it: the wire shape
// of a TaskRecord, with the ENI's details only once it exists, as Fargate does.
import { taskHealth } from './health-checks.ts';
import { compact, epochSeconds } from './protocol.ts';
import type { TaskRecord } from './task-record.ts';

export function describeTask(
  task: TaskRecord,
  region: string,
  includeTags: boolean,
): Record<string, unknown> {
  const eni = task.eni;
  const eniCreated = eni.ip !== undefined;
  const details = [{ name: 'subnetId', value: eni.subnetId }];
  if (eniCreated) {
    details.push(
      { name: 'networkInterfaceId', value: eni.eniId },
      { name: 'macAddress', value: eni.mac },
      {
        name: 'privateDnsName',
        value: `ip-${eni.ip!.replaceAll('.', '-')}.${region}.compute.internal`,
      },
      { name: 'privateIPv4Address', value: eni.ip! },
    );
  }
  return compact({
    attachments: [
      { id: eni.attachmentId, type: 'ElasticNetworkInterface', status: eni.status, details },
    ],
    attributes: [{ name: 'ecs.cpu-architecture', value: 'x86_64' }],
    availabilityZone: eni.availabilityZone,
    capacityProviderName: task.capacityProviderName,
    clusterArn: task.cluster.arn,
    connectivity: eniCreated ? 'CONNECTED' : undefined,
    connectivityAt: epochSeconds(task.connectivityAt),
    containers: task.containers.map((c) =>
      compact({
        containerArn: c.arn,
        taskArn: task.arn,
        name: c.name,
        image: c.image,
        runtimeId: c.process ? c.runtimeId : undefined,
        lastStatus: c.lastStatus,
        exitCode: c.exitCode,
        reason: c.reason,
        networkBindings: [],
        networkInterfaces: eniCreated
          ? [{ attachmentId: eni.attachmentId, privateIpv4Address: eni.ip }]
          : [],
        healthStatus: c.health?.status ?? 'UNKNOWN',
        cpu: String(c.override?.cpu ?? c.def.cpu ?? 0),
        memory:
          (c.override?.memory ?? c.def.memory) === undefined
            ? undefined
            : String(c.override?.memory ?? c.def.memory),
      }),
    ),
    cpu: task.cpu,
    createdAt: epochSeconds(task.createdAt),
    desiredStatus: task.desiredStatus,
    enableExecuteCommand: false,
    ephemeralStorage: { sizeInGiB: 20 },
    executionStoppedAt: epochSeconds(task.executionStoppedAt),
    group: task.group,
    healthStatus: taskHealth(
      task.containers.map((c) => ({
        essential: c.essential,
        hasCheck: c.def.healthCheck !== undefined,
        health: c.health?.status ?? 'UNKNOWN',
      })),
    ),
    lastStatus: task.lastStatus,
    launchType: task.launchType,
    memory: task.memory,
    overrides: {
      containerOverrides:
        task.overrides.containerOverrides ?? task.containers.map((c) => ({ name: c.name })),
      inferenceAcceleratorOverrides: [],
      ...(task.overrides.cpu ? { cpu: task.overrides.cpu } : {}),
      ...(task.overrides.memory ? { memory: task.overrides.memory } : {}),
    },
    platformVersion: task.platformVersion,
    platformFamily: 'Linux',
    pullStartedAt: epochSeconds(task.pullStartedAt),
    pullStoppedAt: epochSeconds(task.pullStoppedAt),
    startedAt: epochSeconds(task.startedAt),
    startedBy: task.startedBy,
    stopCode: task.stopCode,
    stoppedAt: epochSeconds(task.stoppedAt),
    stoppedReason: task.stoppedReason,
    stoppingAt: epochSeconds(task.stoppingAt),
    tags: includeTags ? task.tags : undefined,
    taskArn: task.arn,
    taskDefinitionArn: task.definition.arn,
    version: task.version,
  });
}
