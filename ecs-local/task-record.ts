// What ecs-local knows of a task and its containers: the records the task engine
// (tasks.ts) moves through ECS's lifecycle and describe-task.ts answers from.
import type { ClusterRecord } from './clusters.ts';
import type { HealthMonitor } from './health-checks.ts';
import type { ContainerProcess } from './runner.ts';
import type { Tag } from './tags.ts';
import type { ContainerDefinition, TaskDefinitionRecord } from './task-definitions.ts';

export type TaskStatus =
  | 'PROVISIONING'
  | 'PENDING'
  | 'ACTIVATING'
  | 'RUNNING'
  | 'DEACTIVATING'
  | 'STOPPING'
  | 'DEPROVISIONING'
  | 'STOPPED';

export type StopCode =
  | 'TaskFailedToStart'
  | 'EssentialContainerExited'
  | 'UserInitiated'
  | 'ServiceSchedulerInitiated'
  | 'SpotInterruption'
  | 'TerminationNotice';

export interface ContainerOverride {
  name: string;
  command?: string[] | undefined;
  environment?: { name: string; value: string }[] | undefined;
  cpu?: number | undefined;
  memory?: number | undefined;
  memoryReservation?: number | undefined;
}

export interface TaskOverrides {
  containerOverrides?: ContainerOverride[] | undefined;
  cpu?: string | undefined;
  memory?: string | undefined;
  [key: string]: unknown;
}

export interface ContainerRecord {
  name: string;
  def: ContainerDefinition;
  runtimeId: string;
  arn: string;
  image: string;
  essential: boolean;
  stopTimeoutMs: number;
  override: ContainerOverride | undefined;
  lastStatus: 'PENDING' | 'RUNNING' | 'STOPPED';
  exitCode: number | undefined;
  reason: string | undefined;
  process: ContainerProcess | undefined;
  /** The port it is told to bind (first port mapping), if any. */
  port: number | undefined;
  /** Environment it was started with (kept for the metadata endpoint). */
  env: Record<string, string>;
  startedAt: number | undefined;
  finishedAt: number | undefined;
  /** Where the start sequence is with it (dependsOn). */
  startup: 'waiting' | 'starting' | 'started' | 'failed';
  /** Its start (or restart) in progress, which a stop waits for. */
  launching: Promise<void> | undefined;
  /** Runs its health check while it runs; none without a healthCheck. */
  health: HealthMonitor | undefined;
  /** Restarts in place (restartPolicy), and when the last one was. */
  restartCount: number;
  lastRestartAt: number | undefined;
  /** Its mountPoints with the local folders standing in for them. */
  mounts: { containerPath: string; localPath: string }[];
}

export interface Eni {
  attachmentId: string;
  status: 'PRECREATED' | 'ATTACHED' | 'DETACHING' | 'DELETED';
  eniId: string;
  mac: string;
  subnetId: string;
  availabilityZone: string;
  securityGroups: string[];
  ip: string | undefined;
}

export interface TaskRecord {
  seq: number;
  id: string;
  arn: string;
  cluster: ClusterRecord;
  definition: TaskDefinitionRecord;
  overrides: TaskOverrides;
  startedBy: string | undefined;
  group: string;
  launchType: 'FARGATE';
  capacityProviderName: string;
  platformVersion: string;
  cpu: string | undefined;
  memory: string | undefined;
  tags: Tag[];
  lastStatus: TaskStatus;
  desiredStatus: 'RUNNING' | 'STOPPED';
  stopCode: StopCode | undefined;
  stoppedReason: string | undefined;
  createdAt: number;
  pullStartedAt: number | undefined;
  pullStoppedAt: number | undefined;
  connectivityAt: number | undefined;
  startedAt: number | undefined;
  stoppingAt: number | undefined;
  executionStoppedAt: number | undefined;
  stoppedAt: number | undefined;
  version: number;
  eni: Eni;
  containers: ContainerRecord[];
  timer: NodeJS.Timeout | undefined;
  /** Every container started or given up on: the task may go on to ACTIVATING. */
  startupDone: boolean;
  /** Its volumes' local folders, by volume name (made at the end of PENDING). */
  volumes: Record<string, string>;
}

export interface NewTask {
  cluster: ClusterRecord;
  definition: TaskDefinitionRecord;
  overrides: TaskOverrides;
  startedBy: string | undefined;
  group: string | undefined;
  capacityProviderName: string;
  platformVersion: string | undefined;
  tags: Tag[];
  subnetId: string;
  securityGroups: string[];
}
