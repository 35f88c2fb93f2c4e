// `berth apply` of 1,000 documents in one file, run as a user would (bin/berth,
// a new process), first creating them and then again when nothing changed. The
// baseline is the same 1,000 creates sent one at a time straight to the API.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Pool as HttpPool } from 'undici';
import { stringify } from 'yaml';
import { setUp, table, toolInstance } from './setup.lib.ts';

const N = 1000;
const root = join(import.meta.dirname, '..', '..');
const env = await setUp();
const dir = mkdtempSync(join(tmpdir(), 'berth-bench-apply-'));
const http = new HttpPool(env.api.url, { connections: 1 });
try {
  const file = join(dir, 'instances.yaml');
  writeFileSync(
    file,
    Array.from({ length: N }, (_, i) => stringify(toolInstance(i, 'apply'))).join('---\n'),
  );
  // Asynchronous on purpose: the API under test runs in this process.
  const cli = (args: string[]) =>
    new Promise<{ ms: number; out: string }>((resolve, reject) => {
      const t0 = performance.now();
      execFile(
        join(root, 'bin', 'berth'),
        args,
        {
          encoding: 'utf8',
          maxBuffer: 64 * 1024 * 1024,
          env: {
            ...process.env,
            BERTH_CONFIG: join(dir, 'config.yaml'),
            BERTH_SERVER: env.api.url,
            BERTH_TOKEN: env.token,
          },
        },
        (err, stdout, stderr) => {
          if (err) reject(new Error(`berth ${args.join(' ')} failed: ${stderr.slice(0, 500)}`));
          else resolve({ ms: performance.now() - t0, out: stdout });
        },
      );
    });
  const created = await cli(['apply', '-f', file]);
  const createdCount = created.out.split('\n').filter((l) => l.endsWith(' created')).length;
  const unchanged = await cli(['apply', '-f', file]);
  const unchangedCount = unchanged.out.split('\n').filter((l) => l.endsWith(' unchanged')).length;
  if (createdCount !== N || unchangedCount !== N) {
    throw new Error(
      `expected ${N} created and ${N} unchanged, got ${createdCount} and ${unchangedCount}`,
    );
  }

  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const res = await http.request({
      method: 'POST',
      path: '/apis/berth/v1alpha1/namespaces/baseline/toolinstances',
      headers: { authorization: `Bearer ${env.token}`, 'content-type': 'application/json' },
      body: JSON.stringify(toolInstance(i, 'baseline')),
    });
    await res.body.text();
    if (res.statusCode !== 201) throw new Error(`baseline create ${i}: ${res.statusCode}`);
  }
  const baselineMs = performance.now() - t0;
  table([
    ['measure', 'time', 'docs/s; ratio to baseline'],
    [
      `berth apply -f (${N} docs, all created)`,
      `${created.ms.toFixed(0)} ms`,
      `${((N / created.ms) * 1000).toFixed(0)}/s; ${(created.ms / baselineMs).toFixed(2)}x baseline time`,
    ],
    [
      `berth apply -f (${N} docs, all unchanged)`,
      `${unchanged.ms.toFixed(0)} ms`,
      `${((N / unchanged.ms) * 1000).toFixed(0)}/s; ${(unchanged.ms / baselineMs).toFixed(2)}x baseline time`,
    ],
    [
      `baseline: ${N} sequential POSTs to the API`,
      `${baselineMs.toFixed(0)} ms`,
      `${((N / baselineMs) * 1000).toFixed(0)}/s`,
    ],
  ]);
} finally {
  await http.close();
  await env.close();
  rmSync(dir, { recursive: true, force: true });
}
