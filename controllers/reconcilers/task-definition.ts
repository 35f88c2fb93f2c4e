// Turns a ToolDefinition into the ECS task definition that runs it: the gate
// (sidecars/gate, the one published port: it admits only requests carrying the
// launch's tool secret and forwards them to the tool on the task's loopback), the
// tool container (named `tool`, publishing nothing) plus its declared sidecars,
// the default size as the task's cpu/memory (RunTask overrides pick another
// size), awsvpc on Fargate. The secret and the tool's port reach the gate as
// RunTask overrides (instance-launch.ts): the definition is shared by launches.
// With spec.homePath, a task volume `home` is mounted there in the tool and in
// every sidecar (the tool's HOME, the sidecars' BERTH_HOME), so s3sync keeps it
// in step with the user's files. A sidecar's healthCheck, toolWaitsFor (the
// tool's dependsOn), restartOnExit and stopTimeoutSeconds map to their ECS fields.
// Only the spec goes in, nothing that changes on its own (no timestamps), so the
// driver's content hash registers a new revision exactly when the spec changed.
import type {
  ContainerDefinition,
  ContainerDependency,
  HealthCheck,
  KeyValuePair,
  MountPoint,
  RegisterTaskDefinitionCommandInput,
} from '@aws-sdk/client-ecs';
import type { ContainerHealthCheck, EnvVar, Sidecar, ToolDefinition } from '../../crds/index.ts';

export const TOOL_CONTAINER = 'tool';
export const GATE_CONTAINER = 'berth-gate';
/** The task volume holding the user's home folder (spec.homePath). */
export const HOME_VOLUME = 'home';

/** `berth-<installation>-<tool>`: one family per tool per installation. */
export function taskDefinitionFamily(installationId: string, tool: string): string {
  return `berth-${installationId}-${tool}`;
}

export interface TaskDefinitionOptions {
  installationId: string;
  /** The tool container's seconds between SIGTERM and SIGKILL. */
  toolStopTimeoutSeconds: number;
  /** The gate's image and published port (BERTH_GATE_IMAGE, BERTH_GATE_PORT). */
  gateImage: string;
  gatePort: number;
}

/** Why a tool cannot sit behind the gate, or undefined when it can. */
export function gatePortConflict(td: ToolDefinition, gatePort: number): string | undefined {
  if (td.spec.port !== gatePort) return undefined;
  return `spec.port ${td.spec.port} is the gate's port (BERTH_GATE_PORT): the gate publishes it in every task and forwards to the tool on its own port; choose another spec.port`;
}

export function buildTaskDefinition(
  td: ToolDefinition,
  options: TaskDefinitionOptions,
): RegisterTaskDefinitionCommandInput {
  const spec = td.spec;
  const size = spec.sizes[spec.defaultSize];
  if (!size) throw new Error(`defaultSize "${spec.defaultSize}" is not one of spec.sizes`);
  const conflict = gatePortConflict(td, options.gatePort);
  if (conflict) throw new Error(conflict);
  // The tool publishes no port: only the gate's is reachable from outside the task
  // (on Fargate; under ecs-local every process shares the host's loopback).
  const home = spec.homePath;
  const mountPoints: MountPoint[] = home
    ? [{ sourceVolume: HOME_VOLUME, containerPath: home, readOnly: false }]
    : [];
  const dependsOn = toolDependencies(spec.sidecars);
  const tool: ContainerDefinition = {
    name: TOOL_CONTAINER,
    image: spec.image,
    essential: true,
    environment: withDefault(toolEnvironment(spec.env, spec.port), 'HOME', home),
    stopTimeout: options.toolStopTimeoutSeconds,
    ...(home ? { mountPoints } : {}),
    ...(dependsOn.length ? { dependsOn } : {}),
    ...(spec.command ? { entryPoint: spec.command } : {}),
    ...(spec.args ? { command: spec.args } : {}),
  };
  const sidecars: ContainerDefinition[] = spec.sidecars.map((s) => ({
    name: s.name,
    image: s.image,
    essential: s.essential,
    environment: withDefault(toKeyValues(s.env ?? []), 'BERTH_HOME', home),
    ...(s.port ? { portMappings: [{ containerPort: s.port, protocol: 'tcp' as const }] } : {}),
    ...(s.command ? { entryPoint: s.command } : {}),
    ...(s.args ? { command: s.args } : {}),
    ...(home ? { mountPoints } : {}),
    ...(s.healthCheck ? { healthCheck: ecsHealthCheck(s.healthCheck) } : {}),
    ...(s.restartOnExit ? { restartPolicy: { enabled: true } } : {}),
    ...(s.stopTimeoutSeconds !== undefined ? { stopTimeout: s.stopTimeoutSeconds } : {}),
  }));
  return {
    family: taskDefinitionFamily(options.installationId, td.metadata.name),
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: String(size.cpu),
    memory: String(size.memory),
    ephemeralStorage: { sizeInGiB: spec.ephemeralStorageGiB },
    containerDefinitions: [gate(options), tool, ...sidecars],
    ...(home ? { volumes: [{ name: HOME_VOLUME }] } : {}),
    tags: [{ key: 'berth:tool', value: td.metadata.name }],
  };
}

/**
 * Essential: a task whose gate died cannot be reached, so ECS stops it and the
 * instance ends like any other failed task.
 */
function gate(options: TaskDefinitionOptions): ContainerDefinition {
  return {
    name: GATE_CONTAINER,
    image: options.gateImage,
    essential: true,
    portMappings: [{ containerPort: options.gatePort, protocol: 'tcp' }],
    environment: [{ name: 'BERTH_GATE_PORT', value: String(options.gatePort) }],
  };
}

/**
 * The spec's environment plus PORT = spec.port (unless the spec sets PORT):
 * tools that read PORT (the demo, ecs-local's stand-ins) listen where the gate
 * forwards, now that the tool has no port mapping to be told it by.
 */
function toolEnvironment(env: EnvVar[], port: number): KeyValuePair[] {
  const list = toKeyValues(env);
  if (!env.some((e) => e.name === 'PORT')) list.push({ name: 'PORT', value: String(port) });
  return list;
}

/** The tool starts once each sidecar it waits for has started, or is healthy. */
function toolDependencies(sidecars: Sidecar[]): ContainerDependency[] {
  return sidecars.flatMap((s) =>
    s.toolWaitsFor
      ? [
          {
            containerName: s.name,
            condition: s.toolWaitsFor === 'Healthy' ? ('HEALTHY' as const) : ('START' as const),
          },
        ]
      : [],
  );
}

/** The spec's seconds as ECS's health check fields (ECS counts seconds too). */
function ecsHealthCheck(h: ContainerHealthCheck): HealthCheck {
  return {
    command: h.command,
    interval: h.intervalSeconds,
    timeout: h.timeoutSeconds,
    retries: h.retries,
    startPeriod: h.startPeriodSeconds,
  };
}

/** Adds `name=value` unless the spec's env already sets `name` (or there is no value). */
function withDefault(
  list: KeyValuePair[],
  name: string,
  value: string | undefined,
): KeyValuePair[] {
  if (value === undefined || list.some((e) => e.name === name)) return list;
  return [...list, { name, value }];
}

function toKeyValues(env: EnvVar[]): KeyValuePair[] {
  return env.map((e) => ({ name: e.name, value: e.value }));
}
