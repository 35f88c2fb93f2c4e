// Usage (migration 014): one row per ECS task berth ran, from its start to its
// stop, with its size. What it cost is arithmetic over those lifetimes, done in
// SQL: vCPU-hours = cpu units / 1024 × hours, GiB-hours = MiB / 1024 × hours.
// The controllers write the rows (controllers/reconcilers/usage.ts); the API sums
// them for admins (`GET /apis/berth/v1alpha1/usage`).
import { z } from 'zod';
import { invalidFromZod } from '../crds/index.ts';
import type { Pool, PoolClient } from './db.ts';

type Queryable = Pool | PoolClient;

export const taskStartSchema = z.strictObject({
  taskArn: z.string().min(1).max(2048),
  namespace: z.string().min(1).max(253),
  instanceName: z.string().min(1).max(253),
  instanceUid: z.guid(),
  tool: z.string().min(1).max(253),
  size: z.string().min(1).max(253),
  /** ECS units: 1024 per vCPU. */
  cpuUnits: z.number().int().positive(),
  memoryMib: z.number().int().positive(),
  startedAt: z.date(),
  /**
   * ECS's own start of the task (pullStartedAt, else startedAt: Fargate bills
   * from the image pull). A start that is not (RunTask's createdAt, the clock)
   * is replaced once by the first exact one.
   */
  exact: z.boolean(),
});
export type TaskStart = z.infer<typeof taskStartSchema>;

/**
 * Records that a task started. Idempotent on the task ARN: a retried launch or
 * a restarted controller never makes a second row; an inexact start is refined
 * by the first exact one (never past the row's stop).
 */
export async function recordTaskStart(db: Queryable, start: TaskStart): Promise<void> {
  const parsed = taskStartSchema.safeParse(start);
  if (!parsed.success) throw invalidFromZod('TaskUsage', start.taskArn, parsed.error);
  const s = parsed.data;
  await db.query(
    `insert into task_usage
       (task_arn, namespace, instance_name, instance_uid, tool, size, cpu_units, memory_mib, started_at, started_exact)
     values ($1, $2, $3, $4::uuid, $5, $6, $7, $8, $9, $10)
     on conflict (task_arn) do update
       set started_at = excluded.started_at, started_exact = true
       where excluded.started_exact and not task_usage.started_exact
         and (task_usage.stopped_at is null or excluded.started_at <= task_usage.stopped_at)`,
    [
      s.taskArn,
      s.namespace,
      s.instanceName,
      s.instanceUid,
      s.tool,
      s.size,
      s.cpuUnits,
      s.memoryMib,
      s.startedAt,
      s.exact,
    ],
  );
}

/**
 * Records that a task stopped at `stoppedAt` (never before its start). Idempotent:
 * the earliest stop wins, so a later, more exact answer from ECS can only move it
 * back. Returns whether a row changed (false: already stopped earlier, or no row).
 */
export async function recordTaskStop(
  db: Queryable,
  taskArn: string,
  stoppedAt: Date,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `update task_usage set stopped_at = greatest(started_at, $2::timestamptz)
      where task_arn = $1
        and (stopped_at is null or stopped_at > greatest(started_at, $2::timestamptz))`,
    [taskArn, stoppedAt],
  );
  return (rowCount ?? 0) > 0;
}

export interface OpenTaskUsage {
  taskArn: string;
  namespace: string;
  instanceName: string;
  instanceUid: string;
  startedAt: Date;
}

/** The rows of tasks not yet recorded as stopped (the GC closes those no instance holds). */
export async function openTaskUsage(db: Queryable): Promise<OpenTaskUsage[]> {
  const { rows } = await db.query<{
    task_arn: string;
    namespace: string;
    instance_name: string;
    instance_uid: string;
    started_at: Date;
  }>(
    `select task_arn, namespace, instance_name, instance_uid::text, started_at
       from task_usage where stopped_at is null order by started_at`,
  );
  return rows.map((r) => ({
    taskArn: r.task_arn,
    namespace: r.namespace,
    instanceName: r.instance_name,
    instanceUid: r.instance_uid,
    startedAt: r.started_at,
  }));
}

/** How the sums are grouped: per user (namespace), tool, UTC day, or UTC day × tool (the plot). */
export const USAGE_GROUPINGS = ['user', 'tool', 'day', 'day-tool'] as const;
export type UsageGrouping = (typeof USAGE_GROUPINGS)[number];

export interface UsageFigures {
  vcpuHours: number;
  gibHours: number;
  runningHours: number;
  /** Tasks that ran in the group's part of the window (a task spanning two days counts on both). */
  tasks: number;
}

export interface UsageRow extends UsageFigures {
  /** The user, the tool, or the day (`YYYY-MM-DD`, UTC). */
  key: string;
  /** With `day-tool`: the tool (key is the day). */
  tool?: string;
}

export interface UsageReport {
  since: string;
  until: string;
  by: UsageGrouping;
  rows: UsageRow[];
  /** The whole window: each task counted once. */
  total: UsageFigures;
}

export interface UsageQuery {
  since: Date;
  until: Date;
  by: UsageGrouping;
  /** The end of tasks still running; default the database's clock. */
  now?: Date;
}

// Each task's [start, stop ?? now) clipped to [since, until); $1 since, $2 until, $3 now.
const CLIPPED = `clipped as (
  select task_arn, namespace, tool, cpu_units, memory_mib, s, e from (
    select task_arn, namespace, tool, cpu_units, memory_mib,
           greatest(started_at, $1::timestamptz) as s,
           least(coalesce(stopped_at, $3::timestamptz), $2::timestamptz) as e
      from task_usage
     where started_at < $2::timestamptz and (stopped_at is null or stopped_at > $1::timestamptz)
  ) w where e > s
)`;

// The clipped lifetimes cut at every UTC midnight they cross.
const PIECES = `pieces as (
  select c.task_arn, c.namespace, c.tool, c.cpu_units, c.memory_mib,
         greatest(c.s, d.day) as s, least(c.e, d.day + interval '24 hours') as e,
         to_char(d.day at time zone 'UTC', 'YYYY-MM-DD') as day
    from clipped c
    cross join lateral generate_series(
      date_trunc('day', c.s at time zone 'UTC') at time zone 'UTC', c.e, interval '24 hours'
    ) as d(day)
)`;

function figures(from: string): string {
  const hours = `extract(epoch from (${from}.e - ${from}.s))::float8 / 3600`;
  return `round(coalesce(sum(${from}.cpu_units::float8 / 1024 * ${hours}), 0)::numeric, 6)::float8 as vcpu_hours,
          round(coalesce(sum(${from}.memory_mib::float8 / 1024 * ${hours}), 0)::numeric, 6)::float8 as gib_hours,
          round(coalesce(sum(${hours}), 0)::numeric, 6)::float8 as running_hours,
          count(distinct ${from}.task_arn)::int as tasks`;
}

// One statement per grouping, each with the window's total as its grouping set `()`.
const SUMS: Record<UsageGrouping, string> = {
  user: `with ${CLIPPED}
    select namespace as key, null::text as tool, grouping(namespace) = 1 as is_total, ${figures('c')}
      from clipped c group by grouping sets ((namespace), ()) order by is_total, key`,
  tool: `with ${CLIPPED}
    select tool as key, null::text as tool, grouping(tool) = 1 as is_total, ${figures('c')}
      from clipped c group by grouping sets ((tool), ()) order by is_total, key`,
  day: `with ${CLIPPED}, ${PIECES}
    select day as key, null::text as tool, grouping(day) = 1 as is_total, ${figures('p')}
      from pieces p where p.e > p.s group by grouping sets ((day), ()) order by is_total, key`,
  'day-tool': `with ${CLIPPED}, ${PIECES}
    select day as key, tool, grouping(day, tool) = 3 as is_total, ${figures('p')}
      from pieces p where p.e > p.s group by grouping sets ((day, tool), ()) order by is_total, key, tool`,
};

interface SumRow {
  key: string | null;
  tool: string | null;
  is_total: boolean;
  vcpu_hours: number;
  gib_hours: number;
  running_hours: number;
  tasks: number;
}

/** The usage in [since, until), grouped; one query. */
export async function usageSums(db: Queryable, q: UsageQuery): Promise<UsageReport> {
  const { rows } = await db.query<SumRow>(SUMS[q.by], [q.since, q.until, q.now ?? new Date()]);
  const figuresOf = (r: SumRow): UsageFigures => ({
    vcpuHours: r.vcpu_hours,
    gibHours: r.gib_hours,
    runningHours: r.running_hours,
    tasks: r.tasks,
  });
  const total = rows.find((r) => r.is_total);
  return {
    since: q.since.toISOString(),
    until: q.until.toISOString(),
    by: q.by,
    rows: rows
      .filter((r) => !r.is_total)
      .map((r) => ({
        key: r.key ?? '',
        ...(r.tool !== null ? { tool: r.tool } : {}),
        ...figuresOf(r),
      })),
    total: total ? figuresOf(total) : { vcpuHours: 0, gibHours: 0, runningHours: 0, tasks: 0 },
  };
}
