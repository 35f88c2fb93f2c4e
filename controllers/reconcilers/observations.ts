// What the poller saw, handed to the reconciler in the same process so it need
// not ask ECS again. The poller never writes status: it records an observation
// here and enqueues the instance's reconcile; the reconciler is the one writer
// of ToolInstance status (see README). A reconcile that runs in another replica
// finds nothing here and describes the task itself, so this is only a saving.
import type { Task } from '@aws-sdk/client-ecs';

export interface Observation {
  /** The task as DescribeTasks returned it, or undefined when ECS answered MISSING. */
  task: Task | undefined;
  at: number;
  /** Set when the poller probed readiness and it answered. */
  readyEndpoint?: string;
  readyAt?: number;
}

export class Observations {
  readonly #byArn = new Map<string, Observation>();
  readonly #maxAgeMs: number;

  constructor(maxAgeMs = 2000) {
    this.#maxAgeMs = maxAgeMs;
  }

  record(arn: string, task: Task | undefined, now = Date.now()): void {
    const prev = this.#byArn.get(arn);
    this.#byArn.set(arn, {
      task,
      at: now,
      ...(prev?.readyEndpoint ? { readyEndpoint: prev.readyEndpoint, readyAt: prev.readyAt } : {}),
    });
  }

  recordReady(arn: string, endpoint: string, now = Date.now()): void {
    const prev = this.#byArn.get(arn);
    if (prev) this.#byArn.set(arn, { ...prev, readyEndpoint: endpoint, readyAt: now });
  }

  /** A fresh observation of `arn`, or undefined. */
  fresh(arn: string, now = Date.now(), maxAgeMs = this.#maxAgeMs): Observation | undefined {
    const o = this.#byArn.get(arn);
    return o && now - o.at <= maxAgeMs ? o : undefined;
  }

  /** A readiness answer at most `maxAgeMs` old. */
  readyEndpoint(arn: string, maxAgeMs: number, now = Date.now()): string | undefined {
    const o = this.#byArn.get(arn);
    return o?.readyEndpoint && o.readyAt !== undefined && now - o.readyAt <= maxAgeMs
      ? o.readyEndpoint
      : undefined;
  }

  forget(arn: string): void {
    this.#byArn.delete(arn);
  }
}
