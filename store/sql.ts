// Every SQL statement of the resource store, by name (as pg-boss's plans.ts), so the
// tables' whole use is readable in one place. All values are parameters; the only
// statements built at run time (a list page, a log page) add parameterised clauses.
import type { Requirement } from './selectors.ts';
import { SqlParams, selectorSql } from './selectors.ts';

// ---- the counter and the compaction mark ----

export const currentRv = 'select rv from rv_counter';

export const compactionMark = 'select compacted_rv from rv_compaction';

/** A read-only snapshot: the counter and the rows read in it agree. */
export const beginSnapshot = 'begin isolation level repeatable read read only';

// ---- objects ----

export const getObject =
  'select object from resources where kind = $1 and namespace = $2 and name = $3';

/** The current row, locked until the write's transaction ends. */
export const lockObject = `${getObject} for update`;

/**
 * Inserted without a resourceVersion: the hooks after it see the row, and an existing
 * name fails here (23505, AlreadyExists) before the counter is touched.
 */
export const insertObject = `insert into resources (kind, namespace, name, uid, resource_version, object)
  values ($1, $2, $3, $4::uuid, 0, $5::jsonb)`;

export const updateObject =
  'update resources set object = $4::jsonb where kind = $1 and namespace = $2 and name = $3';

export const deleteObject =
  'delete from resources where kind = $1 and namespace = $2 and name = $3';

/** One page of a list (keyset order, after `after`), with the total when limited. */
export function listPage(
  kind: string,
  namespace: string | undefined,
  selector: Requirement[],
  after: { ns: string; name: string } | undefined,
  limit: number,
): { text: string; values: unknown[] } {
  const p = new SqlParams();
  const where = [`kind = ${p.add(kind)}`];
  if (namespace !== undefined) where.push(`namespace = ${p.add(namespace)}`);
  if (after)
    where.push(`(namespace, name) > (${p.add(after.ns)}::text, ${p.add(after.name)}::text)`);
  where.push(selectorSql(selector, p));
  const windowed = limit > 0;
  const text =
    `select object${windowed ? ', count(*) over () as total' : ''} from resources where ${where.join(' and ')} ` +
    `order by namespace, name${windowed ? ` limit ${p.add(limit)}` : ''}`;
  return { text, values: p.values };
}

// ---- the change log ----

/**
 * A write's log row, with a negative placeholder resourceVersion: the deferred
 * constraint trigger of migration 007 stamps the real one (and the resources row,
 * and NOTIFYs) when it fires, which `commitStamped` makes happen just before COMMIT.
 */
export const appendLog = `with p as (select nextval('resource_log_pending') as id)
  insert into resource_log (rv, pending_id, kind, namespace, name, type, object, prev_object)
  select -p.id, p.id, $1, $2, $3, $4, $5::jsonb, $6::jsonb from p
  returning pending_id`;

/**
 * Ends a transaction that wrote log rows, in one simple-protocol message (three
 * statements, no parameters, so no client round trip between them): fire the stamp
 * trigger now, which takes the counter and holds its row lock until the commit
 * completes (resourceVersion order is commit order); read the counter, which this
 * transaction was the last to move; commit. The writer learns its resourceVersion
 * from the commit's own answer, so a committed write never needs another query.
 */
export const commitStamped =
  'set constraints resource_log_stamp immediate; select rv from rv_counter; commit';

/** The stamped resourceVersions of log rows $1 (pending ids): whether a commit whose answer was lost happened. */
export const committedRvs =
  'select pending_id, rv from resource_log where pending_id = any($1::bigint[]) and rv > 0';

/** The newest and the compacted resourceVersion, read in the log page's snapshot. */
export const logMarks =
  'select (select rv from rv_counter) as head, (select compacted_rv from rv_compaction) as compacted';

/** Log rows of one kind (and namespace) after a resourceVersion, oldest first. */
export function logPage(
  kind: string,
  namespace: string | undefined,
  after: number,
  limit: number,
): { text: string; values: unknown[] } {
  const values: unknown[] = [kind, after, limit];
  let text =
    'select rv, kind, namespace, name, type, object, prev_object from resource_log where kind = $1 and rv > $2';
  if (namespace !== undefined) {
    values.push(namespace);
    text += ' and namespace = $4';
  }
  return { text: `${text} order by rv limit $3`, values };
}

// ---- compaction ----

/** The newest log row committed before now − $1 seconds. */
export const compactableRv =
  'select max(rv) as rv from resource_log where committed_at < now() - make_interval(secs => $1)';

export const deleteLogUpTo = 'delete from resource_log where rv <= $1';

export const raiseCompactionMark =
  'update rv_compaction set compacted_rv = greatest(compacted_rv, $1) returning compacted_rv';

// ---- owner references ----

/** Objects that list owner uid $1 (a JSON array `[{"uid": …}]`, GIN-indexed containment). */
export const dependentsOf = `select kind, namespace, name, object from resources
  where object -> 'metadata' -> 'ownerReferences' @> $1::jsonb`;

/** How many of the uids $1 still exist. */
export const countLiving = 'select count(*) as n from resources where uid::text = any($1::text[])';

/** Objects with at least one owner that no longer exists, and those owners' uids. */
export const orphans = `select r.kind, r.namespace, r.name, r.object,
         array(select o ->> 'uid' from jsonb_array_elements(r.object -> 'metadata' -> 'ownerReferences') o
               where not exists (select 1 from resources p where p.uid::text = o ->> 'uid')) as gone
    from resources r
   where jsonb_typeof(r.object -> 'metadata' -> 'ownerReferences') = 'array'
     and exists (select 1 from jsonb_array_elements(r.object -> 'metadata' -> 'ownerReferences') o
                  where not exists (select 1 from resources p where p.uid::text = o ->> 'uid'))`;

// ---- Events ----

/**
 * Events of kind $1 last seen more than $2 seconds ago, at most $3. lastTimestamp is
 * validated as an ISO date-time with offset on every write.
 */
export const expiredEvents = `select namespace, name from resources
  where kind = $1
    and coalesce(object ->> 'lastTimestamp', object -> 'metadata' ->> 'creationTimestamp')::timestamptz
        < now() - make_interval(secs => $2)
  limit $3`;
