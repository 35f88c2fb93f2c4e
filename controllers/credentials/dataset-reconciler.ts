// The Dataset reconciler: turns a Dataset into PostgreSQL grants in each
// Database its tables name — a dataset role with SELECT on exactly those tables,
// held by exactly the subjects (user and app roles that exist there) that
// crds' datasetGrants says may read it. Membership changes reach running
// sessions at the next statement, so an edit of access.users or an approval
// (AccessRequest writes enqueue their Dataset, queue/write-hook.ts) takes effect
// in running tools within seconds.
//
// Status: TablesExist (False names each missing `database: schema.table`),
// GrantsInPlace (False names each Database that could not be reached; the
// others are still synced), Ready (both), access (who has it), observedGeneration.
// The finalizer berth.io/dataset-grants keeps a deleted Dataset until its role is
// dropped from every Database its tables name (an unreachable one keeps it, and
// it retries).
import { type Condition, type Dataset, isApiError, setCondition } from '../../crds/index.ts';
import { done, type ReconcileResult, type Reconciler, requeueAfter } from '../reconcile.ts';
import { accessSummary, listDatabases, membersAmong, membershipFacts } from './access.ts';
import { DatabaseUnavailable } from './admin-credentials.ts';
import type { AdminPools } from './admin-pools.ts';
import { dropDataset, listSubjects, syncDataset } from './engine.ts';

export const DATASET_FINALIZER = 'berth.io/dataset-grants';
const BACKSTOP_MS = 5 * 60_000;
const RETRY_MS = 30_000;

export function createDatasetReconciler(pools: AdminPools): Reconciler {
  return async (ctx, key): Promise<ReconcileResult> => {
    let ds: Dataset;
    try {
      ds = (await ctx.store.get('Dataset', undefined, key.name)) as Dataset;
    } catch (err) {
      if (isApiError(err, 'NotFound')) return done();
      throw err;
    }
    const installationId = ctx.driver.config.installationId;
    const databases = await listDatabases(ctx.store);

    if (ds.metadata.deletionTimestamp) {
      if (!ds.metadata.finalizers?.includes(DATASET_FINALIZER)) return done();
      // Databases the spec names must drop the role (else the finalizer stays);
      // others may hold one from an earlier edit and are tried, best effort.
      const named = new Set(ds.spec.tables.map((t) => t.database));
      const failed: string[] = [];
      await Promise.all(
        databases.map(async (db) => {
          try {
            await dropDataset(await pools.get(db), installationId, ds.metadata.name);
          } catch (err) {
            if (named.has(db.metadata.name)) failed.push(`${db.metadata.name}: ${reasonOf(err)}`);
          }
        }),
      );
      if (failed.length > 0) {
        ctx.log.warn(
          { dataset: key.name, databases: failed.sort() },
          'dataset role not dropped everywhere; the finalizer stays and it retries',
        );
        return requeueAfter(RETRY_MS);
      }
      await ctx.store.updateWith('Dataset', undefined, key.name, (cur) => ({
        ...cur,
        metadata: {
          ...cur.metadata,
          finalizers: (cur.metadata.finalizers ?? []).filter((f) => f !== DATASET_FINALIZER),
        },
      }));
      return done();
    }

    if (!ds.metadata.finalizers?.includes(DATASET_FINALIZER)) {
      ds = (await ctx.store.patch('Dataset', undefined, key.name, {
        metadata: {
          finalizers: [...(ds.metadata.finalizers ?? []), DATASET_FINALIZER],
          resourceVersion: ds.metadata.resourceVersion,
        },
      })) as Dataset;
    }

    const facts = await membershipFacts(ctx.store, ds.metadata.name);
    const byDatabase = new Map<string, { schema: string; table: string }[]>();
    for (const t of ds.spec.tables) {
      const list = byDatabase.get(t.database) ?? [];
      list.push({ schema: t.schema, table: t.table });
      byDatabase.set(t.database, list);
    }
    const known = new Map(databases.map((d) => [d.metadata.name, d]));
    const missing: string[] = [];
    const unavailable: string[] = [];
    const userSubjects = new Set<string>();
    for (const name of byDatabase.keys())
      if (!known.has(name)) unavailable.push(`${name}: no such Database`);

    await Promise.all(
      databases.map(async (db) => {
        const name = db.metadata.name;
        const tables = byDatabase.get(name);
        try {
          const pool = await pools.get(db);
          if (!tables) {
            // Named no more (an edit moved the tables): its role here goes.
            await dropDataset(pool, installationId, ds.metadata.name);
            return;
          }
          const subjects = await listSubjects(pool, installationId);
          for (const s of subjects) if (s.kind === 'user') userSubjects.add(s.name);
          const r = await syncDataset(pool, {
            installationId,
            dataset: ds.metadata.name,
            tables,
            members: membersAmong(ds, subjects, facts),
          });
          for (const t of r.missingTables) missing.push(`${name}: ${t.schema}.${t.table}`);
        } catch (err) {
          if (tables) unavailable.push(`${name}: ${reasonOf(err)}`);
          else ctx.log.debug({ dataset: key.name, database: name }, 'old dataset role not dropped');
        }
      }),
    );

    const gen = ds.metadata.generation;
    const now = ctx.now();
    let conditions = ds.status?.conditions;
    const set = (c: Condition) => {
      conditions = setCondition(conditions, { ...c, observedGeneration: gen }, now);
    };
    missing.sort();
    unavailable.sort();
    set(
      missing.length === 0
        ? {
            type: 'TablesExist',
            status: 'True',
            reason: 'TablesExist',
            message: 'Every table exists',
          }
        : {
            type: 'TablesExist',
            status: 'False',
            reason: 'TablesMissing',
            message: `Tables not found: ${missing.join(', ')}`,
          },
    );
    set(
      unavailable.length === 0
        ? {
            type: 'GrantsInPlace',
            status: 'True',
            reason: 'GrantsInPlace',
            message: 'Grants are in place in every database',
          }
        : {
            type: 'GrantsInPlace',
            status: 'False',
            reason: 'DatabaseUnavailable',
            message: `Not synced: ${unavailable.join('; ')}`,
          },
    );
    const ready = missing.length === 0 && unavailable.length === 0;
    set({
      type: 'Ready',
      status: ready ? 'True' : 'False',
      reason: ready ? 'Ready' : missing.length > 0 ? 'TablesMissing' : 'DatabaseUnavailable',
      message: ready ? 'Grants match the Dataset' : 'See TablesExist and GrantsInPlace',
    });
    const status = {
      observedGeneration: gen,
      conditions,
      access: accessSummary(ds, userSubjects, facts),
    };
    if (JSON.stringify(status) !== JSON.stringify({ ...ds.status })) {
      await ctx.store.patchStatus('Dataset', undefined, key.name, { status });
    }
    return requeueAfter(unavailable.length > 0 ? RETRY_MS : BACKSTOP_MS);
  };
}

function reasonOf(err: unknown): string {
  if (err instanceof DatabaseUnavailable) return err.reason;
  const code = (err as { code?: string }).code;
  return code ? `error ${code}` : 'error';
}
