// The ToolDefinition reconciler: keeps the tool's ECS task definition in step
// with its spec. The driver compares a content hash with the family's latest
// revision, so a reconcile of an unchanged spec costs one DescribeTaskDefinition
// and registers nothing. Status: taskDefinitionArn, observedGeneration and a
// `Registered` condition carrying the generation it describes.
import {
  type BerthObject,
  isApiError,
  setCondition,
  type ToolDefinition,
} from '../../crds/index.ts';
import type { EcsDriver } from '../ecs/index.ts';
import { done, type ReconcileContext, type Reconciler, terminal } from '../reconcile.ts';
import type { ReconcilerConfig } from './config.ts';
import { buildTaskDefinition, gatePortConflict } from './task-definition.ts';

export interface RegisteredTaskDefinition {
  arn: string;
  registered: boolean;
}

/**
 * Registers the tool's task definition when its content changed (the one helper
 * both reconcilers use); deregisters revisions beyond the newest `keepRevisions`.
 */
export async function ensureTaskDefinition(
  driver: EcsDriver,
  td: ToolDefinition,
  config: TaskDefinitionConfig,
): Promise<RegisteredTaskDefinition & { family: string; deregistered: string[] }> {
  const input = buildTaskDefinition(td, {
    installationId: driver.config.installationId,
    toolStopTimeoutSeconds: config.toolStopTimeoutSeconds,
    gateImage: config.gateImage,
    gatePort: config.gatePort,
  });
  const family = input.family!;
  const { arn, registered } = await driver.registerTaskDefinition(input);
  const deregistered = registered
    ? await driver.deregisterOldRevisions(family, config.keepRevisions)
    : [];
  return { arn, registered, family, deregistered };
}

type TaskDefinitionConfig = Pick<
  ReconcilerConfig,
  'keepRevisions' | 'toolStopTimeoutSeconds' | 'gateImage' | 'gatePort'
>;

export function createToolDefinitionReconciler(config: TaskDefinitionConfig): Reconciler {
  return async (ctx, key) => {
    let td: ToolDefinition;
    try {
      td = (await ctx.store.get('ToolDefinition', undefined, key.name)) as ToolDefinition;
    } catch (err) {
      if (isApiError(err, 'NotFound')) return done();
      throw err;
    }
    if (td.metadata.deletionTimestamp) return done();
    const generation = td.metadata.generation;
    const conflict = gatePortConflict(td, config.gatePort);
    if (conflict) {
      // Nothing to retry until the spec changes (a new generation reconciles again).
      await writeStatus(ctx, td, {
        observedGeneration: generation,
        conditions: setCondition(
          td.status?.conditions,
          {
            type: 'Registered',
            status: 'False',
            reason: 'PortConflict',
            message: conflict,
            observedGeneration: generation,
          },
          ctx.now(),
        ),
      });
      return terminal(conflict);
    }
    let result: Awaited<ReturnType<typeof ensureTaskDefinition>>;
    try {
      result = await ensureTaskDefinition(ctx.driver, td, config);
    } catch (err) {
      await writeStatus(ctx, td, {
        observedGeneration: generation,
        conditions: setCondition(
          td.status?.conditions,
          {
            type: 'Registered',
            status: 'False',
            reason: 'RegistrationFailed',
            message: `Registering the ECS task definition failed: ${(err as Error).message}`,
            observedGeneration: generation,
          },
          ctx.now(),
        ),
      });
      throw err;
    }
    if (result.registered) {
      await ctx.recordEvent({
        involvedObject: involved(td),
        type: 'Normal',
        reason: 'TaskDefinitionRegistered',
        message: `Registered ECS task definition ${revisionName(result.arn)}`,
      });
    }
    if (result.deregistered.length > 0) {
      await ctx.recordEvent({
        involvedObject: involved(td),
        type: 'Normal',
        reason: 'TaskDefinitionsDeregistered',
        message: `Deregistered old revisions ${result.deregistered.map(revisionName).join(', ')}`,
      });
    }
    await writeStatus(ctx, td, {
      observedGeneration: generation,
      taskDefinitionArn: result.arn,
      conditions: setCondition(
        td.status?.conditions,
        {
          type: 'Registered',
          status: 'True',
          reason: 'TaskDefinitionRegistered',
          message: `ECS task definition ${revisionName(result.arn)}`,
          observedGeneration: generation,
        },
        ctx.now(),
      ),
    });
    return done();
  };
}

async function writeStatus(
  ctx: ReconcileContext,
  td: ToolDefinition,
  status: Record<string, unknown>,
): Promise<BerthObject> {
  // A write that changes nothing is a no-op in the store (no new resourceVersion).
  return ctx.store.patchStatus('ToolDefinition', undefined, td.metadata.name, { status });
}

function involved(td: ToolDefinition) {
  return { kind: 'ToolDefinition', name: td.metadata.name, uid: td.metadata.uid };
}

/** `arn:…:task-definition/berth-local-demo:3` -> `berth-local-demo:3`. */
function revisionName(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}
