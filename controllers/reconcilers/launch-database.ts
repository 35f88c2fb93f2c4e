// A launch's database logins (controllers/credentials) as tool environment, and
// the Credentials condition that rides on the launch's next status write. Apart
// from instance-launch.ts, which prepares them while the Starting write commits.
import { type Condition, setCondition, type ToolDefinition } from '../../crds/index.ts';
import type { Run } from './instance-run.ts';

type Env = { name: string; value: string }[];

export type LaunchCredentials = { environment: Env; condition?: Condition };

/** The launch's database logins (controllers/credentials) and the Credentials condition. */
export async function prepareCredentials(
  run: Run,
  td: ToolDefinition,
  attempt: number,
): Promise<LaunchCredentials> {
  const creds = run.deps.credentials;
  if (!creds) return { environment: [] };
  return await creds.forLaunch(run.ctx, run.ti, td, attempt);
}

/**
 * The logins as tool environment. A Database that fails does not stop the
 * launch: the Credentials condition and a Warning Event say so. The condition is
 * set on `run.ti` here and written by the launch's next status write
 * (recordLaunched, or noCapacity), not by a write of its own: this is on the path
 * from the user's write to RunTask.
 */
export function useCredentials(run: Run, { environment, condition }: LaunchCredentials): Env {
  if (!condition) return environment;
  const gen = run.ti.metadata.generation;
  const status = run.ti.status ?? { conditions: [] };
  run.ti = {
    ...run.ti,
    status: {
      ...status,
      conditions: setCondition(
        status.conditions,
        { ...condition, observedGeneration: gen },
        run.ctx.now(),
      ),
    },
  };
  if (condition.status === 'False') {
    const input = {
      involvedObject: {
        kind: 'ToolInstance',
        name: run.ti.metadata.name,
        namespace: run.ti.metadata.namespace,
        uid: run.ti.metadata.uid,
      },
      type: 'Warning' as const,
      reason:
        condition.reason === 'KeyMissing' ? 'CredentialsKeyMissing' : 'CredentialsUnavailable',
      message: condition.message ?? 'No database credentials',
    };
    if (run.ctx.recordEventLater) run.ctx.recordEventLater(input);
    else void run.ctx.recordEvent(input).catch(() => {});
  }
  return environment;
}
