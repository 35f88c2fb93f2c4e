// The two documents the sidecar reads from the task metadata endpoint v4, checked
// with zod at the boundary: `<uri>/task` (the task and its containers, with their
// limits) and `<uri>/task/stats` (Docker-API-shaped stats by DockerId; null for a
// container that has none, e.g. one that has stopped). Only the fields used are
// named; the rest of each document passes through unread.
import { z } from 'zod';

const count = z.number().nonnegative();

const limits = z.object({ CPU: count.optional(), Memory: count.optional() }).partial().optional();

export const taskMetadataSchema = z.object({
  TaskARN: z.string().min(1),
  Limits: limits,
  Containers: z
    .array(z.object({ DockerId: z.string().min(1), Name: z.string().min(1), Limits: limits }))
    .default([]),
});
export type TaskMetadata = z.infer<typeof taskMetadataSchema>;

const network = z.object({ rx_bytes: count.default(0), tx_bytes: count.default(0) });

const blkioEntry = z.object({ op: z.string(), value: count });

export const containerStatsSchema = z.object({
  cpu_stats: z.object({ cpu_usage: z.object({ total_usage: count }) }),
  memory_stats: z
    .object({
      usage: count.optional(),
      stats: z.record(z.string(), z.number()).optional(),
    })
    .default({}),
  networks: z.record(z.string(), network).optional(),
  blkio_stats: z.object({ io_service_bytes_recursive: z.array(blkioEntry).nullish() }).nullish(),
});
export type ContainerStats = z.infer<typeof containerStatsSchema>;

export const taskStatsSchema = z.record(z.string(), containerStatsSchema.nullable());
export type TaskStats = z.infer<typeof taskStatsSchema>;

/** Thrown when the endpoint is unreachable, answers non-200, or answers something else. */
export class MetadataUnavailable extends Error {}

async function getJson<T>(url: string, schema: z.ZodType<T>, timeoutMs: number): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw new MetadataUnavailable(`${url}: ${(err as Error).message}`);
  }
  if (res.status !== 200) {
    await res.body?.cancel();
    throw new MetadataUnavailable(`${url} answered ${res.status}`);
  }
  const parsed = schema.safeParse(await res.json().catch(() => undefined));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new MetadataUnavailable(
      `${url} answered an unexpected document (${issue?.path.join('.') || 'body'}: ${issue?.message})`,
    );
  }
  return parsed.data;
}

/** `/task` and `/task/stats`, fetched together. */
export async function readTask(
  metadataUri: string,
  timeoutMs = 5000,
): Promise<{ task: TaskMetadata; stats: TaskStats }> {
  const base = metadataUri.replace(/\/+$/, '');
  const [task, stats] = await Promise.all([
    getJson(`${base}/task`, taskMetadataSchema, timeoutMs),
    getJson(`${base}/task/stats`, taskStatsSchema, timeoutMs),
  ]);
  return { task, stats };
}
