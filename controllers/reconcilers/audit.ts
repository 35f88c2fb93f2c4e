// The controllers' entries in the audit log (store/audit.ts): an instance berth
// itself stopped or gave up on (its spawn timeout), written in the same
// transaction as the status write that says so, so a retried reconcile never
// records it twice.
import { recordAudit, type WriteOptions } from '../../store/index.ts';
import type { Run } from './instance-run.ts';

export const CONTROLLERS_ACTOR = 'system:controllers';

/** Write options for the status write of a stop berth decided on, with `reason` (e.g. SpawnTimeout). */
export function auditedStop(run: Run, reason: string): WriteOptions {
  const { namespace, name } = run.ti.metadata;
  return {
    inTransaction: async (db) => {
      await recordAudit(
        db,
        {
          actor: CONTROLLERS_ACTOR,
          action: 'instance.stopped',
          how: 'controller',
          target: { kind: 'ToolInstance', ...(namespace ? { namespace } : {}), name },
          detail: { reason, tool: run.ti.spec.toolRef },
        },
        run.ctx.log,
      );
    },
  };
}
