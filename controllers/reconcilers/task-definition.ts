// Turns a ToolDefinition into the ECS task definition that runs it: the tool
// container (named `tool`) plus its declared sidecars, the default size as the
// task's cpu/memory (RunTask overrides pick another size), awsvpc on Fargate.
// Only the spec goes in, nothing that changes on its own (no timestamps), so the
// driver's content hash registers a new revision exactly when the spec changed.
import type {
  ContainerDefinition,
  KeyValuePair,
  RegisterTaskDefinitionCommandInput,
} from '@aws-sdk/client-ecs';
import type { EnvVar, ToolDefinition } from '../../crds/index.ts';

export const TOOL_CONTAINER = 'tool';

/** `berth-<installation>-<tool>`: one family per tool per installation. */
export function taskDefinitionFamily(installationId: string, tool: string): string {
  return `berth-${installationId}-${tool}`;
}

export interface TaskDefinitionOptions {
  installationId: string;
  /** The tool container's seconds between SIGTERM and SIGKILL. */
  toolStopTimeoutSeconds: number;
}

export function buildTaskDefinition(
  td: ToolDefinition,
  options: TaskDefinitionOptions,
): RegisterTaskDefinitionCommandInput {
  const spec = td.spec;
  const size = spec.sizes[spec.defaultSize];
  if (!size) throw new Error(`defaultSize "${spec.defaultSize}" is not one of spec.sizes`);
  const tool: ContainerDefinition = {
    name: TOOL_CONTAINER,
    image: spec.image,
    essential: true,
    portMappings: [{ containerPort: spec.port, protocol: 'tcp' }],
    environment: toKeyValues(spec.env),
    stopTimeout: options.toolStopTimeoutSeconds,
    ...(spec.command ? { entryPoint: spec.command } : {}),
    ...(spec.args ? { command: spec.args } : {}),
  };
  const sidecars: ContainerDefinition[] = spec.sidecars.map((s) => ({
    name: s.name,
    image: s.image,
    essential: s.essential,
    environment: toKeyValues(s.env ?? []),
    ...(s.port ? { portMappings: [{ containerPort: s.port, protocol: 'tcp' as const }] } : {}),
    ...(s.command ? { entryPoint: s.command } : {}),
    ...(s.args ? { command: s.args } : {}),
  }));
  return {
    family: taskDefinitionFamily(options.installationId, td.metadata.name),
    networkMode: 'awsvpc',
    requiresCompatibilities: ['FARGATE'],
    cpu: String(size.cpu),
    memory: String(size.memory),
    ephemeralStorage: { sizeInGiB: spec.ephemeralStorageGiB },
    containerDefinitions: [tool, ...sidecars],
    tags: [{ key: 'berth:tool', value: td.metadata.name }],
  };
}

function toKeyValues(env: EnvVar[]): KeyValuePair[] {
  return env.map((e) => ({ name: e.name, value: e.value }));
}
