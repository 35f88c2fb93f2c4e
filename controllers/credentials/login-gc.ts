// The login garbage collector: every BERTH_CREDENTIALS_GC_INTERVAL_MS, in each
// Database, drops this installation's launch logins whose launch is over — no
// instance with that uid, or the instance is on another attempt, or its phase is
// not Pending/Starting/Ready. Logins younger than the grace are spared: a launch
// makes its login while it writes its attempt, so for a moment a live login's
// instance still shows the previous attempt. This cleans up after a stop that could not reach a
// database, a crash in the middle of a launch, or a Failed attempt.
import type { ToolInstance } from '../../crds/index.ts';
import type { Runnable } from '../reconcile.ts';
import { sleepUnlessAborted } from '../sleep.ts';
import { listDatabases } from './access.ts';
import type { AdminPools } from './admin-pools.ts';
import type { CredentialsConfig } from './config.ts';
import { gcLogins } from './engine.ts';
import type { RoleChangeQueue } from './role-queue.ts';

type RunnableContext = Parameters<Runnable['start']>[0];

const LIVE_PHASES = new Set(['Pending', 'Starting', 'Ready']);

export interface LoginGcPass {
  /** Login roles dropped, by Database name. */
  dropped: Record<string, number>;
  /** Databases that could not be reached this pass, or where a login could not be dropped. */
  skipped: string[];
}

export function createLoginGc(
  config: Pick<CredentialsConfig, 'gcIntervalMs' | 'gcGraceMs'>,
  pools: AdminPools,
  queue: RoleChangeQueue,
): Runnable & { runOnce(ctx: RunnableContext): Promise<LoginGcPass> } {
  const runOnce = async (ctx: RunnableContext): Promise<LoginGcPass> => {
    const installationId = ctx.driver.config.installationId;
    const dbs = await listDatabases(ctx.store);
    const out: LoginGcPass = { dropped: {}, skipped: [] };
    if (dbs.length === 0) return out;
    // Logins first would race a launch between the two reads; instances first
    // can only make a just-created login look dead, and the grace spares it.
    const instances = (await ctx.store.list('ToolInstance')).items as ToolInstance[];
    const live = new Map<string, number>();
    for (const ti of instances) {
      const s = ti.status;
      if (s?.attempt !== undefined && s.phase && LIVE_PHASES.has(s.phase))
        live.set(ti.metadata.uid!, s.attempt);
    }
    const isLive = (uid: string, attempt: number) => live.get(uid) === attempt;
    await Promise.all(
      dbs.map(async (db) => {
        try {
          const pool = await pools.get(db);
          const dropped = await queue.run(db.metadata.name, () =>
            gcLogins(pool, installationId, isLive, config.gcGraceMs, ctx.now()),
          );
          out.dropped[db.metadata.name] = dropped.dropped.length;
          if (dropped.failed.length > 0) out.skipped.push(db.metadata.name);
        } catch {
          out.skipped.push(db.metadata.name);
        }
      }),
    );
    return out;
  };
  return {
    name: 'login-gc',
    runOnce,
    start: async (ctx) => {
      while (!ctx.signal.aborted) {
        await sleepUnlessAborted(config.gcIntervalMs, ctx.signal);
        if (ctx.signal.aborted) return;
        try {
          const r = await runOnce(ctx);
          const total = Object.values(r.dropped).reduce((a, b) => a + b, 0);
          if (total > 0 || r.skipped.length > 0)
            ctx.log.info({ dropped: r.dropped, skipped: r.skipped }, 'login gc pass');
        } catch (err) {
          ctx.log.warn({ err: (err as Error).message }, 'login gc pass failed; next pass retries');
        }
      }
      // The runnables stop with the manager: the admin connections go with them.
      await pools.close();
    },
  };
}
