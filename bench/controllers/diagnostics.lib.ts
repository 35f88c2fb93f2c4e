// Where the controller's time goes during a benchmark phase: database round trips
// by statement (counted on every pooled client), reconciles by result, queue wait,
// time spent waiting for ECS tokens, and per-instance timelines. Printed with each
// phase so a regression points at its cause.
import type { Pool, PoolClient } from '../../store/index.ts';

export interface QueryCounter {
  total(): number;
  /** Statement shapes by count, most first. */
  top(n: number): Array<{ shape: string; count: number; ms: number }>;
  reset(): void;
}

/** Counts every query made through the pools' clients (pool.query and checked-out clients alike). */
export function countQueries(...pools: Pool[]): QueryCounter {
  const byShape = new Map<string, { count: number; ms: number }>();
  let total = 0;
  const seen = new WeakSet<object>();
  const shapes = new Map<string, string>();
  const shapeOf = (text: string): string => {
    let shape = shapes.get(text);
    if (shape === undefined) {
      shape = text.replace(/\s+/g, ' ').trim().slice(0, 70);
      if (shapes.size < 10_000) shapes.set(text, shape);
    }
    return shape;
  };
  const count = (client: PoolClient) => {
    if (seen.has(client)) return;
    seen.add(client);
    const original = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (
      ...args: unknown[]
    ) => {
      const first = args[0];
      const text = typeof first === 'string' ? first : ((first as { text?: string })?.text ?? '');
      const shape = shapeOf(text);
      total++;
      const t0 = performance.now();
      const r = original(...args);
      const settle = () => {
        const e = byShape.get(shape) ?? { count: 0, ms: 0 };
        e.count++;
        e.ms += performance.now() - t0;
        byShape.set(shape, e);
      };
      if (r && typeof (r as Promise<unknown>).then === 'function')
        (r as Promise<unknown>).then(settle, settle);
      else settle();
      return r;
    };
  };
  for (const pool of pools) pool.on('connect', count);
  return {
    total: () => total,
    top: (n) =>
      [...byShape]
        .map(([shape, e]) => ({ shape, ...e }))
        .sort((a, b) => b.count - a.count)
        .slice(0, n),
    reset() {
      byShape.clear();
      total = 0;
    },
  };
}

export function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

export function summary(values: number[], unit = 'ms'): string {
  const s = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (s.length === 0) return 'n/a';
  const f = (v: number) => v.toFixed(0);
  return `p50 ${f(pct(s, 50))} ${unit}, p99 ${f(pct(s, 99))} ${unit}, max ${f(s[s.length - 1]!)} ${unit}`;
}
