// Container restart policy, as ECS's agent applies it: a container that exits
// is started again in place, unless its exit code is ignored, the task is
// stopping, or it ran for less than restartAttemptPeriod since it (last) started.
import { z } from 'zod';
import { clientError } from './protocol.ts';

export const restartPolicySchema = z.object({
  enabled: z.boolean(),
  ignoredExitCodes: z.array(z.number().int()).optional(),
  restartAttemptPeriod: z.number().int().optional(),
});
export type RestartPolicy = z.infer<typeof restartPolicySchema>;

/** ECS's default period, in seconds. */
export const DEFAULT_RESTART_ATTEMPT_PERIOD = 300;

export function checkRestartPolicy(container: string, policy: RestartPolicy | undefined): void {
  if (!policy) return;
  const period = policy.restartAttemptPeriod;
  if (period !== undefined && (period < 60 || period > 1800)) {
    throw clientError(
      `Invalid setting for container '${container}'. restartPolicy.restartAttemptPeriod must be between 60 and 1800 seconds.`,
    );
  }
  if ((policy.ignoredExitCodes?.length ?? 0) > 50) {
    throw clientError(
      `Invalid setting for container '${container}'. restartPolicy.ignoredExitCodes can have at most 50 exit codes.`,
    );
  }
}

export interface RestartDecisionInput {
  policy: RestartPolicy | undefined;
  exitCode: number;
  /** When the process that just exited was started (the first start or the last restart). */
  startedAt: number;
  taskStopping: boolean;
  /** ecs-local's `restartAttemptPeriodMs`, replacing the policy's period when set (tests). */
  periodOverrideMs: number | undefined;
  now: number;
}

export function shouldRestart(input: RestartDecisionInput): boolean {
  const { policy } = input;
  if (!policy?.enabled || input.taskStopping) return false;
  if (policy.ignoredExitCodes?.includes(input.exitCode)) return false;
  const periodMs =
    input.periodOverrideMs ??
    (policy.restartAttemptPeriod ?? DEFAULT_RESTART_ATTEMPT_PERIOD) * 1000;
  return input.now - input.startedAt >= periodMs;
}
