// The culler (a Runnable beside the reconcilers): every interval, one replica
// at a time (an advisory try-lock; the others skip the pass), it lists every
// ToolInstance and ToolDefinition once, reads the CPU of every Ready instance
// from its source in one batch per source, decides each instance
// (decide.ts) and writes what changed (writes.ts). No call per instance per
// pass except the writes a change needs.
import type { Registry } from 'prom-client';
import { parseDuration, type ToolDefinition, type ToolInstance } from '../../crds/index.ts';
import { withTryAdvisoryLock } from '../../store/index.ts';
import type { Runnable } from '../reconcile.ts';
import { sleepUnlessAborted } from '../sleep.ts';
import type { CpuQuery, CpuSamples, CpuSource } from './cpu-source.ts';
import { type CullPolicy, decide } from './decide.ts';
import { type CullerMetrics, cullerMetrics } from './metrics.ts';
import { applyDecision, type Outcome, tidy } from './writes.ts';

export type RunnableContext = Parameters<Runnable['start']>[0];

/** The lock one pass holds, across every replica. */
export const CULLER_LOCK = 'berth:culler';
/** A tool runs the metrics sidecar when it has a sidecar of this name (the preamble's contract). */
export const METRICS_SIDECAR = 'metrics';
/** Samples a short idleAfter gets at least (the step is capped to idleAfter / this). */
const MIN_SAMPLES_PER_WINDOW = 6;
/** Writes in flight at once in one pass. */
const WRITE_CONCURRENCY = 8;

export interface CullerSources {
  /** For tools with a `metrics` sidecar (BERTH_PROMETHEUS_URL); absent: they use ecsTaskStats. */
  prometheus?: CpuSource;
  /** For every other tool; absent: their CPU is unknown, so they are never stopped for Idle. */
  ecsTaskStats?: CpuSource;
}

export interface CullerOptions {
  intervalMs: number;
  sources: CullerSources;
  registry?: Registry;
}

export interface CullPassResult {
  /** Another replica held the lock: nothing was evaluated. */
  skipped: boolean;
  evaluated: number;
  warned: string[];
  cancelled: string[];
  stopped: string[];
  /** Sources whose read failed this pass. */
  sourceErrors: string[];
  stepMs: number;
}

export interface Culler extends Runnable {
  runOnce(ctx: RunnableContext): Promise<CullPassResult>;
}

export function createCuller(options: CullerOptions): Culler {
  const metrics = options.registry ? cullerMetrics(options.registry) : undefined;
  const runOnce = async (ctx: RunnableContext): Promise<CullPassResult> => {
    const started = performance.now();
    let result = 'failed';
    try {
      const r = await withTryAdvisoryLock(ctx.store.pool, CULLER_LOCK, () =>
        cullPass(ctx, options, metrics),
      );
      result = r.locked ? 'done' : 'skipped';
      return r.locked ? r.value : { ...emptyResult(0), skipped: true };
    } finally {
      metrics?.passDuration.observe({ result }, (performance.now() - started) / 1000);
    }
  };
  return {
    name: 'culler',
    runOnce,
    start: async (ctx) => {
      while (!ctx.signal.aborted) {
        await sleepUnlessAborted(options.intervalMs, ctx.signal);
        if (ctx.signal.aborted) return;
        try {
          const r = await runOnce(ctx);
          if (r.warned.length + r.cancelled.length + r.stopped.length > 0)
            ctx.log.info(
              { warned: r.warned, cancelled: r.cancelled, stopped: r.stopped },
              'culling pass',
            );
        } catch (err) {
          ctx.log.warn(
            { err: (err as Error).message },
            'culling pass failed; the next pass retries',
          );
        }
      }
    },
  };
}

function emptyResult(stepMs: number): CullPassResult {
  return {
    skipped: false,
    evaluated: 0,
    warned: [],
    cancelled: [],
    stopped: [],
    sourceErrors: [],
    stepMs,
  };
}

interface Candidate {
  ti: ToolInstance;
  td: ToolDefinition;
  policy: CullPolicy;
  query: CpuQuery;
  source: CpuSource | undefined;
}

async function cullPass(
  ctx: RunnableContext,
  options: CullerOptions,
  metrics: CullerMetrics | undefined,
): Promise<CullPassResult> {
  const [instances, tools] = await Promise.all([
    ctx.store.list('ToolInstance'),
    ctx.store.list('ToolDefinition'),
  ]);
  const byName = new Map(
    (tools.items as ToolDefinition[]).map((td) => [td.metadata.name, td] as const),
  );
  const nowMs = ctx.now().getTime();
  const candidates: Candidate[] = [];
  const others: ToolInstance[] = [];
  for (const ti of instances.items as ToolInstance[]) {
    const td = byName.get(ti.spec.toolRef);
    const s = ti.status;
    if (
      td &&
      ti.spec.state === 'Running' &&
      !ti.metadata.deletionTimestamp &&
      s?.phase === 'Ready' &&
      s.taskArn
    ) {
      candidates.push(candidate(ti, td, s.taskArn, options.sources));
    } else {
      others.push(ti);
    }
  }

  const result = emptyResult(stepFor(candidates, options.intervalMs));
  result.evaluated = candidates.length;
  metrics?.evaluated.inc(candidates.length);

  // One read per source over the longest window any of its instances needs.
  const cpu = new Map<string, { samples: CpuSamples; sinceMs: number }>();
  const bySource = new Map<CpuSource, Candidate[]>();
  for (const c of candidates) {
    if (!c.source) continue;
    const list = bySource.get(c.source) ?? [];
    list.push(c);
    bySource.set(c.source, list);
  }
  for (const [source, list] of bySource) {
    const sinceMs = nowMs - Math.max(...list.map((c) => c.policy.idleAfterMs));
    try {
      const answer = await source.read(
        list.map((c) => c.query),
        sinceMs,
        nowMs,
        result.stepMs,
      );
      for (const c of list)
        cpu.set(c.query.key, { samples: answer.get(c.query.key) ?? [], sinceMs });
    } catch (err) {
      // No Idle stops for these instances this pass; maxLifetime still applies.
      result.sourceErrors.push(source.name);
      metrics?.sourceErrors.inc({ source: source.name });
      ctx.log.warn(
        { source: source.name, instances: list.length, err: (err as Error).message },
        'culler: reading CPU failed; no Idle stops from this source this pass',
      );
    }
  }

  const outcomes: Array<() => Promise<Outcome>> = candidates.map((c) => () => {
    const decision = decide({
      nowMs,
      stepMs: result.stepMs,
      policy: c.policy,
      status: c.ti.status ?? {},
      cpuUnits: c.query.cpuUnits,
      cpu: cpu.get(c.query.key),
    });
    return applyDecision(ctx, c.ti, decision, c.policy);
  });
  for (const ti of others) outcomes.push(() => tidy(ctx, ti));

  for (const [i, outcome] of (await limited(outcomes, WRITE_CONCURRENCY)).entries()) {
    const key = i < candidates.length ? candidates[i]!.query.key : '';
    if (outcome.warned) {
      result.warned.push(key);
      metrics?.warnings.inc({ reason: outcome.warned });
    }
    if (outcome.cancelled) {
      result.cancelled.push(key);
      metrics?.cancelled.inc();
    }
    if (outcome.stopped) {
      result.stopped.push(key);
      metrics?.stops.inc({ reason: outcome.stopped });
    }
  }
  return result;
}

function candidate(
  ti: ToolInstance,
  td: ToolDefinition,
  taskArn: string,
  sources: CullerSources,
): Candidate {
  const size =
    td.spec.sizes[ti.spec.size ?? td.spec.defaultSize] ?? td.spec.sizes[td.spec.defaultSize];
  const idle = td.spec.idle;
  const hasSidecar = td.spec.sidecars.some((s) => s.name === METRICS_SIDECAR);
  const { namespace = '', name } = ti.metadata;
  return {
    ti,
    td,
    policy: {
      idleAfterMs: parseDuration(idle.idleAfter),
      cpuThreshold: idle.cpuThreshold,
      warnBeforeMs: parseDuration(idle.warnBefore),
      ...(td.spec.maxLifetime ? { maxLifetimeMs: parseDuration(td.spec.maxLifetime) } : {}),
    },
    query: {
      key: `${namespace}/${name}`,
      namespace,
      name,
      tool: td.metadata.name,
      taskArn,
      cpuUnits: size?.cpu ?? 1024,
    },
    source: (hasSidecar ? sources.prometheus : undefined) ?? sources.ecsTaskStats,
  };
}

/** The pass interval, capped so that the shortest idleAfter still spans several samples (never under 1 s). */
export function stepFor(candidates: Array<{ policy: CullPolicy }>, intervalMs: number): number {
  if (candidates.length === 0) return intervalMs;
  const shortest = Math.min(...candidates.map((c) => c.policy.idleAfterMs));
  return Math.max(1000, Math.min(intervalMs, Math.floor(shortest / MIN_SAMPLES_PER_WINDOW)));
}

/** Runs the tasks at most `limit` at a time; answers in order. */
async function limited<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return out;
}
