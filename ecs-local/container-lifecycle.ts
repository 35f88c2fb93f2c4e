// A task's containers through its lifecycle, as Fargate runs them: volumes made
// at the end of PENDING, containers started as their dependencies (dependsOn)
// allow, health-checked, restarted in place (restartPolicy), and stopped in
// reverse dependency order at STOPPING. The task's own states stay with the
// task engine (tasks.ts), reached through LifecycleHost.
import type { EcsLocalConfig } from './config.ts';
import { dependencyVerdict, dependentsOf, type StartState } from './container-dependencies.ts';
import { HealthMonitor, probeCommandLine } from './health-checks.ts';
import { commandLine, type ImageResolver } from './image-map.ts';
import { shouldRestart } from './restart-policy.ts';
import { ContainerProcess } from './runner.ts';
import type { ContainerRecord, StopCode, TaskRecord, TaskStatus } from './task-record.ts';
import type { ContainerLifetimes } from './tasks.ts';
import { rewritePath, type TaskVolumes } from './volumes.ts';

/** What the container lifecycle needs of the task engine. */
export interface LifecycleHost {
  config: EcsLocalConfig;
  images: ImageResolver;
  volumes: TaskVolumes;
  lifetimes: ContainerLifetimes | undefined;
  closed(): boolean;
  requestStop(task: TaskRecord, code: StopCode, reason: string): void;
  setStatus(task: TaskRecord, status: TaskStatus): void;
  touch(task: TaskRecord): void;
  after(task: TaskRecord, ms: number, fn: () => void): void;
  containerEnv(
    task: TaskRecord,
    c: ContainerRecord,
    imageEnv: Record<string, string>,
  ): Record<string, string>;
  deprovision(task: TaskRecord): void;
}

export class ContainerLifecycle {
  private readonly host: LifecycleHost;
  constructor(host: LifecycleHost) {
    this.host = host;
  }

  /** End of PENDING: the task's storage is made, then containers start as their dependencies allow. */
  start(task: TaskRecord): void {
    task.pullStoppedAt = Date.now();
    const names = ((task.definition.body.volumes as { name: string }[] | undefined) ?? []).map(
      (v) => v.name,
    );
    try {
      task.volumes = this.host.volumes.create(task.id, names);
    } catch (err) {
      const reason = `ResourceInitializationError: failed to create the task's volumes: ${(err as Error).message}`;
      this.host.requestStop(task, 'TaskFailedToStart', reason);
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
    if (task.startupDone || stopRequested(task) || this.host.closed()) return;
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
      this.host.setStatus(task, 'ACTIVATING');
      this.host.after(task, this.host.config.delays.activatingMs, () => {
        task.startedAt = Date.now();
        this.host.setStatus(task, 'RUNNING');
      });
    }
  }

  /** A dependency that can never hold: ECS's agent stops the dependent unstarted (exit code 143). */
  private cannotStart(task: TaskRecord, c: ContainerRecord, reason: string): void {
    c.startup = 'failed';
    c.lastStatus = 'STOPPED';
    c.exitCode = 143;
    c.reason = reason;
    this.host.touch(task);
    if (c.essential) this.host.requestStop(task, 'TaskFailedToStart', reason);
  }

  /** Starts the container's process (again, in place, for a restart: same address and environment). */
  private async launch(task: TaskRecord, c: ContainerRecord, restart: boolean): Promise<void> {
    const image = this.host.images.resolve(c.image)!;
    const { command, args } = commandLine(image.command, image.args, c);
    if (!restart) c.env = this.host.containerEnv(task, c, image.env);
    const dir = typeof c.def.workingDirectory === 'string' ? c.def.workingDirectory : image.cwd;
    const cwd = dir === undefined ? undefined : rewritePath(dir, c.mounts);
    let started: ContainerProcess;
    try {
      started = await ContainerProcess.start({
        command,
        args,
        env: c.env,
        cwd,
        outputCapBytes: this.host.config.outputCapBytes,
        output: c.process?.output,
      });
    } catch (err) {
      const reason = `CannotStartContainerError: ResourceInitializationError: failed to create new container runtime task: ${(err as Error).message}`;
      c.reason = reason;
      c.lastStatus = 'STOPPED';
      c.startup = restart ? 'started' : 'failed';
      c.launching = undefined;
      if (!restart) this.host.requestStop(task, 'TaskFailedToStart', reason);
      else if (c.essential) this.essentialExited(task);
      return;
    }
    if (this.host.closed()) {
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
    this.host.lifetimes?.started(started, task, c);
    void started.exited.then((exit) => {
      this.host.lifetimes?.ended(started);
      this.containerExited(task, c, started, exit.exitCode);
    });
    this.watchHealth(task, c, image.bin, cwd);
    this.host.touch(task);
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
      intervalOverrideMs: this.host.config.healthCheckIntervalMs,
      launch: async () => {
        const probe = await ContainerProcess.start({
          command: command!,
          args,
          env: c.env,
          cwd,
          outputCapBytes: 4096, // Docker keeps 4 KiB of a check's output
        });
        // A check is a process of the container's: the orphan guard and records cover it.
        this.host.lifetimes?.started(probe, task, c);
        void probe.exited.then(() => this.host.lifetimes?.ended(probe));
        return probe;
      },
      onChange: () => {
        this.host.touch(task);
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
    this.host.touch(task);
    const restart = shouldRestart({
      policy: c.def.restartPolicy,
      exitCode,
      startedAt: process.startedAt,
      taskStopping: stopRequested(task),
      periodOverrideMs: this.host.config.restartAttemptPeriodMs,
      now: Date.now(),
    });
    if (restart && !this.host.closed()) {
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
      this.host.requestStop(task, 'EssentialContainerExited', 'Essential container in task exited');
    }
  }

  /**
   * STOPPING in reverse dependency order: a container gets its SIGTERM once every
   * container that depends on it has exited; its own stopTimeout runs from there.
   */
  async stop(task: TaskRecord): Promise<void> {
    this.host.setStatus(task, 'STOPPING');
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
    if (this.host.closed()) return;
    task.executionStoppedAt = Date.now();
    this.host.deprovision(task);
  }
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
