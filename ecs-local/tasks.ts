// Tasks and their lifecycle, as ECS runs a Fargate task:
// PROVISIONING -> PENDING -> ACTIVATING -> RUNNING -> DEACTIVATING -> STOPPING
// -> DEPROVISIONING -> STOPPED, with the ENI (and its address) existing from the
// end of PROVISIONING, containers started as local processes, and stop codes and
// reasons worded as ECS words them; containers start in dependency order (dependsOn),
// are health-checked, restarted in place (restartPolicy) and stopped in reverse
// order. The state machine in one place (its records, DescribeTasks shape and rules
// are apart: task-record.ts, describe-task.ts, container-dependencies.ts,
// health-checks.ts, restart-policy.ts, volumes.ts).
import { randomBytes } from 'node:crypto';
import { AddressError, type AddressPool } from './addresses.ts';
import { type Arns, newTaskId } from './arns.ts';
import type { EcsLocalConfig } from './config.ts';
import { dependencyVerdict, dependentsOf, type StartState } from './container-dependencies.ts';
import { describeTask } from './describe-task.ts';
import type { FaultState } from './faults.ts';
import { HealthMonitor, probeCommandLine } from './health-checks.ts';
import { canonicalReference, commandLine, type ImageResolver } from './image-map.ts';
import { shouldRestart } from './restart-policy.ts';
import { ContainerProcess } from './runner.ts';
import type { ContainerRecord, NewTask, StopCode, TaskRecord, TaskStatus } from './task-record.ts';
import { rewriteMountedPaths, rewritePath, type TaskVolumes } from './volumes.ts';

export interface TaskEngineDeps {
  config: EcsLocalConfig;
  arns: Arns;
  addresses: AddressPool;
  images: ImageResolver;
  faults: FaultState;
  /** Where task volumes' folders are made. */
  volumes: TaskVolumes;
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
      startupDone: false,
      volumes: {},
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
        startup: 'waiting',
        launching: undefined,
        health: undefined,
        restartCount: 0,
        lastRestartAt: undefined,
        mounts: [],
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

  /** End of PENDING: the task's storage is made, then containers start as their dependencies allow. */
  private startContainers(task: TaskRecord): void {
    task.pullStoppedAt = Date.now();
    const names = ((task.definition.body.volumes as { name: string }[] | undefined) ?? []).map(
      (v) => v.name,
    );
    try {
      task.volumes = this.deps.volumes.create(task.id, names);
    } catch (err) {
      const reason = `ResourceInitializationError: failed to create the task's volumes: ${(err as Error).message}`;
      this.requestStop(task, 'TaskFailedToStart', reason);
      return;
    }
    for (const c of task.containers) {
      c.mounts = (c.def.mountPoints ?? []).map((m) => ({
        containerPath: m.containerPath,
        localPath: task.volumes[m.sourceVolume]!,
      }));
    }
    this.progressStartup(task);
  }

  /**
   * Starts each waiting container whose dependencies hold, gives up on those
   * whose dependencies never can, and once none waits moves the task on to
   * ACTIVATING. Called again whenever a container starts, exits or changes health.
   */
  private progressStartup(task: TaskRecord): void {
    if (task.startupDone || stopRequested(task) || this.closed) return;
    if (task.lastStatus !== 'PENDING') return;
    let changed = true;
    while (changed) {
      changed = false;
      const states = task.containers.map(startState);
      for (const c of task.containers) {
        if (c.startup !== 'waiting') continue;
        const verdict = dependencyVerdict(startState(c), states);
        if (verdict.kind === 'met') {
          c.startup = 'starting';
          c.launching = this.launch(task, c, false);
        } else if (verdict.kind === 'unsatisfiable') {
          this.cannotStart(task, c, verdict.reason);
          if (stopRequested(task)) return;
          changed = true;
        }
      }
    }
    if (task.containers.every((c) => c.startup === 'started' || c.startup === 'failed')) {
      task.startupDone = true;
      this.setStatus(task, 'ACTIVATING');
      this.after(task, this.deps.config.delays.activatingMs, () => {
        task.startedAt = Date.now();
        this.setStatus(task, 'RUNNING');
      });
    }
  }

  /** A dependency that can never hold: ECS's agent stops the dependent unstarted (exit code 143). */
  private cannotStart(task: TaskRecord, c: ContainerRecord, reason: string): void {
    c.startup = 'failed';
    c.lastStatus = 'STOPPED';
    c.exitCode = 143;
    c.reason = reason;
    this.touch(task);
    if (c.essential) this.requestStop(task, 'TaskFailedToStart', reason);
  }

  /** Starts the container's process (again, in place, for a restart: same address and environment). */
  private async launch(task: TaskRecord, c: ContainerRecord, restart: boolean): Promise<void> {
    const image = this.deps.images.resolve(c.image)!;
    const { command, args } = commandLine(image.command, image.args, c);
    if (!restart) c.env = this.containerEnv(task, c, image.env);
    const dir = typeof c.def.workingDirectory === 'string' ? c.def.workingDirectory : image.cwd;
    const cwd = dir === undefined ? undefined : rewritePath(dir, c.mounts);
    let started: ContainerProcess;
    try {
      started = await ContainerProcess.start({
        command,
        args,
        env: c.env,
        cwd,
        outputCapBytes: this.deps.config.outputCapBytes,
        output: c.process?.output,
      });
    } catch (err) {
      const reason = `CannotStartContainerError: ResourceInitializationError: failed to create new container runtime task: ${(err as Error).message}`;
      c.reason = reason;
      c.lastStatus = 'STOPPED';
      c.startup = restart ? 'started' : 'failed';
      c.launching = undefined;
      if (!restart) this.requestStop(task, 'TaskFailedToStart', reason);
      else if (c.essential) this.essentialExited(task);
      return;
    }
    if (this.closed) {
      void started.kill();
      return;
    }
    c.process = started;
    c.lastStatus = 'RUNNING';
    c.startedAt = started.startedAt;
    c.exitCode = undefined;
    c.finishedAt = undefined;
    c.startup = 'started';
    c.launching = undefined;
    this.deps.lifetimes?.started(started, task, c);
    void started.exited.then((exit) => {
      this.deps.lifetimes?.ended(started);
      this.containerExited(task, c, started, exit.exitCode);
    });
    this.watchHealth(task, c, image.bin, cwd);
    this.touch(task);
    this.progressStartup(task);
  }

  private watchHealth(
    task: TaskRecord,
    c: ContainerRecord,
    bin: Record<string, string[]>,
    cwd: string | undefined,
  ): void {
    const check = c.def.healthCheck;
    if (!check) return;
    const [command, ...args] = probeCommandLine(check.command, bin);
    c.health = new HealthMonitor({
      check,
      intervalOverrideMs: this.deps.config.healthCheckIntervalMs,
      launch: async () => {
        const probe = await ContainerProcess.start({
          command: command!,
          args,
          env: c.env,
          cwd,
          outputCapBytes: 4096, // Docker keeps 4 KiB of a check's output
        });
        // A check is a process of the container's: the orphan guard and records cover it.
        this.deps.lifetimes?.started(probe, task, c);
        void probe.exited.then(() => this.deps.lifetimes?.ended(probe));
        return probe;
      },
      onChange: () => {
        this.touch(task);
        this.progressStartup(task);
      },
    });
  }

  private containerExited(
    task: TaskRecord,
    c: ContainerRecord,
    process: ContainerProcess,
    exitCode: number,
  ): void {
    void c.health?.stop();
    c.exitCode = exitCode;
    c.lastStatus = 'STOPPED';
    c.finishedAt = Date.now();
    this.touch(task);
    const restart = shouldRestart({
      policy: c.def.restartPolicy,
      exitCode,
      startedAt: process.startedAt,
      taskStopping: stopRequested(task),
      periodOverrideMs: this.deps.config.restartAttemptPeriodMs,
      now: Date.now(),
    });
    if (restart && !this.closed) {
      c.restartCount += 1;
      c.lastRestartAt = Date.now();
      c.launching = this.launch(task, c, true);
      return;
    }
    if (c.essential) this.essentialExited(task);
    else this.progressStartup(task); // a COMPLETE or SUCCESS dependency may now hold, or never
  }

  private essentialExited(task: TaskRecord): void {
    if (task.desiredStatus === 'RUNNING') {
      this.requestStop(task, 'EssentialContainerExited', 'Essential container in task exited');
    }
  }

  /**
   * STOPPING in reverse dependency order: a container gets its SIGTERM once every
   * container that depends on it has exited; its own stopTimeout runs from there.
   */
  private async stopContainers(task: TaskRecord): Promise<void> {
    this.setStatus(task, 'STOPPING');
    const specs = task.containers.map((c) => ({ name: c.name, dependsOn: c.def.dependsOn ?? [] }));
    const stops = new Map<string, Promise<void>>();
    const stop = (c: ContainerRecord): Promise<void> => {
      let done = stops.get(c.name);
      if (!done) {
        done = (async () => {
          const dependents = dependentsOf(c.name, specs);
          await Promise.all(
            task.containers.filter((d) => dependents.includes(d.name)).map((d) => stop(d)),
          );
          await c.launching;
          if (c.process) {
            const exit = await c.process.stop(c.stopTimeoutMs);
            c.exitCode ??= exit.exitCode;
            c.finishedAt ??= Date.now();
          }
          await c.health?.stop();
          c.lastStatus = 'STOPPED';
        })();
        stops.set(c.name, done);
      }
      return done;
    };
    await Promise.all(task.containers.map(stop));
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
    // Fargate's task storage goes with the task: STOPPED only once it is gone.
    const storageGone =
      Object.keys(task.volumes).length > 0
        ? this.deps.volumes.remove(task.id).catch(() => {})
        : Promise.resolve();
    this.setStatus(task, 'DEPROVISIONING');
    this.after(task, this.deps.config.delays.deprovisioningMs, () => {
      void storageGone.then(() => {
        task.stoppedAt = Date.now();
        this.setStatus(task, 'STOPPED');
        // Stopped tasks stay describable for a while, then vanish as in ECS.
        this.after(task, this.deps.config.stoppedRetentionMs, () => this.forget(task));
      });
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
    return rewriteMountedPaths(env, c.mounts);
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
    return this.all().flatMap((t) =>
      t.containers.flatMap((c) => [c.process, c.health?.probe].filter((p) => p !== undefined)),
    );
  }

  /** Stops every process (SIGTERM, SIGKILL after `graceMs`) and every timer. */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const checks = this.all().flatMap((t) => t.containers.map((c) => c.health?.stop()));
    await Promise.all([...checks, ...this.processes().map((p) => p.stop(graceMs))]);
    this.deps.volumes.close(this.all().map((t) => t.id));
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

function startState(c: ContainerRecord): StartState {
  return {
    name: c.name,
    dependsOn: c.def.dependsOn ?? [],
    startup: c.startup,
    running: c.process?.running ?? false,
    exitCode: c.exitCode,
    health: c.health?.status ?? 'UNKNOWN',
  };
}

// A function, not an inline comparison: the status changes across awaits.
function stopRequested(task: TaskRecord): boolean {
  return task.desiredStatus === 'STOPPED';
}
