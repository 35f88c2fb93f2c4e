// Container health checks, as Docker runs them for ECS: the command runs every
// `interval` (first one `interval` after the container starts) with the
// container's environment and folder, a run past `timeout` is killed and
// fails; `retries` failures in a row make the container UNHEALTHY (failures
// inside `startPeriod` before its first success do not count), one success
// makes it HEALTHY. Each run is a process of its own, stopped with its container.
import { z } from 'zod';
import { clientError } from './protocol.ts';
import type { ContainerProcess } from './runner.ts';

export const healthCheckSchema = z.object({
  command: z.array(z.string()).min(1),
  interval: z.number().int().optional(),
  timeout: z.number().int().optional(),
  retries: z.number().int().optional(),
  startPeriod: z.number().int().optional(),
});
export type HealthCheck = z.infer<typeof healthCheckSchema>;
export type HealthStatus = 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';

// ECS's ranges (seconds, retries) and defaults.
const RANGES = {
  interval: [5, 300, 30],
  timeout: [2, 60, 5],
  retries: [1, 10, 3],
  startPeriod: [0, 300, undefined],
} as const;

export function checkHealthCheck(container: string, check: HealthCheck | undefined): void {
  if (!check) return;
  const kind = check.command[0];
  if ((kind !== 'CMD' && kind !== 'CMD-SHELL') || check.command.length < 2) {
    throw clientError(
      `Invalid setting for container '${container}'. healthCheck.command must be ["CMD", program, args...] or ["CMD-SHELL", command].`,
    );
  }
  for (const [field, [min, max]] of Object.entries(RANGES)) {
    const value = check[field as keyof typeof RANGES];
    if (value !== undefined && (value < min || value > max)) {
      throw clientError(
        `Invalid setting for container '${container}'. healthCheck.${field} must be between ${min} and ${max}.`,
      );
    }
  }
}

/** As DescribeTaskDefinition echoes it: interval, timeout and retries filled in. */
export function withHealthCheckDefaults(check: HealthCheck): HealthCheck {
  return {
    ...check,
    interval: check.interval ?? RANGES.interval[2],
    timeout: check.timeout ?? RANGES.timeout[2],
    retries: check.retries ?? RANGES.retries[2],
  };
}

/**
 * The process a check runs: `CMD` runs the program (found in the image's `bin`
 * table, else on PATH) with its arguments; `CMD-SHELL` runs `/bin/sh -c`.
 */
export function probeCommandLine(command: string[], bin: Record<string, string[]>): string[] {
  const [kind, ...rest] = command;
  if (kind === 'CMD-SHELL') return ['/bin/sh', '-c', rest.join(' ')];
  const [program, ...args] = rest;
  return [...(bin[program!] ?? [program!]), ...args];
}

export interface HealthMonitorOptions {
  check: HealthCheck;
  /** Replaces the check's interval (ecs-local's `healthCheckIntervalMs`, for tests). */
  intervalOverrideMs: number | undefined;
  /** Starts one run of the check (a process in its own group, tracked like a container's). */
  launch: () => Promise<ContainerProcess>;
  /** Told of every status change. */
  onChange: (status: HealthStatus) => void;
}

export class HealthMonitor {
  status: HealthStatus = 'UNKNOWN';
  /** When the status last changed. */
  since: number | undefined;
  /** The last run's output (Docker keeps it for inspection); never logged. */
  output = '';
  private readonly options: HealthMonitorOptions;
  private readonly startedAt = Date.now();
  private failingStreak = 0;
  private timer: NodeJS.Timeout | undefined;
  private current: ContainerProcess | undefined;
  private stopped = false;

  constructor(options: HealthMonitorOptions) {
    this.options = options;
    this.schedule();
  }

  /** The run in progress, if any (its process dies with the container). */
  get probe(): ContainerProcess | undefined {
    return this.current;
  }

  /** The container stopped: no more runs, and the one in progress is killed. */
  stop(): Promise<unknown> {
    this.stopped = true;
    clearTimeout(this.timer);
    return this.current?.kill() ?? Promise.resolve();
  }

  private schedule(): void {
    if (this.stopped) return;
    const { check, intervalOverrideMs } = this.options;
    const intervalMs = intervalOverrideMs ?? (check.interval ?? RANGES.interval[2]) * 1000;
    this.timer = setTimeout(() => void this.runOnce(), intervalMs);
  }

  private async runOnce(): Promise<void> {
    const timeoutMs = (this.options.check.timeout ?? RANGES.timeout[2]) * 1000;
    let passed = false;
    try {
      const probe = await this.options.launch();
      this.current = probe;
      if (this.stopped) void probe.kill();
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const result = await Promise.race([probe.exited, timedOut]);
      clearTimeout(timer);
      if (result === 'timeout') {
        await probe.kill();
        this.output = `Health check exceeded timeout (${timeoutMs / 1000}s)`;
      } else {
        passed = result.exitCode === 0;
        this.output = probe.output.text();
      }
    } catch (err) {
      this.output = (err as Error).message; // e.g. the program cannot be found
    }
    this.current = undefined;
    if (this.stopped) return;
    this.record(passed);
    this.schedule();
  }

  private record(passed: boolean): void {
    if (passed) {
      this.failingStreak = 0;
      this.set('HEALTHY');
      return;
    }
    const startPeriodMs = (this.options.check.startPeriod ?? 0) * 1000;
    const starting = this.status === 'UNKNOWN' && Date.now() - this.startedAt < startPeriodMs;
    if (starting) return; // failures in the start period do not count
    this.failingStreak += 1;
    if (this.failingStreak >= (this.options.check.retries ?? RANGES.retries[2])) {
      this.set('UNHEALTHY');
    }
  }

  private set(status: HealthStatus): void {
    if (status === this.status) return;
    this.status = status;
    this.since = Date.now();
    this.options.onChange(status);
  }
}

/** ECS's task health: UNHEALTHY if any essential container is, HEALTHY when every essential container with a check is. */
export function taskHealth(
  containers: { essential: boolean; hasCheck: boolean; health: HealthStatus }[],
): HealthStatus {
  const checked = containers.filter((c) => c.essential && c.hasCheck);
  if (checked.some((c) => c.health === 'UNHEALTHY')) return 'UNHEALTHY';
  if (checked.length > 0 && checked.every((c) => c.health === 'HEALTHY')) return 'HEALTHY';
  return 'UNKNOWN';
}
