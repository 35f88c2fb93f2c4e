// `make run`'s terminal: `berth up` as a person runs it, stopped with Ctrl-C (a
// SIGINT to its whole process group, as a terminal sends it). Its lines are short
// and human-readable, API requests are not logged at info, and the stop is quiet
// and in order (PostgreSQL last), exiting 0.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { freePort } from '../../store/index.ts';
import { waitFor } from '../support/wait.ts';

const root = join(import.meta.dirname, '..', '..');

function alive(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

test('berth up: readable lines, no request logs at info, a quiet ordered stop on Ctrl-C', {
  timeout: 180_000,
}, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'berth-up-output-'));
  // Reachable by user `postgres`, so the cluster stays in here and goes with it.
  await chmod(dir, 0o755);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    BERTH_DATA_DIR: join(dir, 'data'),
    BERTH_CONFIG: join(dir, 'config.yaml'),
    BERTH_PG_PORT: String(await freePort()),
    ECS_LOCAL_PORT: String(await freePort()),
    BERTH_API_PORT: String(await freePort()),
    BERTH_PROXY_PORT: String(await freePort()),
    BERTH_CONTROLLER_METRICS_PORT: '0',
    BERTH_LOG_FORMAT: 'pretty',
  };
  for (const name of [
    'DATABASE_URL',
    'BERTH_ECS_ENDPOINT',
    'BERTH_LOG_LEVEL',
    'BERTH_SERVER',
    'BERTH_TOKEN',
  ])
    delete env[name];
  // Its own process group, so the test can send Ctrl-C as a terminal does.
  const child = spawn(
    process.execPath,
    ['--disable-warning=ExperimentalWarning', 'bin/berth.ts', 'up'],
    { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
  });
  child.stderr.on('data', (b: Buffer) => {
    out += b.toString();
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  try {
    await waitFor(() => out.includes('Web UI:') || !alive(child), 120_000, 'berth up to start');
    assert.ok(alive(child), `berth up stopped while starting:\n${out}`);

    // A few requests, as CLI commands make them: reads, a 404 and a write.
    const { server, token } = parse(readFileSync(env.BERTH_CONFIG!, 'utf8')) as {
      server: string;
      token: string;
    };
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const base = `${server}/apis/berth/v1alpha1`;
    for (const path of [
      '/tooldefinitions',
      '/tooldefinitions/nosuch',
      '/namespaces/admin/toolinstances',
    ]) {
      await (await fetch(`${base}${path}`, { headers })).arrayBuffer();
    }
    // A watch, as `get -w` and `wait` open them, that the server ends after a second.
    const watched = await fetch(`${base}/tooldefinitions?watch=true&timeoutSeconds=1`, { headers });
    await watched.arrayBuffer();
    const demo = parse(readFileSync(join(root, 'examples', 'demo.yaml'), 'utf8'));
    const created = await fetch(`${base}/tooldefinitions`, {
      method: 'POST',
      headers,
      body: JSON.stringify(demo),
    });
    assert.equal(created.status, 201, await created.text());
    // A running tool, so the controllers and ecs-local have work when the stop comes.
    const launched = await fetch(`${base}/namespaces/admin/toolinstances`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        apiVersion: 'berth/v1alpha1',
        kind: 'ToolInstance',
        metadata: { name: 'demo', namespace: 'admin' },
        spec: { toolRef: 'demo' },
      }),
    });
    assert.equal(launched.status, 201, await launched.text());
    await waitFor(
      async () => {
        const r = await fetch(`${base}/namespaces/admin/toolinstances/demo`, { headers });
        const ti = (await r.json()) as { status?: { phase?: string } };
        return ti.status?.phase === 'Ready';
      },
      90_000,
      'the demo tool to be Ready',
      200,
    );

    const beforeStop = out.length;
    process.kill(-child.pid!, 'SIGINT');
    const [code] = await exited;
    const lines = out.split('\n').filter((l) => l.trim());
    const shutdown = out.slice(beforeStop);

    assert.equal(code, 0, out);
    // Human-readable: no JSON log lines.
    assert.deepEqual(
      lines.filter((l) => l.startsWith('{')),
      [],
      'no JSON lines in a pretty log',
    );
    assert.match(out, /INFO.*embedded PostgreSQL started/);
    // Requests are debug lines: none at the default level.
    assert.doesNotMatch(out, /incoming request|request completed|watch closed/);
    // A clean stop: in order, nothing meets a closed database.
    assert.match(shutdown, /stopping[\s\S]*stopped/);
    assert.doesNotMatch(shutdown, /ECONNREFUSED|WARN|ERROR|terminating connection/i);
  } finally {
    if (alive(child)) {
      process.kill(-child.pid!, 'SIGINT');
      process.kill(-child.pid!, 'SIGINT'); // a second Ctrl-C: exit at once (PostgreSQL is told to stop)
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  }
});
