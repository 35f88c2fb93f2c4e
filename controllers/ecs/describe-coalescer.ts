// Merges DescribeTasks calls from many callers. Every call made within one
// window (a few milliseconds, or one turn of the event loop) joins one flush;
// the flush asks ECS about the distinct task references in batches of at most
// 100 (DescribeTasks' limit) and hands each caller back only its own tasks and
// failures. Hundreds of reconcilers polling their own task then cost a handful
// of calls against the cluster-read bucket instead of hundreds.
import type { Failure, Task } from '@aws-sdk/client-ecs';

export const DESCRIBE_TASKS_MAX = 100;

export interface DescribeResult {
  tasks: Task[];
  failures: Failure[];
}

export type DescribeBatch = (refs: string[]) => Promise<DescribeResult>;

interface PendingCall {
  refs: string[];
  resolve: (r: DescribeResult) => void;
  reject: (e: unknown) => void;
}

export class DescribeCoalescer {
  private readonly batch: DescribeBatch;
  private readonly windowMs: number;
  private pending: PendingCall[] = [];
  private scheduled = false;

  constructor(batch: DescribeBatch, windowMs: number) {
    this.batch = batch;
    this.windowMs = windowMs;
  }

  /** Describes tasks by ARN (or task id); resolves with this caller's tasks and failures only. */
  describe(refs: readonly string[]): Promise<DescribeResult> {
    if (refs.length === 0) return Promise.resolve({ tasks: [], failures: [] });
    return new Promise((resolve, reject) => {
      this.pending.push({ refs: [...refs], resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        const flush = () => void this.flush();
        if (this.windowMs > 0) setTimeout(flush, this.windowMs);
        else setImmediate(flush);
      }
    });
  }

  private async flush(): Promise<void> {
    const calls = this.pending;
    this.pending = [];
    this.scheduled = false;

    const distinct = [...new Set(calls.flatMap((c) => c.refs))];
    const chunks: string[][] = [];
    for (let i = 0; i < distinct.length; i += DESCRIBE_TASKS_MAX) {
      chunks.push(distinct.slice(i, i + DESCRIBE_TASKS_MAX));
    }
    const outcomes = await Promise.allSettled(chunks.map((chunk) => this.batch(chunk)));

    // Index every answer by the reference the caller used: a full ARN or a bare task id.
    const taskByRef = new Map<string, Task>();
    const failureByRef = new Map<string, Failure>();
    const errorByRef = new Map<string, unknown>();
    outcomes.forEach((outcome, i) => {
      if (outcome.status === 'rejected') {
        for (const ref of chunks[i]!) errorByRef.set(ref, outcome.reason);
        return;
      }
      for (const task of outcome.value.tasks) {
        if (!task.taskArn) continue;
        taskByRef.set(task.taskArn, task);
        taskByRef.set(taskIdOf(task.taskArn), task);
      }
      for (const failure of outcome.value.failures) {
        if (failure.arn) failureByRef.set(failure.arn, failure);
      }
    });

    for (const call of calls) {
      const error = call.refs.map((r) => errorByRef.get(r)).find((e) => e !== undefined);
      if (error !== undefined) {
        call.reject(error);
        continue;
      }
      const tasks: Task[] = [];
      const failures: Failure[] = [];
      for (const ref of call.refs) {
        const task = taskByRef.get(ref);
        if (task) tasks.push(task);
        else failures.push(failureByRef.get(ref) ?? { arn: ref, reason: 'MISSING' });
      }
      call.resolve({ tasks, failures });
    }
  }
}

/** `arn:aws:ecs:r:a:task/cluster/0123abcd` -> `0123abcd`. */
export function taskIdOf(taskArn: string): string {
  return taskArn.slice(taskArn.lastIndexOf('/') + 1);
}
