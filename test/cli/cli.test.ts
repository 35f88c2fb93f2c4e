// The berth CLI end to end: a real API on a fresh database, bin/berth run as a
// child process for each command, stdout/stderr/exit codes checked.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startApi } from '../../api/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { metricValue } from '../support/metrics.ts';
import { waitFor } from '../support/wait.ts';
import { type Run, type RunOptions, runBerth, startBerth } from './harness.ts';

let db: TestDatabase;
let api: Awaited<ReturnType<typeof startApi>>;
let dir: string;
let adminToken: string;
let aliceToken: string;

function as(token: string) {
  return (args: string[], opts: RunOptions = {}): Promise<Run> =>
    runBerth(args, {
      ...opts,
      env: {
        BERTH_CONFIG: join(dir, `config-${token.slice(-6)}.yaml`),
        BERTH_SERVER: api.url,
        BERTH_TOKEN: token,
        ...opts.env,
      },
    });
}
let admin: ReturnType<typeof as>;
let alice: ReturnType<typeof as>;

async function http(
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<unknown> {
  const res = await fetch(api.url + path, {
    method,
    headers: {
      authorization: `Bearer ${adminToken}`,
      ...(body ? { 'content-type': contentType } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

const BASE = '/apis/berth/v1alpha1';

/** Open watches on the server, from its Prometheus metrics. */
async function openWatches(): Promise<number> {
  const res = await fetch(`${api.url}/metrics`, {
    headers: { authorization: `Bearer ${adminToken}` },
  });
  return metricValue(await res.text(), 'berth_api_open_watches');
}

function ok(r: Run): Run {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

before(async () => {
  db = await freshDatabase();
  api = await startApi({ pool: db.pool, port: 0, config: { logLevel: 'silent' } });
  adminToken = (await api.identity.createToken({ user: 'root', admin: true })).token;
  aliceToken = (await api.identity.createToken({ user: 'alice', admin: false })).token;
  dir = await mkdtemp(join(tmpdir(), 'berth-cli-it-'));
  admin = as(adminToken);
  alice = as(aliceToken);
});

after(async () => {
  await api?.close();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('berth CLI against a real API', { concurrency: false }, () => {
  test('apply examples/: created, then unchanged, then configured after a change', async () => {
    const first = ok(await admin(['apply', '-f', 'examples/']));
    for (const name of ['jupyterlab', 'rstudio', 'pgadmin', 'vscode', 'demo']) {
      assert.match(first.stdout, new RegExp(`^tooldefinition/${name} created$`, 'm'));
    }
    assert.equal(first.stderr, '', 'examples/ applies without a warning');
    // A YAML file that is not a berth object (ecs-local's image map) is skipped, not an error.
    const skipped = ok(await admin(['apply', '-f', 'examples/demo/images.yaml']));
    assert.match(
      skipped.stderr,
      /warning: skipping examples\/demo\/images\.yaml \(document 1\): not a berth object/,
    );
    const again = ok(await admin(['apply', '-f', 'examples/']));
    assert.match(again.stdout, /^tooldefinition\/jupyterlab unchanged$/m);
    assert.doesNotMatch(again.stdout, /created|configured/);

    const changed = (await readFile('examples/jupyterlab.yaml', 'utf8')).replace(
      'displayName: JupyterLab',
      'displayName: JupyterLab 2',
    );
    const path = join(dir, 'jupyterlab.yaml');
    await writeFile(path, changed);
    const third = ok(await admin(['apply', '-f', path]));
    assert.equal(third.stdout, 'tooldefinition/jupyterlab configured\n');
  });

  test('get td: printer columns, aliases, -o name/json/yaml, -l, wide', async () => {
    const table = ok(await admin(['get', 'td']));
    const lines = table.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^NAME\s+DISPLAY NAME\s+IMAGE\s+SHARING\s+DEFAULT SIZE\s+AGE$/);
    assert.match(
      table.stdout,
      /^jupyterlab\s+JupyterLab 2\s+quay\.io\/jupyter\/minimal-notebook\S*\s+perUser\s+medium\s+\d+s$/m,
    );
    // Independent reads run side by side: each is its own process.
    const aliases = ['tooldefinitions', 'tooldefinition', 'ToolDefinition', 'TD'];
    const [byAlias, names, jsonRun, yamlRun, labelled, wide, chunked] = await Promise.all([
      Promise.all(aliases.map((a) => admin(['get', a]))),
      admin(['get', 'td', '-o', 'name']),
      admin(['get', 'td', 'jupyterlab', '-o', 'json']),
      admin(['get', 'td/rstudio', '-o', 'yaml']),
      admin(['get', 'td', '-l', 'category=demo', '-o', 'name']),
      admin(['get', 'td', '-o', 'wide']),
      admin(['get', 'td', '-o', 'json', '--chunk-size', '2']),
    ]);
    const ages = (t: string) => t.replace(/\d+[smh]$/gm, 'AGE');
    byAlias.forEach((r, i) => {
      assert.equal(ages(ok(r).stdout), ages(table.stdout), aliases[i]);
    });
    assert.match(
      ok(names).stdout,
      /^tooldefinition\/demo\ntooldefinition\/demo-files\ntooldefinition\/jupyterlab\n/,
    );
    const json = JSON.parse(ok(jsonRun).stdout);
    assert.equal(json.kind, 'ToolDefinition');
    assert.equal(json.spec.port, 8888);
    assert.match(
      ok(yamlRun).stdout,
      /^apiVersion: berth\/v1alpha1\nkind: ToolDefinition\nmetadata:\n {2}annotations:/,
    );
    assert.equal(ok(labelled).stdout, 'tooldefinition/demo\ntooldefinition/demo-files\n');
    assert.match(ok(wide).stdout.split('\n')[0]!, /PORT\s+CAPACITY/);
    const list = JSON.parse(ok(chunked).stdout);
    assert.equal(list.kind, 'List');
    assert.equal(list.items.length, 5, 'pagination with --chunk-size 2 returns every object');
  });

  test('unknown kind suggests the nearest; a missing object is a clean error', async () => {
    const r = await admin(['get', 'tooldefintion']);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      'error: the server doesn\'t have a resource type "tooldefintion"; did you mean "tooldefinition"?\n',
    );
    const shortened = await admin(['get', 'tooldefs']);
    assert.equal(shortened.code, 1);
    assert.equal(
      shortened.stderr,
      'error: the server doesn\'t have a resource type "tooldefs"; did you mean "tooldefinitions"?\n',
    );
    const missing = await admin(['get', 'td', 'nope']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: .*nope.* not found/);
    assert.doesNotMatch(missing.stderr, /\n\s+at /);
  });

  test('a validation error names the file, the document and the field', async () => {
    const path = join(dir, 'bad.yaml');
    await writeFile(
      path,
      [
        'apiVersion: berth/v1alpha1\nkind: ToolDefinition\nmetadata: {name: good-one}\nspec:',
        '  displayName: Good\n  image: example/good:1\n  port: 8080\n  sizes: {small: {cpu: 256, memory: 512}}\n  defaultSize: small',
        '---',
        'apiVersion: berth/v1alpha1\nkind: ToolDefinition\nmetadata: {name: bad-one}\nspec:',
        '  displayName: Bad\n  image: example/bad:1\n  port: 99999\n  sizes: {small: {cpu: 256, memory: 512}}\n  defaultSize: small',
      ].join('\n'),
    );
    const r = await admin(['apply', '-f', path]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, 'tooldefinition/good-one created\n');
    assert.match(
      r.stderr,
      new RegExp(
        `^error: ${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(document 2\\): ToolDefinition "bad-one" is invalid: spec\\.port: `,
      ),
    );
  });

  test('multi-document YAML from stdin (-f -)', async () => {
    const stdin = [
      'apiVersion: berth/v1alpha1\nkind: ToolInstance\nmetadata: {name: jupyterlab}\nspec: {toolRef: jupyterlab}',
      '---',
      'apiVersion: berth/v1alpha1\nkind: ToolInstance\nmetadata: {name: rstudio, labels: {team: data}}\nspec: {toolRef: rstudio}',
    ].join('\n');
    const r = ok(await alice(['apply', '-f', '-'], { stdin }));
    assert.equal(r.stdout, 'toolinstance/jupyterlab created\ntoolinstance/rstudio created\n');
    const got = ok(await alice(['get', 'ti']));
    assert.match(got.stdout, /^NAME\s+TOOL\s+SIZE\s+STATE\s+PHASE\s+READY\s+AGE\n/);
    assert.match(
      got.stdout,
      /^jupyterlab\s+jupyterlab\s+<none>\s+Running\s+<none>\s+<none>\s+\d+s$/m,
    );
    assert.equal(
      ok(await alice(['get', 'ti', '-l', 'team=data', '-o', 'name'])).stdout,
      'toolinstance/rstudio\n',
    );
  });

  test('-A shows NAMESPACE; an empty namespace says so', async () => {
    const all = ok(await admin(['get', 'ti', '-A']));
    assert.match(all.stdout, /^NAMESPACE\s+NAME\s+TOOL/);
    assert.match(all.stdout, /^alice\s+jupyterlab\s+jupyterlab/m);
    const empty = ok(await admin(['get', 'ti', '-n', 'nobody']));
    assert.equal(empty.stdout, '');
    assert.equal(empty.stderr, 'No resources found in nobody namespace.\n');
  });

  test('describe shows spec, status, conditions and events', async () => {
    await http(
      'PATCH',
      `${BASE}/namespaces/alice/toolinstances/jupyterlab/status`,
      {
        status: {
          phase: 'Starting',
          conditions: [
            { type: 'Ready', status: 'False', reason: 'Probing', message: 'waiting for /api' },
          ],
        },
      },
      'application/merge-patch+json',
    );
    const live = (await http('GET', `${BASE}/namespaces/alice/toolinstances/jupyterlab`)) as {
      metadata: { uid: string };
    };
    await http('POST', `${BASE}/namespaces/alice/events`, {
      apiVersion: 'berth/v1alpha1',
      kind: 'Event',
      metadata: { name: 'jupyterlab.launched' },
      involvedObject: {
        apiVersion: 'berth/v1alpha1',
        kind: 'ToolInstance',
        name: 'jupyterlab',
        namespace: 'alice',
        uid: live.metadata.uid,
      },
      reason: 'TaskLaunched',
      message: 'started task abc',
      type: 'Normal',
      source: { component: 'test' },
      lastTimestamp: new Date().toISOString(),
    });
    const r = ok(await alice(['describe', 'ti', 'jupyterlab']));
    assert.match(r.stdout, /^Name:\s+jupyterlab\nNamespace:\s+alice\n/);
    assert.match(r.stdout, /Spec:\n {2}State:\s+Running\n {2}Tool Ref:\s+jupyterlab/);
    assert.match(r.stdout, /Status:\n {2}Phase:\s+Starting/);
    assert.match(r.stdout, /Conditions:\n {2}Type\s+Status\s+Reason\s+Message\s+Last Transition\n/);
    assert.match(r.stdout, /Ready\s+False\s+Probing\s+waiting for \/api/);
    assert.match(
      r.stdout,
      /Events:\n {2}Type\s+Reason\s+Age\s+From\s+Message\n {2}-+.*\n {2}Normal\s+TaskLaunched\s+\d+s\s+test\s+started task abc\n/,
    );
  });

  test('wait --for=jsonpath and --for=condition, by watch; and its timeout', async () => {
    const waiting = alice([
      'wait',
      'ti/jupyterlab',
      '--for=jsonpath={.status.phase}=Ready',
      '--timeout=20s',
    ]);
    const waitingCond = alice([
      'wait',
      'ti',
      'jupyterlab',
      '--for=condition=Ready',
      '--timeout=20s',
    ]);
    // Both commands must be watching before the change, so that it reaches them by watch.
    await waitFor(
      async () => (await openWatches()) >= 2,
      30_000,
      'the wait commands to open their watches',
    );
    await http(
      'PATCH',
      `${BASE}/namespaces/alice/toolinstances/jupyterlab/status`,
      {
        status: {
          phase: 'Ready',
          conditions: [{ type: 'Ready', status: 'True', reason: 'Probed' }],
        },
      },
      'application/merge-patch+json',
    );
    assert.equal(ok(await waiting).stdout, 'toolinstance/jupyterlab condition met\n');
    assert.equal(ok(await waitingCond).stdout, 'toolinstance/jupyterlab condition met\n');

    const t0 = Date.now();
    const timeout = await alice([
      'wait',
      'ti/jupyterlab',
      '--for=jsonpath={.status.phase}=Stopped',
      '--timeout=1s',
    ]);
    assert.equal(timeout.code, 1);
    assert.equal(
      timeout.stderr,
      'error: timed out waiting for the condition on toolinstances/jupyterlab\n',
    );
    assert.ok(Date.now() - t0 < 10_000);
  });

  test('get -w prints the list, then a row per change', async () => {
    const env = {
      BERTH_CONFIG: join(dir, 'watch.yaml'),
      BERTH_SERVER: api.url,
      BERTH_TOKEN: aliceToken,
    };
    const watching = startBerth(['get', 'ti', '-w'], { env });
    try {
      await watching.waitForStdout(/^NAME\s+TOOL.*\n(.*\n)*jupyterlab\s+jupyterlab/m);
      await waitFor(async () => (await openWatches()) >= 1, 30_000, 'get -w to open its watch');
      await http(
        'PATCH',
        `${BASE}/namespaces/alice/toolinstances/jupyterlab/status`,
        { status: { phase: 'Stopping' } },
        'application/merge-patch+json',
      );
      const out = await watching.waitForStdout(
        /^jupyterlab\s+jupyterlab\s+\S+\s+Running\s+Stopping\s/m,
      );
      // One header only: watch rows follow the table without repeating it.
      assert.equal(out.match(/^NAME/gm)?.length, 1);
    } finally {
      await watching.stop();
    }
  });

  test('diff: 0 when equal, 1 with a unified diff when different', async () => {
    const same = await admin(['diff', '-f', 'examples/rstudio.yaml']);
    assert.equal(same.code, 0, same.stderr + same.stdout);
    assert.equal(same.stdout, '');
    const path = join(dir, 'rstudio.yaml');
    await writeFile(
      path,
      (await readFile('examples/rstudio.yaml', 'utf8')).replace(/port: \d+/, 'port: 9999'),
    );
    const different = await admin(['diff', '-f', path]);
    assert.equal(different.code, 1, different.stderr);
    assert.match(different.stdout, /^-\s+port: \d+$/m);
    assert.match(different.stdout, /^\+\s+port: 9999$/m);
    const broken = await admin(['diff', '-f', join(dir, 'missing.yaml')]);
    assert.equal(broken.code, 2);
  });

  test("launch and stop set spec.state in the user's namespace", async () => {
    const launched = ok(await alice(['launch', 'pgadmin', '--size', 'small']));
    assert.equal(launched.stdout, 'toolinstance/pgadmin launched (namespace alice)\n');
    assert.match(launched.stderr, /berth get ti pgadmin -w/);
    const obj = (await http('GET', `${BASE}/namespaces/alice/toolinstances/pgadmin`)) as {
      spec: Record<string, unknown>;
    };
    assert.deepEqual(
      [obj.spec.toolRef, obj.spec.state, obj.spec.size],
      ['pgadmin', 'Running', 'small'],
    );
    // A launch says when it was asked for: an instance whose attempt ended gets a new one.
    assert.ok(
      Date.now() - Date.parse(String(obj.spec.launchRequestedAt)) < 600_000,
      `spec.launchRequestedAt is a recent time: ${obj.spec.launchRequestedAt}`,
    );
    assert.equal(
      ok(await alice(['stop', 'pgadmin'])).stdout,
      'toolinstance/pgadmin stopped (namespace alice)\n',
    );
    const stopped = (await http('GET', `${BASE}/namespaces/alice/toolinstances/pgadmin`)) as {
      spec: Record<string, unknown>;
    };
    assert.deepEqual([stopped.spec.state, stopped.spec.size], ['Stopped', 'small']);
  });

  test('launch: an unknown tool or size fails at once, naming the choices', async () => {
    const SIZES = 'small, medium, large, xl, 2xl, 3xl';
    const unknown = await alice(['launch', 'nosuchtool']);
    assert.equal(unknown.code, 1, unknown.stdout);
    assert.equal(unknown.stdout, '');
    assert.match(
      unknown.stderr,
      /spec\.toolRef: ToolDefinition "nosuchtool" does not exist; choose one of: demo, (.+, )?jupyterlab, pgadmin, rstudio, vscode\n/,
    );
    assert.doesNotMatch(unknown.stderr, /\n\s+at /);
    assert.equal((await alice(['get', 'ti', 'nosuchtool'])).code, 1, 'nothing was created');

    // A new instance (created by apply) and an existing one (a merge patch of its size).
    const fresh = await alice(['launch', 'demo', '--size', 'huge']);
    assert.equal(fresh.code, 1, fresh.stdout);
    assert.match(
      fresh.stderr,
      new RegExp(`spec\\.size: size "huge" is not one of the sizes of tool "demo": ${SIZES}\\n`),
    );
    assert.equal((await alice(['get', 'ti', 'demo'])).code, 1, 'nothing was created');
    const existing = await alice(['launch', 'pgadmin', '--size', 'huge']);
    assert.equal(existing.code, 1, existing.stdout);
    assert.match(
      existing.stderr,
      new RegExp(`ToolInstance "pgadmin" is invalid: spec\\.size: .*tool "pgadmin": ${SIZES}\\n`),
    );
    const kept = (await http('GET', `${BASE}/namespaces/alice/toolinstances/pgadmin`)) as {
      spec: Record<string, unknown>;
    };
    assert.equal(kept.spec.size, 'small', 'the refused size was not written');
    // Admins are held to the same (access lists aside).
    const adminUnknown = await admin(['launch', 'nosuchtool']);
    assert.equal(adminUnknown.code, 1);
    assert.match(adminUnknown.stderr, /ToolDefinition "nosuchtool" does not exist; choose one of/);
  });

  test('apply -f DIR: ToolDefinitions go first, whatever the files are called', async () => {
    const sub = await mkdtemp(join(dir, 'ordered-'));
    await writeFile(
      join(sub, 'a-instance.yaml'),
      'apiVersion: berth/v1alpha1\nkind: ToolInstance\nmetadata: {name: late, namespace: alice}\nspec: {toolRef: late}\n',
    );
    await writeFile(
      join(sub, 'b-tool.yaml'),
      (await readFile('examples/demo.yaml', 'utf8')).replace('name: demo', 'name: late'),
    );
    const r = ok(await admin(['apply', '-f', sub]));
    assert.equal(r.stdout, 'tooldefinition/late created\ntoolinstance/late created\n');
  });

  test('delete --wait returns only once finalizers let the object go', async () => {
    await http(
      'PATCH',
      `${BASE}/namespaces/alice/toolinstances/rstudio`,
      { metadata: { finalizers: ['berth/test'] } },
      'application/merge-patch+json',
    );
    const deleting = alice(['delete', 'ti', 'rstudio', '--wait', '--timeout', '20s']);
    // The object stays (with deletionTimestamp) until the finalizer is removed.
    await waitFor(
      async () => {
        const o = (await http('GET', `${BASE}/namespaces/alice/toolinstances/rstudio`)) as {
          metadata: { deletionTimestamp?: string };
        };
        return Boolean(o.metadata.deletionTimestamp);
      },
      30_000,
      'deletionTimestamp to be set',
    );
    await http(
      'PATCH',
      `${BASE}/namespaces/alice/toolinstances/rstudio`,
      { metadata: { finalizers: null } },
      'application/merge-patch+json',
    );
    const r = ok(await deleting);
    assert.equal(r.stdout, 'toolinstance "rstudio" deleted\n');
    const after = await alice(['get', 'ti', 'rstudio']);
    assert.equal(after.code, 1);
  });

  test('delete -f FILE, and wait --for=delete', async () => {
    const path = join(dir, 'scratch.yaml');
    await writeFile(
      path,
      'apiVersion: berth/v1alpha1\nkind: ToolInstance\nmetadata: {name: vscode}\nspec: {toolRef: vscode}\n',
    );
    assert.equal(ok(await alice(['apply', '-f', path])).stdout, 'toolinstance/vscode created\n');
    const waiting = alice(['wait', 'ti/vscode', '--for=delete', '--timeout=20s']);
    await waitFor(
      async () => (await openWatches()) >= 1,
      30_000,
      'wait --for=delete to open its watch',
    );
    assert.equal(ok(await alice(['delete', '-f', path])).stdout, 'toolinstance "vscode" deleted\n');
    assert.equal(ok(await waiting).stdout, 'toolinstance/vscode condition met\n');
    const again = await alice(['delete', '-f', path]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^error: .*scratch\.yaml \(document 1\): .*not found/);
    ok(await alice(['delete', '-f', path, '--ignore-not-found']));
  });

  test('token create, whoami, 401 and 403 messages', async () => {
    const created = ok(await admin(['token', 'create', '--user', 'bob', '--description', 'test']));
    const token = created.stdout.trim();
    assert.ok(token.length >= 20);
    assert.match(created.stderr, /will not be shown again/);
    const bob = as(token);
    const me = ok(await bob(['whoami']));
    assert.match(me.stdout, /^User:\s+bob\nNamespace:\s+bob\nAdmin:\s+no\n/);
    assert.match(ok(await admin(['whoami'])).stdout, /Admin:\s+yes/);

    const bad = await runBerth(['get', 'ti'], {
      env: {
        BERTH_CONFIG: join(dir, 'none.yaml'),
        BERTH_SERVER: api.url,
        BERTH_TOKEN: 'not-a-token',
      },
    });
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      /^error: unauthorized: the token was rejected.*berth config set token/,
    );
    const forbidden = await bob(['get', 'ti', '-n', 'alice']);
    assert.equal(forbidden.code, 1);
    assert.match(forbidden.stderr, /^error: .+/);
    const notAdmin = await bob(['token', 'create', '--user', 'eve']);
    assert.equal(notAdmin.code, 1);
  });

  test('config view masks the token unless --raw; config set writes the file', async () => {
    const env = {
      BERTH_CONFIG: join(dir, 'own.yaml'),
      BERTH_SERVER: undefined,
      BERTH_TOKEN: undefined,
    };
    ok(await runBerth(['config', 'set', 'server', api.url], { env }));
    ok(await runBerth(['config', 'set', 'token', aliceToken], { env }));
    const view = ok(await runBerth(['config', 'view'], { env }));
    assert.equal(view.stdout, `server: ${api.url}\ntoken: REDACTED\n`);
    const raw = JSON.parse(
      ok(await runBerth(['config', 'view', '--raw', '-o', 'json'], { env })).stdout,
    );
    assert.equal(raw.token, aliceToken);
    // The file is used when no env overrides it.
    assert.match(ok(await runBerth(['whoami'], { env })).stdout, /User:\s+alice/);
  });

  test('connection refused names the server and make run', async () => {
    // A port that was free a moment ago: nothing listens there.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const server = `http://127.0.0.1:${port}`;
    const r = await runBerth(['get', 'td'], {
      env: { BERTH_CONFIG: join(dir, 'x.yaml'), BERTH_SERVER: server, BERTH_TOKEN: 't' },
    });
    assert.equal(r.code, 1);
    assert.ok(
      r.stderr.startsWith(
        `error: cannot connect to the berth API at ${server} (connection refused). Start one with \`make run\``,
      ),
      r.stderr,
    );
  });
});
