// A launch's database logins (instance-launch.ts calls it between the Starting
// write and RunTask): in every Database at once, the subject's role, schema and
// dataset memberships and a login for this attempt, whose password is derived
// (loginPassword) so a retried launch gets the same one and ECS, answering the
// same clientToken with the same task, sees the same environment. A Database that
// fails is skipped: the launch goes on with the others and the instance says
// which in its Credentials condition (and a Warning Event). Stopping disables
// the attempt's login and terminates its sessions; Stopped drops it (whatever
// the owner created belongs to their subject role and stays).
import {
  type Condition,
  type Database,
  getCondition,
  parseDuration,
  type ToolDefinition,
  type ToolInstance,
} from '../../crds/index.ts';
import type { ReconcileContext } from '../reconcile.ts';
import { listDatabases, readableDatasets, subjectOf } from './access.ts';
import { DatabaseUnavailable } from './admin-credentials.ts';
import type { AdminPools } from './admin-pools.ts';
import type { CredentialsConfig } from './config.ts';
import { disableLogin, dropLogin, loginPassword, prepareLaunchLogin } from './engine.ts';
import type { RoleChangeQueue } from './role-queue.ts';
import { type DatabaseLogin, databaseEnvironment } from './tool-environment.ts';

const DEFAULT_VALID_FOR_MS = 31 * 24 * 3600_000;

export interface LaunchCredentials {
  /** Environment entries for the tool container (may hold passwords: RunTask overrides only). */
  environment: { name: string; value: string }[];
  /** The instance's Credentials condition; undefined when there are no Databases. */
  condition?: Condition;
}

/** The credentials side of the ToolInstance reconciler (deps.credentials). */
export interface InstanceCredentials {
  forLaunch(
    ctx: ReconcileContext,
    ti: ToolInstance,
    td: ToolDefinition,
    attempt: number,
  ): Promise<LaunchCredentials>;
  /** The task is being stopped: no new connections, open sessions terminated. Never throws. */
  disable(ctx: ReconcileContext, ti: ToolInstance, attempt: number): Promise<void>;
  /** The task is gone: the login is dropped. Never throws (the GC retries). */
  drop(ctx: ReconcileContext, ti: ToolInstance, attempt: number): Promise<void>;
}

export function createInstanceCredentials(
  config: CredentialsConfig,
  pools: AdminPools,
  queue: RoleChangeQueue,
): InstanceCredentials {
  const eachDatabase = async (
    ctx: ReconcileContext,
    ti: ToolInstance,
    what: string,
    fn: (pool: Awaited<ReturnType<AdminPools['get']>>, installationId: string) => Promise<void>,
  ) => {
    const installationId = ctx.driver.config.installationId;
    // One known to be down is left to the login GC: a stop does not wait for its connect timeout.
    const dbs = (await listDatabases(ctx.store).catch(() => [] as Database[])).filter(
      (db) => getCondition(db.status?.conditions, 'Connected')?.status !== 'False',
    );
    await Promise.all(
      dbs.map(async (db) => {
        try {
          const pool = await pools.get(db);
          await queue.run(db.metadata.name, () => fn(pool, installationId));
        } catch (err) {
          ctx.log.warn(
            {
              instance: `${ti.metadata.namespace}/${ti.metadata.name}`,
              database: db.metadata.name,
              reason:
                err instanceof DatabaseUnavailable ? err.reason : (err as { code?: string }).code,
            },
            `could not ${what} the launch's database login; the login GC will`,
          );
        }
      }),
    );
  };

  return {
    async forLaunch(ctx, ti, td, attempt) {
      // The reads it needs at once: this is on the path from the user's write to RunTask.
      const facts = subjectOf(ctx.store, ti).then(async (subject) => ({
        subject,
        ...(await readableDatasets(ctx.store, subject)),
      }));
      facts.catch(() => {}); // awaited below unless there is nothing to do
      const dbs = (await listDatabases(ctx.store)).filter((d) => !d.metadata.deletionTimestamp);
      if (dbs.length === 0) return { environment: [] };
      if (!config.key) {
        return {
          environment: [],
          condition: {
            type: 'Credentials',
            status: 'False',
            reason: 'KeyMissing',
            message: 'No database logins: BERTH_CREDENTIALS_KEY is not set in the controllers',
          },
        };
      }
      const key = config.key;
      const uid = ti.metadata.uid!;
      const installationId = ctx.driver.config.installationId;
      const { subject, readable: datasets, all } = await facts;
      const instance = `${ti.metadata.namespace}/${ti.metadata.name}`;
      const now = ctx.now().getTime();
      const failed: string[] = [];
      const logins: DatabaseLogin[] = [];
      await Promise.all(
        dbs.map(async (db) => {
          const connected = getCondition(db.status?.conditions, 'Connected');
          if (connected?.status === 'False') {
            failed.push(`${db.metadata.name} (${connected.reason ?? 'NotConnected'})`);
            return;
          }
          try {
            const pool = await pools.get(db);
            const l = db.spec.logins;
            const validFor = l.validFor ?? td.spec.maxLifetime;
            const password = loginPassword(key, uid, attempt, db.metadata.name);
            const { login } = await queue.run(db.metadata.name, () =>
              prepareLaunchLogin(pool, {
                installationId,
                uid,
                attempt,
                instance,
                subject: { kind: subject.kind, name: subject.name },
                datasets,
                password,
                validUntil: new Date(
                  now + (validFor ? parseDuration(validFor) : DEFAULT_VALID_FOR_MS),
                ),
                connectionLimit: l.connectionLimit,
                statementTimeoutMs: parseDuration(l.statementTimeout),
                idleInTransactionTimeoutMs: parseDuration(l.idleInTransactionTimeout),
              }),
            );
            logins.push({ db, user: login, password });
            if (attempt > 1) {
              // The previous attempt's login, if a stop did not get to it.
              const prev = attempt - 1;
              void queue
                .run(db.metadata.name, async () => {
                  await disableLogin(pool, installationId, uid, prev);
                  await dropLogin(pool, installationId, uid, prev);
                })
                .catch(() => {});
            }
          } catch (err) {
            const reason =
              err instanceof DatabaseUnavailable
                ? err.reason
                : `Error${(err as { code?: string }).code ? ` ${(err as { code?: string }).code}` : ''}`;
            ctx.log.warn(
              {
                instance,
                database: db.metadata.name,
                reason,
                // The driver's text names SQL objects, never the password (the engine sends a verifier).
                error: (err as Error).message,
              },
              'could not prepare the database login; launching without it',
            );
            failed.push(`${db.metadata.name} (${reason})`);
          }
        }),
      );
      // The launch set this subject's memberships from what it read; an access
      // change committed meanwhile would be undone until the Dataset's next
      // sync, so every Dataset syncs again after it (one queued job per key).
      if (logins.length > 0)
        for (const name of all)
          void ctx.enqueue({ kind: 'Dataset', name }, { priority: 'system' }).catch(() => {});
      failed.sort();
      const names = logins.map((l) => l.db.metadata.name).sort();
      const condition: Condition =
        failed.length === 0
          ? {
              type: 'Credentials',
              status: 'True',
              reason: 'LoginsCreated',
              message: `Database logins for ${names.join(', ')}`,
            }
          : {
              type: 'Credentials',
              status: 'False',
              reason: 'DatabaseUnavailable',
              message: `No database login for ${failed.join(', ')}${names.length ? `; logins for ${names.join(', ')}` : ''}`,
            };
      return { environment: databaseEnvironment(logins), condition };
    },

    async disable(ctx, ti, attempt) {
      await eachDatabase(ctx, ti, 'disable', (pool, inst) =>
        disableLogin(pool, inst, ti.metadata.uid!, attempt),
      );
    },

    async drop(ctx, ti, attempt) {
      await eachDatabase(ctx, ti, 'drop', (pool, inst) =>
        dropLogin(pool, inst, ti.metadata.uid!, attempt),
      );
    },
  };
}
