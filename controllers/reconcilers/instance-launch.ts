// Launching: makes ECS run one task for an instance that should run and has none.
//
// Launch protocol (no duplicates, see README "No duplicate tasks"):
//   1. write status {phase: Starting, attempt: N, taskArn: null} with a
//      resourceVersion precondition (two reconciles racing: one gets 409);
//      meanwhile the attempt's database logins are made (controllers/credentials;
//      the password is derived, so a retry puts the same one in the environment);
//   2. RunTask with clientToken `<uid>-<N>`;
//   3. write status.taskArn.
// A reconcile that finds step 1 done but not step 3 (a crash in between) first
// looks for a live task tagged with the instance uid and adopts it; otherwise it
// repeats RunTask with the same token, which ECS answers with the same task.
//
// The ToolDefinition's task definition ARN in its status is a cache: when RunTask
// says that task definition is gone or inactive (ecs-local restarted, someone
// deregistered the revision), it is registered again and RunTask tried once more.
//
// A per-user tool's launch, with files on (BERTH_FILES_BUCKET), also makes sure
// of the user's file role (controllers/files) while the Starting write commits,
// passes it to RunTask as the task role, and gives every container but the gate
// the files environment (bucket, home prefix, S3 endpoint). A role that cannot
// be made sure of fails the attempt (FileRoleUnavailable: a Warning Event, the
// Reconciled condition) and the queue retries it like any launch error.
//
// Step 1 also checks the launch again (store's launchCheckAtStart, in the same
// transaction, under the user's lock): the owner may still use the tool and it
// fits their Quotas. Refused, nothing is written but Failed with reason
// AccessDenied or QuotaExceeded and a Warning Event, and no RunTask; it stays so
// until a person asks again (a new generation), like any other ended attempt.
import type { Failure, Task } from '@aws-sdk/client-ecs';
import type { ToolDefinition } from '../../crds/index.ts';
import { deriveToolSecret, LaunchRefused, launchCheckAtStart } from '../../store/index.ts';
import { mayBeRoleProblem } from '../files/index.ts';
import { type ReconcileResult, RetryLater, requeueAfter, terminal } from '../reconcile.ts';
import { isStopping, TAG, tagValue, taskId } from './ecs-task.ts';
import { findLiveTaskOf, getToolDefinition, type Run } from './instance-run.ts';
import { transition } from './instance-transition.ts';
import { type LaunchCredentials, prepareCredentials, useCredentials } from './launch-database.ts';
import { type LaunchFiles, prepareFiles } from './launch-files.ts';
import { GATE_CONTAINER, gatePortConflict, TOOL_CONTAINER } from './task-definition.ts';
import { ensureTaskDefinition } from './tooldefinition.ts';

/** How often a reconcile looks again when no poller tells it (a safety net; the poller is faster). */
export const SAFETY_REQUEUE_MS = 30_000;
/**
 * A launch waits (parked, without a worker slot) for ECS's RunTask rate at most
 * about this long; a longer wait (a burst of launches) comes back later at its
 * turn instead, well within the reconcile timeout, and before writing anything.
 */
const LAUNCH_WAIT_HORIZON_MS = 10_000;
/** The first retry after ECS had no capacity; the queue doubles it per failure. */
const CAPACITY_BACKOFF_MS = 1_000;

export async function launch(run: Run): Promise<ReconcileResult> {
  const { ctx } = run;
  const uid = run.ti.metadata.uid!;
  const td = await getToolDefinition(ctx, run.ti.spec.toolRef);
  if (!td) {
    await transition(run, {
      phase: 'Pending',
      reason: 'ToolDefinitionNotFound',
      message: `ToolDefinition "${run.ti.spec.toolRef}" does not exist`,
      // Not a launch yet: the spawn timeout starts when one does.
      fields: { startedAt: null },
    });
    return requeueAfter(30_000);
  }
  const conflict = gatePortConflict(td, run.deps.config.gatePort);
  if (conflict) {
    const message = `Tool "${td.metadata.name}" cannot run: ${conflict}`;
    await transition(run, {
      phase: 'Failed',
      reason: 'PortConflict',
      stopReason: true,
      message,
      event: { type: 'Warning' },
    });
    return terminal(message);
  }
  const sizeName = run.ti.spec.size ?? td.spec.defaultSize;
  const size = td.spec.sizes[sizeName];
  if (!size) {
    const names = Object.keys(td.spec.sizes).join(', ');
    const message = `Size "${sizeName}" is not one of the sizes of tool "${td.metadata.name}" (${names}); set spec.size to one of them`;
    await transition(run, {
      phase: 'Failed',
      reason: 'UnknownSize',
      stopReason: true,
      message,
      event: { type: 'Warning' },
    });
    return terminal(message);
  }

  const status = run.ti.status ?? { conditions: [] };
  const inFlight = status.phase === 'Starting' && !status.taskArn && status.attempt !== undefined;
  let attempt: number;
  let credentials: Promise<LaunchCredentials> | undefined;
  let files: Promise<LaunchFiles> | undefined;
  if (inFlight) {
    // A launch began and never wrote its task: maybe RunTask succeeded and we crashed.
    attempt = status.attempt!;
    const live = await findLiveTaskOf(ctx, uid);
    if (live) return recordLaunched(run, live, sizeName, true);
  } else {
    // A burst: ECS's RunTask rate has a queue longer than we want to wait in.
    const deferMs = ctx.driver.runTaskDeferMs(LAUNCH_WAIT_HORIZON_MS);
    if (deferMs > 0) return requeueAfter(deferMs);
    attempt = (status.attempt ?? 0) + 1;
    // A retry after ECS had no capacity keeps the first attempt's start, so the
    // spawn timeout counts from when the user asked, not from the latest try.
    const startedAt =
      status.phase === 'Pending' && status.startedAt ? status.startedAt : ctx.now().toISOString();
    // The logins need only the uid and the attempt: they are made while the
    // Starting write commits. If that write loses (a racing reconcile, a refused
    // launch), a login no task uses is left for the login GC (after its grace).
    credentials = prepareCredentials(run, td, attempt);
    credentials.catch(() => {}); // awaited below, unless the write failed
    // The file role likewise (IAM calls, or the cache): it depends on nothing the write does.
    files = prepareFiles(run, td);
    files.catch(() => {});
    try {
      await transition(run, {
        phase: 'Starting',
        reason: 'Launching',
        message: `Launching (attempt ${attempt}, size ${sizeName})`,
        fields: {
          attempt,
          startedAt,
          taskArn: null,
          endpoint: null,
          readyAt: null,
          stopReason: null,
          // A new attempt is not idle yet, and no stop warning of an earlier task applies to it.
          idleSince: null,
          stopWarning: null,
        },
        opts: {
          resourceVersion: run.ti.metadata.resourceVersion,
          inTransaction: launchCheckAtStart(td),
        },
      });
    } catch (err) {
      if (err instanceof LaunchRefused) return refused(run, err);
      throw err;
    }
  }

  const [database, userFiles] = await Promise.all([
    (credentials ?? prepareCredentials(run, td, attempt)).then((c) => useCredentials(run, c)),
    files ?? prepareFiles(run, td),
  ]);
  await run.deps.hooks?.afterLaunchCredentials?.(run.key);
  const result = await runTask(run, td, sizeName, attempt, database, userFiles);
  if ('failure' in result) return noCapacity(run, result.failure);
  await run.deps.hooks?.afterRunTask?.(run.key, result.task.taskArn!);
  return recordLaunched(run, result.task, sizeName, false);
}

/** RunTask for this attempt; a task definition ECS no longer has is registered again once. */
async function runTask(
  run: Run,
  td: ToolDefinition,
  sizeName: string,
  attempt: number,
  database: Env,
  files: LaunchFiles,
): Promise<{ task: Task } | { failure: Failure }> {
  const cached = cachedTaskDefinitionArn(td);
  const first = cached ?? (await registerTaskDefinition(run, td));
  try {
    return await runTaskWith(run, td, sizeName, attempt, first, database, files);
  } catch (err) {
    // The role may be gone behind berth's back: the next attempt asks IAM again.
    if (files.role && mayBeRoleProblem(err)) run.deps.files?.roles.forget(files.userUid!);
    if (!cached || !isTaskDefinitionGone(err)) throw err;
    run.ctx.log.info(
      { tool: td.metadata.name, taskDefinition: cached },
      'the cached task definition is gone from ECS; registering it again',
    );
    const fresh = await registerTaskDefinition(run, td);
    return await runTaskWith(run, td, sizeName, attempt, fresh, database, files);
  }
}

async function runTaskWith(
  run: Run,
  td: ToolDefinition,
  sizeName: string,
  attempt: number,
  taskDefinition: string,
  database: Env,
  files: LaunchFiles,
): Promise<{ task: Task } | { failure: Failure }> {
  const { ctx } = run;
  const uid = run.ti.metadata.uid!;
  const size = td.spec.sizes[sizeName]!;
  try {
    return await ctx.driver.runTask({
      taskDefinition,
      clientToken: `${uid}-${attempt}`,
      tags: {
        [TAG.instanceUid]: uid,
        [TAG.namespace]: run.ti.metadata.namespace ?? '',
        [TAG.name]: run.ti.metadata.name,
        [TAG.tool]: td.metadata.name,
        [TAG.attempt]: String(attempt),
      },
      overrides: {
        cpu: String(size.cpu),
        memory: String(size.memory),
        containerOverrides: [
          {
            name: TOOL_CONTAINER,
            environment: [...toolEnvironment(run, td, sizeName), ...database, ...files.environment],
          },
          // Overrides, not the task definition: the definition is shared by every launch.
          {
            name: GATE_CONTAINER,
            environment: [...identityEnvironment(run, td), ...gateEnvironment(run, td, attempt)],
          },
          // Every sidecar knows whose task it is in (the metrics sidecar's labels).
          ...td.spec.sidecars.map((s) => ({
            name: s.name,
            environment: [...identityEnvironment(run, td), ...files.environment],
          })),
        ],
        // Every container's AWS credentials: the user's home prefix only.
        ...(files.role ? { taskRoleArn: files.role.roleArn } : {}),
      },
      capacityProvider: td.spec.capacity,
      // Its security groups must admit only the proxy on these (else UnsafeSecurityGroup, and the launch waits).
      toolPorts: [td.spec.port, run.deps.config.gatePort],
      // Waiting for a RunTask token is not work: give the worker slot to another key meanwhile.
      ...(ctx.whileWaiting ? { whileWaiting: ctx.whileWaiting } : {}),
    });
  } catch (err) {
    // Same token, other parameters (the tool's definition changed between a crashed
    // attempt and now): ECS names the task that token already started. Adopt it.
    const ids = (err as { name?: string; resourceIds?: string[] }).resourceIds;
    if ((err as Error).name !== 'ConflictException' || !ids?.length) throw err;
    const { tasks } = await ctx.driver.describeTasks(ids);
    const live = tasks.find((t) => !isStopping(t)) ?? tasks[0];
    if (!live) throw err;
    return { task: live };
  }
}

/** The launch check said no: Failed with its reason, a Warning Event, no task; until asked again. */
async function refused(run: Run, err: LaunchRefused): Promise<ReconcileResult> {
  const message = `Not launched: ${err.message}`;
  await transition(run, {
    phase: 'Failed',
    reason: err.why,
    stopReason: true,
    message,
    fields: { taskArn: null, endpoint: null, readyAt: null },
    event: { type: 'Warning' },
  });
  return terminal(message);
}

/** ECS had no capacity: Pending with the reason, and the queue retries with backoff. */
async function noCapacity(run: Run, failure: Failure): Promise<never> {
  const why = [failure.reason, failure.detail].filter(Boolean).join(': ');
  const message = `ECS could not start a task (${why}); trying again`;
  // Pending (not Starting): the next reconcile starts a fresh attempt with a new clientToken.
  await transition(run, {
    phase: 'Pending',
    reason: 'LaunchFailed',
    message,
    event: { type: 'Warning' },
  });
  throw new RetryLater('LaunchFailed', message, CAPACITY_BACKOFF_MS);
}

async function recordLaunched(
  run: Run,
  task: Task,
  sizeName: string,
  adopted: boolean,
): Promise<ReconcileResult> {
  const arn = task.taskArn!;
  const attempt = Number(tagValue(task, TAG.attempt) ?? run.ti.status?.attempt ?? 1);
  run.deps.observations.record(arn, task);
  await transition(run, {
    phase: 'Starting',
    reason: 'TaskStarting',
    message: 'Task launched; waiting for it to run',
    fields: { taskArn: arn, attempt },
    event: {
      type: 'Normal',
      reason: adopted ? 'TaskAdopted' : 'TaskLaunched',
      message: `${adopted ? 'Adopted running' : 'Launched'} task ${taskId(arn)} (attempt ${attempt}, size ${sizeName})`,
      when: 'later',
    },
  });
  return requeueAfter(SAFETY_REQUEUE_MS);
}

/** The ToolDefinition's registered task definition when its status says it is current. */
function cachedTaskDefinitionArn(td: ToolDefinition): string | undefined {
  const s = td.status;
  const registered = s?.conditions.find((c) => c.type === 'Registered');
  const current =
    s?.taskDefinitionArn &&
    s.observedGeneration === td.metadata.generation &&
    registered?.status === 'True';
  return current ? s.taskDefinitionArn : undefined;
}

/** Registers (or finds) the tool's task definition; the ToolDefinition reconciler records it. */
async function registerTaskDefinition(run: Run, td: ToolDefinition): Promise<string> {
  const { arn } = await ensureTaskDefinition(run.ctx.driver, td, run.deps.config);
  // The ToolDefinition reconciler is the one writer of that status.
  await run.ctx.enqueue({ kind: 'ToolDefinition', name: td.metadata.name });
  return arn;
}

/** RunTask's answer for a task definition revision that does not exist or was deregistered. */
function isTaskDefinitionGone(err: unknown): boolean {
  const e = err as { name?: string; message?: string };
  return (
    e?.name === 'ClientException' &&
    /task ?definition.*(not found|inactive|does not exist)|unable to describe task definition/i.test(
      e.message ?? '',
    )
  );
}

/** The gate's part of this launch: the secret it admits and where the tool listens. */
function gateEnvironment(run: Run, td: ToolDefinition, attempt: number) {
  const secret = deriveToolSecret(run.deps.config.toolSecretKey, run.ti.metadata.uid!, attempt);
  return [
    { name: 'BERTH_TOOL_SECRET', value: secret },
    { name: 'BERTH_GATE_UPSTREAM_PORT', value: String(td.spec.port) },
  ];
}

type Env = { name: string; value: string }[];

/** Whose task this is: every container of it is told (tool, gate, sidecars). */
function identityEnvironment(run: Run, td: ToolDefinition): Env {
  const ns = run.ti.metadata.namespace ?? '';
  return [
    { name: 'BERTH_USER', value: ns },
    { name: 'BERTH_NAMESPACE', value: ns },
    { name: 'BERTH_INSTANCE', value: run.ti.metadata.name },
    { name: 'BERTH_TOOL', value: td.metadata.name },
  ];
}

/**
 * What the tool is told about itself. Not secret, but like the gate's tool
 * secret and the database passwords next to them, these travel in RunTask's
 * container overrides: whoever may ecs:DescribeTasks can read them.
 */
function toolEnvironment(run: Run, td: ToolDefinition, size: string) {
  const publicUrl = run.deps.config.publicUrl({
    tool: td.metadata.name,
    namespace: run.ti.metadata.namespace ?? '',
    name: run.ti.metadata.name,
    shared: td.spec.sharing === 'shared',
  });
  return [
    { name: 'BERTH_PUBLIC_URL', value: publicUrl },
    ...identityEnvironment(run, td),
    { name: 'BERTH_SIZE', value: size },
  ];
}
