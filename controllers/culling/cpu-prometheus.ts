// The culler's CPU from Prometheus (BERTH_PROMETHEUS_URL), for tools that run
// the `metrics` sidecar: one query_range per read covers every instance
// (`sum by (user, tool_instance, task)` of the rate of the sidecar's CPU counter
// over the task's containers, the sidecar's own left out: serving a scrape is
// not use, and at a 1 s scrape interval it alone reads ~13 % of a 256-unit task),
// matched to each query by namespace, name and the id of its current task, so
// an earlier task's samples never count. The user, tool_instance and task
// labels are the ones Prometheus sets from berth's discovery
// (api/prometheus-config.ts), not what a sidecar claims.
import { z } from 'zod';
import type { CpuQuery, CpuSamples, CpuSource } from './cpu-source.ts';

export interface PrometheusCpuSourceOptions {
  /** Prometheus's base URL, e.g. `http://127.0.0.1:9090` (a path prefix is kept). */
  url: string;
  /** The sidecars' scrape interval: the rate window is at least 4 of them (default 15 s). */
  scrapeIntervalMs?: number;
  /** A whole read's limit (default 20 s). */
  timeoutMs?: number;
  /** The largest answer read (default 32 MiB); a larger one is an error, not a partial read. */
  maxResponseBytes?: number;
  fetch?: typeof fetch;
}

/** The counter the metrics sidecar serves (sidecars/metrics). */
export const CPU_COUNTER = 'berth_container_cpu_seconds_total';

const matrixAnswer = z.object({
  status: z.literal('success'),
  data: z.object({
    resultType: z.literal('matrix'),
    result: z.array(
      z.object({
        metric: z.record(z.string(), z.string()),
        values: z.array(z.tuple([z.number(), z.string()])),
      }),
    ),
  }),
});

const errorAnswer = z.object({
  status: z.literal('error'),
  errorType: z.string().optional(),
  error: z.string(),
});

/** The metrics sidecar's container name: the observer's own CPU (each scrape costs some) is not use. */
const METRICS_CONTAINER = 'metrics';

/** The PromQL of one read: per task, the cores its containers but the sidecar used, over `windowMs`. */
export function cpuQuery(windowMs: number): string {
  const series = `${CPU_COUNTER}{container!="${METRICS_CONTAINER}"}`;
  return `sum by (user, tool_instance, task) (rate(${series}[${Math.ceil(windowMs)}ms]))`;
}

/** The rate window for a step: max(2 × step, 4 × scrape interval), so every point has samples to rate. */
export function rateWindowMs(stepMs: number, scrapeIntervalMs: number): number {
  return Math.max(2 * stepMs, 4 * scrapeIntervalMs);
}

/** `abc123` from `arn:aws:ecs:eu-west-2:1:task/cluster/abc123`. */
function taskId(taskArn: string): string {
  return taskArn.slice(taskArn.lastIndexOf('/') + 1);
}

/** The URL without credentials or query, fit for an error message. */
function shownUrl(u: URL): string {
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/** The body as text, refusing more than `max` bytes. */
async function boundedText(res: Response, max: number, what: string): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (declared > max) throw new Error(`${what}: the answer is ${declared} bytes, over ${max}`);
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.byteLength;
    if (size > max) {
      await res.body.cancel().catch(() => {});
      throw new Error(`${what}: the answer is over ${max} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function prometheusCpuSource(opts: PrometheusCpuSourceOptions): CpuSource {
  const base = new URL(opts.url);
  // Credentials in the URL (a Prometheus behind basic auth) go in a header: fetch
  // refuses them in the URL, and error messages then never carry them.
  const auth =
    base.username || base.password
      ? `Basic ${Buffer.from(`${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`).toString('base64')}`
      : undefined;
  base.username = '';
  base.password = '';
  const endpoint = new URL(`${base.pathname.replace(/\/$/, '')}/api/v1/query_range`, base);
  const scrapeMs = opts.scrapeIntervalMs ?? 15_000;
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const maxBytes = opts.maxResponseBytes ?? 32 * 1024 * 1024;
  const doFetch = opts.fetch ?? fetch;
  const what = `Prometheus query_range at ${shownUrl(endpoint)}`;

  return {
    name: 'prometheus',
    async read(queries: CpuQuery[], sinceMs: number, nowMs: number, stepMs: number) {
      const out = new Map<string, CpuSamples>();
      if (queries.length === 0) return out;
      // Each query by who labels it in Prometheus: user (namespace) / tool_instance / task id.
      const wanted = new Map<string, CpuQuery>();
      for (const q of queries) wanted.set(`${q.namespace}/${q.name}/${taskId(q.taskArn)}`, q);

      const form = new URLSearchParams({
        query: cpuQuery(rateWindowMs(stepMs, scrapeMs)),
        start: String(sinceMs / 1000),
        end: String(nowMs / 1000),
        step: `${Math.max(1, Math.round(stepMs))}ms`,
        timeout: `${Math.max(1, Math.floor(timeoutMs / 1000))}s`,
      });
      let res: Response;
      try {
        res = await doFetch(endpoint, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            accept: 'application/json',
            ...(auth ? { authorization: auth } : {}),
          },
          body: form.toString(),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        const e = err as Error;
        const why = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : e.message;
        throw new Error(`${what} failed: ${why}`);
      }
      const text = await boundedText(res, maxBytes, what);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new Error(`${what}: HTTP ${res.status}, not JSON`);
      }
      const refused = errorAnswer.safeParse(body);
      if (refused.success) {
        throw new Error(`${what}: HTTP ${res.status}: ${refused.data.error.slice(0, 500)}`);
      }
      const parsed = matrixAnswer.safeParse(body);
      if (!res.ok || !parsed.success) {
        throw new Error(`${what}: HTTP ${res.status}, not a range query's answer`);
      }
      for (const series of parsed.data.data.result) {
        const m = series.metric;
        const q = wanted.get(`${m.user}/${m.tool_instance}/${m.task}`);
        if (!q || q.cpuUnits <= 0) continue;
        const samples: [number, number][] = [];
        for (const [t, v] of series.values) {
          const cores = Number(v);
          if (!Number.isFinite(cores)) continue;
          // Percent of the task's CPU: cores used × 1024 units per vCPU / the task's units.
          samples.push([Math.round(t * 1000), ((cores * 1024) / q.cpuUnits) * 100]);
        }
        if (samples.length > 0) out.set(q.key, samples);
      }
      return out;
    },
  };
}
