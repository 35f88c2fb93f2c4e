// CloudWatch GetMetricData over the sampler's Container Insights task metrics:
// the request checked (zod) with CloudWatch's errors, each MetricStat query
// answered from one task's series aggregated to its Period (buckets on multiples
// of the Period since the epoch; StartTime rounded down to one, EndTime
// exclusive), and honest pagination: at most MaxDatapoints values a page, the
// NextToken a cursor (query, last timestamp sent) bound to the request, so
// samples arriving between pages never shift or repeat what was sent.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { TaskSample, TaskSeries } from './cloudwatch-sampler.ts';

export const CONTAINER_INSIGHTS = 'ECS/ContainerInsights';
const DIMENSIONS = ['ClusterName', 'TaskDefinitionFamily', 'TaskId'] as const;
const METRICS: Record<string, { unit: string; value: (s: TaskSeries, x: TaskSample) => number }> = {
  CpuUtilized: { unit: 'None', value: (_, x) => x.cpu },
  CpuReserved: { unit: 'None', value: (s) => s.cpuReserved },
  MemoryUtilized: { unit: 'Megabytes', value: (_, x) => x.memMiB },
  MemoryReserved: { unit: 'Megabytes', value: (s) => s.memoryReserved },
};
const STATS = ['Average', 'Maximum', 'Minimum', 'Sum', 'SampleCount'] as const;
const DEFAULT_MAX_DATAPOINTS = 100_800;

/** An error as CloudWatch answers it: its shape name and its Query-protocol code. */
export class CloudWatchError extends Error {
  readonly type: string;
  readonly code: string;
  readonly status: number;
  constructor(type: string, code: string, message: string, status = 400) {
    super(message);
    this.type = type;
    this.code = code;
    this.status = status;
  }
}

const invalidValue = (message: string) =>
  new CloudWatchError('InvalidParameterValueException', 'InvalidParameterValue', message);
const missing = (message: string) =>
  new CloudWatchError('MissingRequiredParameterException', 'MissingParameter', message);
const invalidToken = () =>
  new CloudWatchError('InvalidNextToken', 'InvalidNextToken', 'The NextToken is not valid.');

const name255 = z.string().min(1).max(255);
const querySchema = z.object({
  Id: z
    .string()
    .max(255)
    .regex(/^[a-z][a-zA-Z0-9_]*$/, 'must start with a lowercase letter, then letters, digits, _'),
  MetricStat: z
    .object({
      Metric: z.object({
        Namespace: name255,
        MetricName: name255,
        Dimensions: z
          .array(z.object({ Name: name255, Value: z.string().min(1).max(1024) }))
          .max(30)
          .default([]),
      }),
      Period: z.number().int().min(1),
      Stat: z.string().min(1),
      Unit: z.string().optional(),
    })
    .optional(),
  Expression: z.string().optional(),
  Label: z.string().optional(),
  ReturnData: z.boolean().optional(),
  Period: z.number().int().min(1).optional(),
  AccountId: z.string().optional(),
});

const requestSchema = z.object({
  MetricDataQueries: z.array(querySchema).min(1).max(500),
  StartTime: z.number(),
  EndTime: z.number(),
  NextToken: z.string().optional(),
  ScanBy: z.enum(['TimestampDescending', 'TimestampAscending']).optional(),
  MaxDatapoints: z.number().int().min(1).optional(),
  LabelOptions: z.object({ Timezone: z.string().optional() }).optional(),
});

type Request = z.infer<typeof requestSchema>;

export interface MetricDataResult {
  Id: string;
  Label: string;
  Timestamps: number[];
  Values: number[];
  StatusCode: 'Complete' | 'PartialData';
}

/** `MetricDataQueries.0.MetricStat.Period` as the Query protocol names it: `...member.1...`. */
function fieldName(path: PropertyKey[]): string {
  return path
    .map((p, i) =>
      typeof p === 'number' ? `.member.${p + 1}` : i === 0 ? String(p) : `.${String(p)}`,
    )
    .join('');
}

export function parseRequest(body: unknown): Request {
  const r = requestSchema.safeParse(body ?? {});
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const field = fieldName(issue.path);
    if (issue.code === 'invalid_type' && issue.input === undefined)
      throw missing(`The parameter ${field} is required.`);
    throw invalidValue(`The value for parameter ${field} is not valid: ${issue.message}`);
  }
  const req = r.data;
  const ids = new Set<string>();
  req.MetricDataQueries.forEach((q, i) => {
    const at = `MetricDataQueries.member.${i + 1}`;
    if (ids.has(q.Id))
      throw invalidValue(`The value ${q.Id} for parameter ${at}.Id is not unique.`);
    ids.add(q.Id);
    if ((q.MetricStat === undefined) === (q.Expression === undefined))
      throw invalidValue(`Exactly one of ${at}.MetricStat and ${at}.Expression must be set.`);
    if (q.Expression !== undefined)
      throw invalidValue(
        `${at}.Expression: ecs-local answers MetricStat queries only, not metric math.`,
      );
    const stat = q.MetricStat!.Stat;
    if (!(STATS as readonly string[]).includes(stat))
      throw invalidValue(
        `The value ${stat} for parameter ${at}.MetricStat.Stat is not valid: ecs-local answers ${STATS.join(', ')}.`,
      );
  });
  if (req.StartTime >= req.EndTime)
    throw invalidValue('The parameter StartTime must be less than the parameter EndTime.');
  return req;
}

/** Datapoints of one query, oldest first: `[bucket start ms, value]`. */
function datapoints(
  find: (cluster: string, family: string, taskId: string) => TaskSeries | undefined,
  stat: NonNullable<Request['MetricDataQueries'][number]['MetricStat']>,
  startMs: number,
  endMs: number,
): [number, number][] {
  const { Namespace, MetricName, Dimensions } = stat.Metric;
  const metric = METRICS[MetricName];
  if (Namespace !== CONTAINER_INSIGHTS || !metric) return [];
  if (stat.Unit !== undefined && stat.Unit !== metric.unit) return [];
  // CloudWatch matches a metric's whole dimension set: any other set names another metric.
  const dims = new Map(Dimensions.map((d) => [d.Name, d.Value]));
  if (dims.size !== Dimensions.length || dims.size !== DIMENSIONS.length) return [];
  if (!DIMENSIONS.every((d) => dims.has(d))) return [];
  const series = find(
    dims.get('ClusterName')!,
    dims.get('TaskDefinitionFamily')!,
    dims.get('TaskId')!,
  );
  if (!series) return [];
  const periodMs = stat.Period * 1000;
  const from = Math.floor(startMs / periodMs) * periodMs;
  const buckets = new Map<number, number[]>();
  for (const x of series.samples) {
    if (x.t < from || x.t >= endMs) continue;
    const b = Math.floor(x.t / periodMs) * periodMs;
    const list = buckets.get(b) ?? [];
    list.push(metric.value(series, x));
    buckets.set(b, list);
  }
  return [...buckets]
    .sort((a, b) => a[0] - b[0])
    .map(([t, values]) => [t, aggregate(stat.Stat, values)]);
}

function aggregate(stat: string, values: number[]): number {
  switch (stat) {
    case 'Maximum':
      return Math.max(...values);
    case 'Minimum':
      return Math.min(...values);
    case 'Sum':
      return values.reduce((a, v) => a + v, 0);
    case 'SampleCount':
      return values.length;
    default:
      return values.reduce((a, v) => a + v, 0) / values.length;
  }
}

interface Cursor {
  /** The request's fingerprint: a token only continues the request it came from. */
  f: string;
  /** The query to continue with (index into MetricDataQueries). */
  q: number;
  /** The last timestamp of that query already sent (ms), if any. */
  t: number | null;
}

function fingerprint(req: Request): string {
  const { NextToken: _, MaxDatapoints: __, ...rest } = req;
  return createHash('sha256').update(JSON.stringify(rest)).digest('base64url').slice(0, 16);
}

const cursorSchema = z.object({
  f: z.string(),
  q: z.number().int().min(0),
  t: z.number().nullable(),
});

function readCursor(token: string, f: string, queries: number): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalidToken();
  }
  const c = cursorSchema.safeParse(parsed);
  if (!c.success || c.data.f !== f || c.data.q >= queries) throw invalidToken();
  return c.data;
}

export function getMetricData(
  find: (cluster: string, family: string, taskId: string) => TaskSeries | undefined,
  body: unknown,
): { MetricDataResults: MetricDataResult[]; NextToken?: string; Messages: [] } {
  const req = parseRequest(body);
  const f = fingerprint(req);
  const cursor = req.NextToken
    ? readCursor(req.NextToken, f, req.MetricDataQueries.length)
    : undefined;
  const descending = req.ScanBy !== 'TimestampAscending';
  const startMs = req.StartTime * 1000;
  const endMs = req.EndTime * 1000;
  let budget = req.MaxDatapoints ?? DEFAULT_MAX_DATAPOINTS;
  const results: MetricDataResult[] = [];
  const queries = req.MetricDataQueries;
  for (let i = cursor?.q ?? 0; i < queries.length; i++) {
    const q = queries[i]!;
    if (q.ReturnData === false) continue;
    let points = datapoints(find, q.MetricStat!, startMs, endMs);
    if (descending) points.reverse();
    const after = cursor && cursor.q === i ? cursor.t : null;
    if (after !== null) points = points.filter(([t]) => (descending ? t < after : t > after));
    if (points.length > 0 && budget === 0) {
      return page(results, { f, q: i, t: after });
    }
    const sent = points.slice(0, budget);
    budget -= sent.length;
    const partial = sent.length < points.length;
    results.push({
      Id: q.Id,
      Label: q.Label ?? q.MetricStat!.Metric.MetricName,
      Timestamps: sent.map(([t]) => t / 1000),
      Values: sent.map(([, v]) => v),
      StatusCode: partial ? 'PartialData' : 'Complete',
    });
    if (partial) return page(results, { f, q: i, t: sent.at(-1)![0] });
  }
  return page(results, undefined);
}

function page(results: MetricDataResult[], next: Cursor | undefined) {
  return {
    MetricDataResults: results,
    ...(next ? { NextToken: Buffer.from(JSON.stringify(next)).toString('base64url') } : {}),
    Messages: [] as [],
  };
}
