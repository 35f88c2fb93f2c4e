// `berth up` with Prometheus installed: it starts Prometheus on BERTH_PROMETHEUS_PORT
// with its data under <BERTH_DATA_DIR>/prometheus, gives the API a discovery token
// kept there (0600, never on a command line or in the output), prints its URL; the
// tsdb survives a stop and start, Prometheus goes with a SIGKILLed berth up, and a
// Prometheus killed on its own is started again.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type BerthUp, startBerthUp } from '../support/berth-up.ts';
import { prometheusBinary } from '../support/prometheus.ts';
import { waitFor } from '../support/wait.ts';

let berth: BerthUp;
let promUrl: string;

before(async () => {
  prometheusBinary(); // fails saying `make test` installs it when missing
  berth = await startBerthUp();
  promUrl = `http://127.0.0.1:${berth.ports.prometheus}`;
});

after(() => berth?.dispose());

/** Live processes whose command line is Prometheus's with this berth's data. */
function prometheusPids(): { pid: number; cmdline: string }[] {
  const found: { pid: number; cmdline: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') continue;
      if (cmdline.includes(`--storage.tsdb.path=${join(berth.dataDir, 'prometheus')}`))
        found.push({ pid: Number(entry), cmdline });
    } catch {}
  }
  return found;
}

async function query(
  promql: string,
): Promise<{ metric: Record<string, string>; values?: [number, string][] }[]> {
  const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await res.json()) as {
    data: { result: { metric: Record<string, string>; values?: [number, string][] }[] };
  };
  return body.data.result;
}

/** Samples of Prometheus's own `up` over the last hour (its self-scrape, kept in the tsdb). */
async function ownSamples(): Promise<[number, string][]> {
  const r = await query('up{job="prometheus"}[1h]');
  return r[0]?.values ?? [];
}

test('berth up runs Prometheus with a kept discovery token the API accepts, and prints its URL', async () => {
  assert.match(berth.output(), new RegExp(`Prometheus: ${promUrl.replaceAll('.', '\\.')}`));
  assert.equal((await fetch(`${promUrl}/-/ready`)).status, 200);
  const dir = join(berth.dataDir, 'prometheus');
  const tokenFile = join(dir, 'sd-token');
  assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, 'sd-credentials')).mode & 0o777, 0o600);
  const token = readFileSync(tokenFile, 'utf8').trim();
  assert.ok(token.length >= 32);
  assert.ok(!berth.output().includes(token), 'the token is never printed');
  for (const p of prometheusPids()) assert.ok(!p.cmdline.includes(token), 'nor on a command line');

  const sd = await fetch(`${berth.apiUrl}/apis/berth/v1alpha1/prometheus-targets`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(sd.status, 200);
  assert.deepEqual(await sd.json(), []);
  // Prometheus itself asks with it: the discovery has no error and its own job is up.
  await waitFor(async () => (await ownSamples()).length > 0, 60_000, 'a self-scrape', 500);
  // Its discovery reached the API with the token: refreshes, none failed.
  const own = await (await fetch(`${promUrl}/metrics`)).text();
  const sample = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(own)?.[1]);
  assert.ok(sample('prometheus_sd_refresh_duration_seconds_count\\{mechanism="http"\\}') > 0);
  assert.equal(sample('prometheus_sd_http_failures_total'), 0);
  const cfg = await (await fetch(`${promUrl}/api/v1/status/config`)).json();
  assert.match(JSON.stringify(cfg), /prometheus-targets/);
  assert.ok(!JSON.stringify(cfg).includes(token), "the token is not in Prometheus's config");
});

test('a stop and start keeps the tsdb; a SIGKILLed berth up takes Prometheus with it', async () => {
  const before = (await ownSamples())[0]!;
  assert.equal((await berth.stop('SIGINT')).code, 0);
  await waitFor(() => prometheusPids().length === 0, 30_000, 'Prometheus to stop with berth up');
  await berth.restart();
  await waitFor(
    async () => (await ownSamples()).some(([t]) => t === before[0]),
    30_000,
    'the samples from before the restart',
    500,
  );

  assert.equal((await berth.kill()).signal, 'SIGKILL');
  await waitFor(
    () => prometheusPids().length === 0,
    30_000,
    'Prometheus to go with a killed berth up',
  );
  await berth.restart();
  await waitFor(
    async () => (await ownSamples()).some(([t]) => t === before[0]),
    30_000,
    'the samples from before the kill',
    500,
  );
});

test('a Prometheus killed with SIGKILL on its own is started again', async () => {
  const [first] = prometheusPids();
  assert.ok(first, 'Prometheus runs');
  process.kill(first.pid, 'SIGKILL');
  const again = await waitFor(
    () => prometheusPids().find((p) => p.pid !== first.pid),
    60_000,
    'a new Prometheus',
    200,
  );
  assert.notEqual(again.pid, first.pid);
  await waitFor(
    async () => (await fetch(`${promUrl}/-/ready`).catch(() => undefined))?.status === 200,
    60_000,
    'the new Prometheus to be ready',
    200,
  );
  assert.match(berth.output(), /Prometheus exited unexpectedly; starting it again/);
});
