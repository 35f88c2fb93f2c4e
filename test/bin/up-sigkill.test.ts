// `berth up` killed with SIGKILL (a crash, the OOM killer) while a tool runs:
// the tool's process goes with it, the next `berth up` on the same data starts
// (its PostgreSQL left running is no obstacle), relaunches the instance whose
// spec says Running, and the route reaches the new process, never the old one.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { after, test } from 'node:test';
import { type BerthUp, startBerthUp } from '../support/berth-up.ts';
import { admin } from '../support/ecs-local.ts';
import { waitFor } from '../support/wait.ts';

let berth: BerthUp | undefined;
after(() => berth?.dispose());

interface Instance {
  status?: {
    phase?: string;
    endpoint?: string;
    taskArn?: string;
    conditions?: { type: string; status: string }[];
  };
}

/** Whether `pid` is a live process: present in /proc and not a zombie. */
function isLive(pid: number): boolean {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function instance(b: BerthUp, ns: string): Promise<Instance> {
  const res = await b.api('GET', `/apis/berth/v1alpha1/namespaces/${ns}/toolinstances/demo`);
  return res.ok ? ((await res.json()) as Instance) : {};
}

const isReady = (i: Instance) =>
  i.status?.phase === 'Ready' &&
  i.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

/** Waits until the instance is Ready on a task other than `notTask`; says where it got stuck otherwise. */
async function waitReady(
  b: BerthUp,
  ns: string,
  what: string,
  notTask?: string,
): Promise<Instance> {
  let last: Instance = {};
  await waitFor(
    async () => {
      last = await instance(b, ns);
      return isReady(last) && last.status?.taskArn !== notTask;
    },
    90_000,
    what,
    250,
  ).catch((err: Error) => {
    throw new Error(`${err.message}; the instance: ${JSON.stringify(last.status)}`);
  });
  return last;
}

/** Pids of the container processes ecs-local runs now. */
async function taskPids(b: BerthUp): Promise<number[]> {
  const res = await admin(
    { url: b.ecsLocalUrl, credentials: b.ecsLocalKey() },
    '/_ecs-local/processes',
  );
  const { processes } = (await res.json()) as { processes: { pid: number; running: boolean }[] };
  return processes.filter((p) => p.running).map((p) => p.pid);
}

/** GET / of the demo tool through the proxy, as its owner; the page names the process's pid. */
function viaProxy(b: BerthUp, ns: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${b.proxyUrl}/`,
      {
        headers: {
          host: `demo--${ns}.localhost`,
          authorization: `Bearer ${b.token}`,
          accept: 'text/html',
          // Answer 503 rather than launch when there is no route.
          'x-berth-no-launch': '1',
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.once('error', reject);
    req.end();
  });
}

const pidOnPage = (body: string) => Number(/\bpid (\d+)\)/.exec(body)?.[1] ?? 0);

test('after SIGKILL of berth up, no tool process is left, and the next berth up relaunches the tool and routes to the new process', async () => {
  berth = await startBerthUp();
  const b = berth;
  const applied = await b.cli('apply', '-f', 'examples/demo.yaml');
  assert.equal(applied.code, 0, applied.stderr);
  const launched = await b.cli('launch', 'demo');
  assert.equal(launched.code, 0, launched.stderr);
  const whoami = (await (await b.api('GET', '/apis/berth/v1alpha1/whoami')).json()) as {
    namespace: string;
  };
  const ns = whoami.namespace;
  const before = await waitReady(b, ns, 'the demo to be Ready');
  // One task: its gate (sidecars/gate), its tool and its metrics sidecar.
  const oldPids = await taskPids(b);
  assert.equal(oldPids.length, 3, 'one task runs: the gate, the tool and the metrics sidecar');
  const first = await viaProxy(b, ns);
  assert.equal(first.status, 200, first.body);
  const oldPid = pidOnPage(first.body);
  assert.ok(oldPids.includes(oldPid), 'the route reaches the tool’s process');

  await b.kill();
  await waitFor(
    () => !oldPids.some(isLive),
    10_000,
    'the task processes to die with berth up',
  ).catch(() =>
    assert.fail(`task processes ${oldPids.filter(isLive)} outlived SIGKILL of berth up`),
  );

  await b.restart();
  // The task it was Ready on died with ecs-local: Ready again means a new task.
  await waitReady(
    b,
    ns,
    'the demo to be Ready again, on a new task, after the restart',
    before.status?.taskArn,
  );
  const newPids = await taskPids(b);
  assert.equal(
    newPids.length,
    3,
    'one task runs again: the gate, the tool and the metrics sidecar',
  );
  assert.ok(!newPids.includes(oldPid), 'a new tool process runs');
  let page = { status: 0, body: '' };
  await waitFor(
    async () => {
      page = await viaProxy(b, ns);
      return page.status === 200;
    },
    30_000,
    'the route to answer after the restart',
    250,
  ).catch(() => assert.fail(`the route answers ${page.status}: ${page.body.slice(0, 300)}`));
  const newPid = pidOnPage(page.body);
  assert.ok(newPids.includes(newPid), 'the route reaches the new process');

  const stopped = await b.stop('SIGINT');
  assert.deepEqual(stopped, { code: 0, signal: null }, b.output());
  assert.ok(!newPids.some(isLive), 'a clean stop leaves no task process either');
});
