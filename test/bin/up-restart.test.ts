// `make run` stopped and started again, as a new user does on day two: with
// some instances Ready, one launching and one stopping, `berth up` is stopped
// with Ctrl-C, with SIGTERM, or killed with every one of its processes (SIGKILL);
// then started again on the same data. Within 30 s every instance whose spec says
// Running is Ready again (ecs-local lost its tasks, so that means relaunched),
// the stopping one is Stopped, nothing is stuck, and delete completes.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { type BerthUp, startBerthUp } from '../support/berth-up.ts';
import { waitFor } from '../support/wait.ts';

const BASE = '/apis/berth/v1alpha1';
/** What the issue promises after a restart. */
const CONVERGE_MS = 30_000;

let berth: BerthUp;

before(async () => {
  berth = await startBerthUp({
    env: {
      // Slow enough phases that a launch and a stop are under way when berth goes.
      ECS_LOCAL_PROVISIONING_MS: '3000',
      ECS_LOCAL_DEACTIVATING_MS: '3000',
    },
  });
  const applied = await berth.cli('apply', '-f', 'examples/demo.yaml');
  assert.equal(applied.code, 0, applied.stderr);
});

after(() => berth?.dispose());

interface Instance {
  metadata: { generation?: number };
  spec: { state: string };
  status?: { phase?: string; taskArn?: string; observedGeneration?: number };
}

async function getInstance(ns: string): Promise<Instance | undefined> {
  const res = await berth.api('GET', `${BASE}/namespaces/${ns}/toolinstances/demo`);
  return res.ok ? ((await res.json()) as Instance) : undefined;
}

async function setState(ns: string, state: 'Running' | 'Stopped'): Promise<void> {
  const res = await berth.api(
    'PATCH',
    `${BASE}/namespaces/${ns}/toolinstances/demo`,
    { spec: { state } },
    'application/merge-patch+json',
  );
  assert.ok(res.ok, await res.text());
}

async function create(ns: string): Promise<void> {
  const res = await berth.api('POST', `${BASE}/namespaces/${ns}/toolinstances`, {
    apiVersion: 'berth/v1alpha1',
    kind: 'ToolInstance',
    metadata: { name: 'demo', namespace: ns },
    spec: { toolRef: 'demo', state: 'Running' },
  });
  assert.equal(res.status, 201, await res.text());
}

async function waitPhase(ns: string, phase: string, timeoutMs: number, what: string) {
  let last: Instance | undefined;
  await waitFor(
    async () => {
      last = await getInstance(ns);
      return last?.status?.phase === phase;
    },
    timeoutMs,
    what,
    100,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; ${ns}/demo: ${JSON.stringify(last)}`);
  });
  return last!;
}

/** The pid and every descendant of it (from /proc), so all of `berth up`'s processes can be killed at once. */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), pid]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (pid: number) => {
    out.push(pid);
    for (const c of children.get(pid) ?? []) walk(c);
  };
  walk(root);
  return out;
}

let round = 0;

async function scenario(how: 'SIGINT' | 'SIGTERM' | 'SIGKILL every process') {
  round += 1;
  const ready = [`r${round}a`, `r${round}b`];
  const launching = `l${round}`;
  const stopping = `s${round}`;
  for (const ns of [...ready, stopping]) await create(ns);
  for (const ns of [...ready, stopping]) await waitPhase(ns, 'Ready', 60_000, `${ns} Ready`);
  // One launch and one stop under way when berth goes.
  await setState(stopping, 'Stopped');
  await create(launching);
  await waitPhase(stopping, 'Stopping', 20_000, `${stopping} Stopping`);
  await waitPhase(launching, 'Starting', 20_000, `${launching} Starting`);

  if (how === 'SIGKILL every process') {
    for (const pid of processTree(berth.pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await berth.kill(); // waits for berth up's exit (a second SIGKILL is harmless)
  } else {
    const exit = await berth.stop(how);
    assert.deepEqual(exit, { code: 0, signal: null }, berth.output());
  }

  await berth.restart();
  const t0 = Date.now();
  for (const ns of [...ready, launching]) {
    await waitPhase(ns, 'Ready', CONVERGE_MS - (Date.now() - t0), `${ns} Ready again`);
  }
  await waitPhase(stopping, 'Stopped', CONVERGE_MS - (Date.now() - t0), `${stopping} Stopped`);

  // Nothing is stuck: stop and delete complete.
  await setState(ready[0]!, 'Stopped');
  await waitPhase(ready[0]!, 'Stopped', 30_000, `${ready[0]} stopped`);
  for (const ns of [ready[1]!, launching, stopping]) {
    const res = await berth.api('DELETE', `${BASE}/namespaces/${ns}/toolinstances/demo`);
    assert.ok(res.ok, await res.text());
  }
  await waitFor(
    async () =>
      (await Promise.all([ready[1]!, launching, stopping].map(getInstance))).every(
        (i) => i === undefined,
      ),
    30_000,
    'the deleted instances to go (finalizers released)',
    100,
  );
}

test('Ctrl-C, then berth up again: Running instances Ready within 30 s, a stop under way completes, delete completes', async () => {
  await scenario('SIGINT');
});

test('SIGTERM, then berth up again: the same', async () => {
  await scenario('SIGTERM');
});

test('every process of berth up SIGKILLed, then berth up again: the same', async () => {
  await scenario('SIGKILL every process');
});

test('PostgreSQL killed under a running berth up: started again, and berth works on', async () => {
  const postmaster = processTree(berth.pid).find((pid) => {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return argv[0]?.endsWith('/postgres') && argv.includes('-D');
    } catch {
      return false;
    }
  });
  assert.ok(postmaster, 'berth up runs its PostgreSQL');
  process.kill(postmaster, 'SIGKILL');
  // Writes and launches work again once it is back (the parts reconnect by themselves).
  await waitFor(
    async () => {
      const res = await berth
        .api('POST', `${BASE}/namespaces/pg-killed/toolinstances`, {
          apiVersion: 'berth/v1alpha1',
          kind: 'ToolInstance',
          metadata: { name: 'demo', namespace: 'pg-killed' },
          spec: { toolRef: 'demo', state: 'Running' },
        })
        .catch(() => undefined);
      return res?.status === 201;
    },
    CONVERGE_MS,
    'a create to succeed after PostgreSQL was killed',
    250,
  );
  await waitPhase('pg-killed', 'Ready', CONVERGE_MS, 'the new instance Ready');
  assert.match(berth.output(), /the embedded PostgreSQL exited unexpectedly; starting it again/);
});
