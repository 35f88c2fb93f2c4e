// Shared set-up for the store benchmarks: a PostgreSQL (DATABASE_URL or an
// ephemeral embedded one), a fresh migrated database, the API on a free port and an
// admin token. Everything is torn down by `close()`.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { type RunningApi, startApi } from '../../api/index.ts';
import { createPool, migrate, type Pool } from '../../store/index.ts';
import { startBenchPostgres } from '../postgres.lib.ts';

export interface BenchEnv {
  api: RunningApi;
  pool: Pool;
  url: string;
  token: string;
  close(): Promise<void>;
}

export async function setUp(): Promise<BenchEnv> {
  const server = await startBenchPostgres();
  const url = await server.createDatabase('store');
  const pool = createPool(url, { max: 40, applicationName: 'berth-bench' });
  await migrate(pool);
  const api = await startApi({
    pool,
    port: 0,
    config: { maintenanceIntervalMs: 0, logLevel: 'warn' },
  });
  const { token } = await api.identity.createToken({ user: 'bench-admin', admin: true });
  // The tool the instances name: the API refuses an instance of a tool that does not exist.
  const tool = parse(
    await readFile(join(import.meta.dirname, '..', '..', 'examples', 'jupyterlab.yaml'), 'utf8'),
  );
  const res = await fetch(`${api.url}/apis/berth/v1alpha1/tooldefinitions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(tool),
  });
  if (!res.ok) throw new Error(`creating the jupyterlab ToolDefinition: ${await res.text()}`);
  return {
    api,
    pool,
    url,
    token,
    async close() {
      await api.close();
      await pool.end();
      await server.close();
    },
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

/** Runs `n` tasks with at most `concurrency` in flight. */
export async function runConcurrently(
  n: number,
  concurrency: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, n) }, async () => {
    while (next < n) {
      const i = next++;
      await task(i);
    }
  });
  await Promise.all(workers);
}

export function toolInstance(i: number, namespace = `user${i % 100}`): Record<string, unknown> {
  return {
    apiVersion: 'berth/v1alpha1',
    kind: 'ToolInstance',
    metadata: { name: `tool-${i}`, namespace, labels: { bench: 'store', shard: String(i % 10) } },
    spec: { toolRef: 'jupyterlab', size: 'medium', state: 'Running' },
  };
}

export function table(rows: Array<[string, string, string]>): void {
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]?.length ?? 0)));
  for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  '));
}
