// Tasks and their lifecycle, as ECS runs a Fargate task:
// PROVISIONING -> PENDING -> ACTIVATING -> RUNNING -> DEACTIVATING -> STOPPING
// -> DEPROVISIONING -> STOPPED, with the ENI (and its address) existing from the
// end of PROVISIONING, containers started as local processes, and stop codes and
// reasons worded as ECS words them. Some 400 lines: the state machine in one place
// (its records and DescribeTasks shape are apart, in task-record.ts and describe-task.ts).
import { randomBytes } from 'node:crypto';
import { AddressError, type AddressPool } from './addresses.ts';
import { type Arns, newTaskId } from './arns.ts';
import type { EcsLocalConfig } from './config.ts';
import { describeTask } from './describe-task.ts';
import type { FaultState } from './faults.ts';
import { canonicalReference, commandLine, type ImageResolver } from './image-map.ts';
import { ContainerProcess } from './runner.ts';
import type { ContainerRecord, NewTask, StopCode, TaskRecord, TaskStatus } from './task-record.ts';

export interface TaskEngineDeps {
  config: EcsLocalConfig;
  arns: Arns;
  addresses: AddressPool;
  images: ImageResolver;
  faults: FaultState;
  /** Base URL of the metadata endpoint, e.g. http://127.0.0.1:4566 (known once listening). */
  metadataBaseUrl: () => string;
  /** Told of each container process once it runs, and once its process group is gone. */
  lifetimes?: ContainerLifetimes;
  /** Environment every container of a task gets on top of ECS's own (task role credentials). */
  taskEnv?: (task: TaskRecord) => Record<string, string>;
}

export interface ContainerLifetimes {
  started(process: ContainerProcess, task: TaskRecord, container: ContainerRecord): void;
  ended(process: ContainerProcess): void;
}

const SPOT_REASON = 'Your Spot Task was interrupted.';

export class TaskEngine {
  private readonly deps: TaskEngineDeps;
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly byRuntimeId = new Map<
    string,
    { task: TaskRecord; container: ContainerRecord }
  >();
  private readonly timers = new Set<NodeJS.Timeout>();
  private seq = 0;
  private closed = false;
  constructor(deps: TaskEngineDeps) {
    this.deps = deps;
  }

  create(input: NewTask): TaskRecord {
    const { arns, config } = this.deps;
    const id = newTaskId();
    const subnet = config.network.subnets.find((s) => s.subnetId === input.subnetId)!;
    const overrides = input.overrides;
    const task: TaskRecord = {
      seq: ++this.seq,
      id,
      arn: arns.task(input.cluster.name, id),
      cluster: input.cluster,
      definition: input.definition,
      overrides,
      startedBy: input.startedBy,
      group: input.group ?? `family:${input.definition.family}`,
      launchType: 'FARGATE',
      capacityProviderName: input.capacityProviderName,
      platformVersion:
        input.platformVersion && input.platformVersion !== 'LATEST'
          ? input.platformVersion
          : '1.4.0',
      cpu: overrides.cpu ?? input.definition.cpu,
      memory: overrides.memory ?? input.definition.memory,
      tags: input.tags,
      lastStatus: 'PROVISIONING',
      desiredStatus: 'RUNNING',
      stopCode: undefined,
      stoppedReason: undefined,
      createdAt: Date.now(),
      pullStartedAt: undefined,
      pullStoppedAt: undefined,
      connectivityAt: undefined,
      startedAt: undefined,
      stoppingAt: undefined,
      executionStoppedAt: undefined,
      stoppedAt: undefined,
      version: 1,
      eni: {
        attachmentId: crypto.randomUUID(),
        status: 'PRECREATED',
        eniId: `eni-${randomBytes(9).toString('hex').slice(0, 17)}`,
        mac: `0a:${[...randomBytes(5)].map((b) => b.toString(16).padStart(2, '0')).join(':')}`,
        subnetId: input.subnetId,
        availabilityZone: `${config.region}${subnet.availabilityZone}`,
        securityGroups: input.securityGroups,
        ip: undefined,
      },
      containers: [],
      timer: undefined,
    };
    task.containers = input.definition.containers.map((def) => {
      const runtimeId = `${id}-${randomBytes(4).readUInt32BE(0)}`;
      const override = overrides.containerOverrides?.find((o) => o.name === def.name);
      const container: ContainerRecord = {
        name: def.name,
        def,
        runtimeId,
        arn: arns.container(input.cluster.name, id, crypto.randomUUID()),
        image: def.image,
        essential: def.essential !== false,
        stopTimeoutMs: (def.stopTimeout ?? config.defaultStopTimeoutSeconds) * 1000,
        override,
        lastStatus: 'PENDING',
        exitCode: undefined,
        reason: undefined,
        process: undefined,
        port: def.portMappings?.[0]?.containerPort,
        env: {},
        startedAt: undefined,
        finishedAt: undefined,
      };
      this.byRuntimeId.set(runtimeId, { task, container });
      return container;
    });
    this.tasks.set(id, task);
    const provisioning =
      config.delays.provisioningMs + this.deps.faults.current.provisioningDelayMs;
    this.after(task, provisioning, () => void this.provisioned(task));
    return task;
  }

  get(id: string): TaskRecord | undefined {
    return this.tasks.get(id);
  }

  byContainerRuntimeId(
    runtimeId: string,
  ): { task: TaskRecord; container: ContainerRecord } | undefined {
    return this.byRuntimeId.get(runtimeId);
  }

  /** All known tasks in creation order. */
  all(): TaskRecord[] {
    return [...this.tasks.values()];
  }

  /** StopTask: UserInitiated, and ECS deletes the task's tags. */
  stopByUser(task: TaskRecord, reason: string | undefined): void {
    this.requestStop(task, 'UserInitiated', reason || 'Task stopped by user');
    task.tags = [];
    this.touch(task);
  }

  /** Fargate Spot interruption: SIGTERM now, SIGKILL when the notice runs out. */
  interruptSpot(task: TaskRecord, noticeMs = 120_000): void {
    if (task.desiredStatus === 'STOPPED') return;
    for (const c of task.containers) c.process?.stop(noticeMs);
    this.requestStop(task, 'SpotInterruption', SPOT_REASON);
  }

  private requestStop(task: TaskRecord, code: StopCode, reason: string): void {
    if (task.desiredStatus === 'STOPPED') return;
    task.desiredStatus = 'STOPPED';
    task.stopCode = code;
    task.stoppedReason = reason;
    task.stoppingAt = Date.now();
    this.cancelTimer(task);
    if (task.lastStatus === 'PROVISIONING') {
      // No ENI yet: nothing to deactivate or stop.
      this.deprovision(task);
    } else {
      this.setStatus(task, 'DEACTIVATING');
      this.after(
        task,
        this.deps.config.delays.deactivatingMs,
        () => void this.stopContainers(task),
      );
    }
  }

  private async provisioned(task: TaskRecord): Promise<void> {
    let ip: string;
    try {
      ip = await this.deps.addresses.allocate(containerPorts(task));
    } catch (err) {
      if (!(err instanceof AddressError)) throw err;
      this.requestStop(
        task,
        'TaskFailedToStart',
        `ResourceInitializationError: unable to assign a private IPv4 address: ${err.message}`,
      );
      return;
    }
    if (stopRequested(task) || this.closed) {
      // Stopped (and deprovisioned) while its address was being checked.
      this.deps.addresses.release(ip);
      return;
    }
    task.eni.ip = ip;
    task.eni.status = 'ATTACHED';
    task.connectivityAt = Date.now();
    task.pullStartedAt = Date.now();
    this.setStatus(task, 'PENDING');
    const missing = task.containers.find((c) => !this.deps.images.resolve(c.image));
    if (missing) {
      const reason = `CannotPullContainerError: pull image manifest has been retried 7 time(s): failed to resolve ref ${canonicalReference(missing.image)}: not found`;
      task.pullStoppedAt = Date.now();
      missing.reason = reason;
      this.requestStop(task, 'TaskFailedToStart', reason);
      return;
    }
    this.after(task, this.deps.config.delays.pendingMs, () => void this.startContainers(task));
  }

  private async startContainers(task: TaskRecord): Promise<void> {
    task.pullStoppedAt = Date.now();
    for (const c of task.containers) {
      if (task.desiredStatus === 'STOPPED') return; // stopped while starting
      const image = this.deps.images.resolve(c.image)!;
      const { command, args } = commandLine(image.command, image.args, c);
      c.env = this.containerEnv(task, c, image.env);
      try {
        c.process = await ContainerProcess.start({
          command,
          args,
          env: c.env,
          cwd: typeof c.def.workingDirectory === 'string' ? c.def.workingDirectory : image.cwd,
          outputCapBytes: this.deps.config.outputCapBytes,
        });
      } catch (err) {
        const reason = `CannotStartContainerError: ResourceInitializationError: failed to create new container runtime task: ${(err as Error).message}`;
        c.reason = reason;
        c.lastStatus = 'STOPPED';
        this.requestStop(task, 'TaskFailedToStart', reason);
        return;
      }
      if (this.closed) {
        void c.process.kill();
        return;
      }
      c.lastStatus = 'RUNNING';
      c.startedAt = c.process.startedAt;
      const started = c.process;
      this.deps.lifetimes?.started(started, task, c);
      void started.exited.then((exit) => {
        this.deps.lifetimes?.ended(started);
        this.containerExited(task, c, exit.exitCode);
      });
      if (stopRequested(task)) {
        // Stopped while this one was starting: if the stop already went past it, stop it here.
        if (task.lastStatus !== 'DEACTIVATING') void c.process.stop(c.stopTimeoutMs);
        return;
      }
    }
    this.setStatus(task, 'ACTIVATING');
    this.after(task, this.deps.config.delays.activatingMs, () => {
      task.startedAt = Date.now();
      this.setStatus(task, 'RUNNING');
    });
  }

  private containerExited(task: TaskRecord, c: ContainerRecord, exitCode: number): void {
    c.exitCode = exitCode;
    c.lastStatus = 'STOPPED';
    c.finishedAt = Date.now();
    this.touch(task);
    if (c.essential && task.desiredStatus === 'RUNNING') {
      this.requestStop(task, 'EssentialContainerExited', 'Essential container in task exited');
    }
  }

  private async stopContainers(task: TaskRecord): Promise<void> {
    this.setStatus(task, 'STOPPING');
    await Promise.all(
      task.containers.map(async (c) => {
        if (c.process) {
          const exit = await c.process.stop(c.stopTimeoutMs);
          c.exitCode ??= exit.exitCode;
          c.finishedAt ??= Date.now();
        }
        c.lastStatus = 'STOPPED';
      }),
    );
    if (this.closed) return;
    task.executionStoppedAt = Date.now();
    this.deprovision(task);
  }

  private deprovision(task: TaskRecord): void {
    for (const c of task.containers) c.lastStatus = 'STOPPED';
    if (task.eni.ip) {
      task.eni.status = 'DELETED';
      this.deps.addresses.release(task.eni.ip);
    }
    this.setStatus(task, 'DEPROVISIONING');
    this.after(task, this.deps.config.delays.deprovisioningMs, () => {
      task.stoppedAt = Date.now();
      this.setStatus(task, 'STOPPED');
      // Stopped tasks stay describable for a while, then vanish as in ECS.
      this.after(task, this.deps.config.stoppedRetentionMs, () => this.forget(task));
    });
  }

  private forget(task: TaskRecord): void {
    this.tasks.delete(task.id);
    for (const c of task.containers) this.byRuntimeId.delete(c.runtimeId);
  }

  private containerEnv(
    task: TaskRecord,
    c: ContainerRecord,
    imageEnv: Record<string, string>,
  ): Record<string, string> {
    const base: Record<string, string> = {};
    // A local process still needs to find its interpreter and a home; a real image carries these.
    for (const key of ['PATH', 'HOME', 'LANG', 'TMPDIR', 'TZ']) {
      const v = process.env[key];
      if (v !== undefined) base[key] = v;
    }
    const env: Record<string, string> = { ...base, ...imageEnv };
    for (const kv of c.def.environment ?? []) env[kv.name] = kv.value;
    for (const kv of c.override?.environment ?? []) env[kv.name] = kv.value;
    const metadata = `${this.deps.metadataBaseUrl()}/v4/${c.runtimeId}`;
    Object.assign(env, {
      ECS_CONTAINER_METADATA_URI_V4: metadata,
      ECS_CONTAINER_METADATA_URI: metadata.replace('/v4/', '/v3/'),
      AWS_REGION: this.deps.config.region,
      AWS_DEFAULT_REGION: this.deps.config.region,
      AWS_EXECUTION_ENV: 'AWS_ECS_FARGATE',
      // Where to listen: the task's own address, as awsvpc gives each task its ENI.
      HOST: task.eni.ip!,
      BERTH_BIND_HOST: task.eni.ip!,
    });
    if (c.port !== undefined) env.PORT = String(c.port);
    Object.assign(env, this.deps.taskEnv?.(task));
    return env;
  }

  private setStatus(task: TaskRecord, status: TaskStatus): void {
    task.lastStatus = status;
    this.touch(task);
  }

  private touch(task: TaskRecord): void {
    task.version += 1;
  }

  private after(task: TaskRecord, ms: number, fn: () => void): void {
    if (this.closed) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (task.timer === timer) task.timer = undefined;
      fn();
    }, ms);
    this.timers.add(timer);
    task.timer = timer;
  }

  private cancelTimer(task: TaskRecord): void {
    if (task.timer) {
      clearTimeout(task.timer);
      this.timers.delete(task.timer);
      task.timer = undefined;
    }
  }

  /** Every process started, alive or not (for hygiene checks). */
  processes(): ContainerProcess[] {
    return this.all().flatMap((t) => t.containers.flatMap((c) => (c.process ? [c.process] : [])));
  }

  /** Stops every process (SIGTERM, SIGKILL after `graceMs`) and every timer. */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all(this.processes().map((p) => p.stop(graceMs)));
  }

  /** The task as DescribeTasks/RunTask answer it (describe-task.ts). */
  describe(task: TaskRecord, includeTags: boolean): Record<string, unknown> {
    return describeTask(task, this.deps.arns.region, includeTags);
  }
}

/**
 * Every port the task's containers listen on (awsvpc: all on the task's one
 * address): the port mappings, and a container's own `PORT` (definition or
 * override), which a container without a mapping (a tool behind a gate) is told
 * to listen on, as ecs-local tells a mapped one.
 */
function containerPorts(task: TaskRecord): number[] {
  return task.containers.flatMap((c) => {
    const mapped = (c.def.portMappings ?? []).flatMap((p) =>
      p.containerPort ? [p.containerPort] : [],
    );
    const env = [...(c.def.environment ?? []), ...(c.override?.environment ?? [])];
    const told = Number(env.findLast((e) => e.name === 'PORT')?.value);
    return Number.isInteger(told) && told > 0 && told < 65536 ? [...mapped, told] : mapped;
  });
}

// A function, not an inline comparison: the status changes across awaits.
function stopRequested(task: TaskRecord): boolean {
  return task.desiredStatus === 'STOPPED';
}
