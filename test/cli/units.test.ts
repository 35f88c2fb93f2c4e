// Pure parts of the CLI, no server: JSONPath, printers, manifests, config,
// describe layout, merge patch, --for parsing.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import { batches, referencedFirst } from '../../cli/commands/apply.ts';
import { parseFor } from '../../cli/commands/wait.ts';
import { configPath, loadConfig, updateConfig } from '../../cli/config.ts';
import { eventsFor, renderDescribe, titleCase } from '../../cli/describe.ts';
import { CliError } from '../../cli/errors.ts';
import {
  evaluate,
  parsePath,
  query,
  renderTemplate,
  splitJsonPathCondition,
} from '../../cli/jsonpath.ts';
import { kindOrThrow, parseTargets } from '../../cli/kinds.ts';
import { parseManifests, readManifests } from '../../cli/manifests.ts';
import { mergePatch } from '../../cli/mergepatch.ts';
import { buildTable, humanDuration, renderObjects, renderTable } from '../../cli/printers.ts';
import { parseTimeout } from '../../cli/run.ts';
import { type BerthObject, kindInfo } from '../../crds/index.ts';

const ti = (name: string, extra: Partial<BerthObject> = {}): BerthObject => ({
  apiVersion: 'berth/v1alpha1',
  kind: 'ToolInstance',
  metadata: {
    name,
    namespace: 'alice',
    creationTimestamp: new Date(Date.now() - 3 * 60_000).toISOString(),
  },
  spec: { toolRef: 'jupyterlab', state: 'Running' },
  ...extra,
});

describe('jsonpath', () => {
  const obj = {
    status: {
      phase: 'Ready',
      conditions: [
        { type: 'Scheduled', status: 'True' },
        { type: 'Ready', status: 'False', reason: 'Probing' },
      ],
    },
    metadata: { labels: { 'app.kubernetes.io/name': 'x' } },
    list: [1, 2, 3],
  };
  test('fields, indexes, wildcards, filters and quoted keys', () => {
    assert.deepEqual(query('.status.phase', obj), ['Ready']);
    assert.deepEqual(query('.status.conditions[?(@.type=="Ready")].status', obj), ['False']);
    assert.deepEqual(query(".status.conditions[?(@.type!='Ready')].type", obj), ['Scheduled']);
    assert.deepEqual(query('.status.conditions[*].type', obj), ['Scheduled', 'Ready']);
    assert.deepEqual(query('.list[-1]', obj), ['3']);
    assert.deepEqual(query(".metadata.labels['app.kubernetes.io/name']", obj), ['x']);
    assert.deepEqual(query('.status.missing', obj), []);
    assert.deepEqual(evaluate(parsePath('.list'), obj), [[1, 2, 3]]);
  });
  test('templates and --for=jsonpath arguments', () => {
    assert.equal(renderTemplate('phase={.status.phase}', obj), 'phase=Ready');
    assert.deepEqual(splitJsonPathCondition("'{.status.phase}'=Ready"), {
      path: '.status.phase',
      value: 'Ready',
    });
    assert.deepEqual(splitJsonPathCondition('{.status.phase}'), {
      path: '.status.phase',
      value: undefined,
    });
    assert.deepEqual(splitJsonPathCondition('.status.phase=Ready'), {
      path: '.status.phase',
      value: 'Ready',
    });
  });
  test('unsupported syntax is an error, not a silent miss', () => {
    assert.throws(() => parsePath('.a..b'), /recursive descent/);
    assert.throws(() => parsePath('.a[?(foo)]'), /unsupported/);
    assert.throws(() => parsePath('.a[0'), /unclosed/);
  });
});

describe('printers', () => {
  test('ages as kubectl prints them', () => {
    assert.equal(humanDuration(5_000), '5s');
    assert.equal(humanDuration(119_000), '119s');
    assert.equal(humanDuration(200_000), '3m20s');
    assert.equal(humanDuration(30 * 60_000), '30m');
    assert.equal(humanDuration(125 * 60_000), '125m');
    assert.equal(humanDuration(4 * 3600_000 + 5 * 60_000), '4h5m');
    assert.equal(humanDuration(20 * 3600_000), '20h');
    assert.equal(humanDuration(4 * 86400_000 + 3 * 3600_000), '4d3h');
    assert.equal(humanDuration(400 * 86400_000), '400d');
    assert.equal(humanDuration(-5000), '<invalid>');
  });
  test('table: NAME first, printer columns, <none> for missing, aligned', () => {
    const info = kindInfo('ToolInstance');
    const ready = ti('rstudio', {
      status: { phase: 'Ready', conditions: [{ type: 'Ready', status: 'True' }] },
    });
    const out = renderTable(buildTable(info, [ti('jupyterlab'), ready]));
    const lines = out.trimEnd().split('\n');
    assert.match(lines[0]!, /^NAME\s+TOOL\s+SIZE\s+STATE\s+PHASE\s+READY\s+AGE$/);
    assert.match(lines[1]!, /^jupyterlab\s+jupyterlab\s+<none>\s+Running\s+<none>\s+<none>\s+3m$/);
    assert.match(lines[2]!, /^rstudio\s+jupyterlab\s+<none>\s+Running\s+Ready\s+True\s+3m$/);
    // Columns line up: every header starts where its cells start.
    const at = lines[0]!.indexOf('STATE');
    assert.equal(lines[1]!.indexOf('Running'), at);
    assert.equal(lines[2]!.indexOf('Running'), at);
  });
  test('wide adds priority-1 columns; -A adds NAMESPACE first', () => {
    const info = kindInfo('ToolInstance');
    const wide = buildTable(info, [ti('a')], { wide: true, allNamespaces: true });
    assert.equal(wide.header[0], 'NAMESPACE');
    assert.ok(wide.header.includes('ENDPOINT'));
    assert.equal(wide.rows[0]![0], 'alice');
    const narrow = buildTable(info, [ti('a')]);
    assert.ok(!narrow.header.includes('ENDPOINT'));
  });
  test('-o name, json and yaml', () => {
    const info = kindInfo('ToolInstance');
    assert.equal(
      renderObjects(info, [ti('a'), ti('b')], 'name', false),
      'toolinstance/a\ntoolinstance/b\n',
    );
    const list = JSON.parse(renderObjects(info, [ti('a')], 'json', false));
    assert.equal(list.kind, 'List');
    assert.equal(list.items[0].metadata.name, 'a');
    assert.match(
      renderObjects(info, [ti('a')], 'yaml', true),
      /^apiVersion: berth\/v1alpha1\nkind: ToolInstance\n/,
    );
  });
});

describe('manifests', () => {
  let dir: string;
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  test('multi-document YAML keeps file and index; empty documents are skipped', () => {
    const ms = parseManifests('kind: A\n---\n---\nkind: B\n', 'x.yaml');
    assert.deepEqual(
      ms.map((m) => [m.file, m.index, m.object.kind]),
      [
        ['x.yaml', 1, 'A'],
        ['x.yaml', 3, 'B'],
      ],
    );
  });
  test('JSON and JSON List', () => {
    const ms = parseManifests(
      JSON.stringify({ kind: 'List', items: [{ kind: 'A' }, { kind: 'B' }] }),
      'l.json',
    );
    assert.deepEqual(
      ms.map((m) => [m.index, m.item, m.object.kind]),
      [
        [1, 1, 'A'],
        [1, 2, 'B'],
      ],
    );
  });
  test('broken YAML names the file and document', () => {
    assert.throws(
      () => parseManifests('kind: A\n---\nkind: [unclosed\n', 'bad.yaml'),
      (e: unknown) =>
        e instanceof CliError && /^bad\.yaml \(document 2\): not valid YAML/.test(e.message),
    );
    assert.throws(
      () => parseManifests('- a\n- b\n', 'arr.yaml'),
      /arr\.yaml \(document 1\): expected an object/,
    );
  });
  test('directories: sorted, only yaml/yml/json, recursive only with -R; stdin', async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-cli-'));
    await writeFile(join(dir, 'b.yaml'), 'kind: B\n');
    await writeFile(join(dir, 'a.json'), '{"kind":"A"}');
    await writeFile(join(dir, 'notes.txt'), 'kind: X\n');
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'c.yml'), 'kind: C\n');
    const flat = await readManifests([dir]);
    assert.deepEqual(
      flat.map((m) => m.object.kind),
      ['A', 'B'],
    );
    const deep = await readManifests([dir], { recursive: true });
    assert.deepEqual(
      deep.map((m) => m.object.kind),
      ['A', 'B', 'C'],
    );
    const fromStdin = await readManifests(['-'], {
      stdin: Readable.from(['kind: S\n---\nkind: T\n']),
    });
    assert.deepEqual(
      fromStdin.map((m) => [m.file, m.index, m.object.kind]),
      [
        ['stdin', 1, 'S'],
        ['stdin', 2, 'T'],
      ],
    );
    await assert.rejects(readManifests([join(dir, 'nope')]), /does not exist/);
  });
});

describe('config', () => {
  let dir: string;
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  test('path precedence: BERTH_CONFIG, XDG_CONFIG_HOME, ~/.config', () => {
    assert.equal(configPath({ BERTH_CONFIG: '/x/c.yaml', XDG_CONFIG_HOME: '/y' }), '/x/c.yaml');
    assert.equal(configPath({ XDG_CONFIG_HOME: '/y' }), '/y/berth/config.yaml');
    assert.match(configPath({}), /\.config\/berth\/config\.yaml$/);
  });
  test('updateConfig writes 0600 and merges; env overrides the file', async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-cfg-'));
    const env = { BERTH_CONFIG: join(dir, 'sub', 'config.yaml') };
    const path = await updateConfig({ server: 'http://127.0.0.1:9999/' }, env);
    await updateConfig({ token: 'secret-token' }, env);
    assert.equal(path, env.BERTH_CONFIG);
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.match(
      await readFile(path, 'utf8'),
      /server: http:\/\/127\.0\.0\.1:9999\/\ntoken: secret-token/,
    );
    const c = await loadConfig(env);
    assert.equal(c.server, 'http://127.0.0.1:9999');
    assert.equal(c.token, 'secret-token');
    const o = await loadConfig({ ...env, BERTH_SERVER: 'http://other:1', BERTH_TOKEN: 't2' });
    assert.deepEqual(
      [o.server, o.token, o.source.server, o.source.token],
      ['http://other:1', 't2', 'env', 'env'],
    );
  });
  test('a broken config file is a clear error', async () => {
    const p = join(dir, 'broken.yaml');
    await writeFile(p, 'server: 12\n');
    await assert.rejects(loadConfig({ BERTH_CONFIG: p }), /broken\.yaml: server:/);
  });
});

describe('kinds, describe, merge patch, wait --for, timeouts', () => {
  test('aliases and the nearest-kind suggestion', () => {
    assert.equal(kindOrThrow('td').kind, 'ToolDefinition');
    assert.equal(kindOrThrow('TOOLINSTANCES').kind, 'ToolInstance');
    assert.throws(
      () => kindOrThrow('tooldefintion'),
      /doesn't have a resource type "tooldefintion"; did you mean "tooldefinition"\?/,
    );
    // A shortening, too far from any name for the typo rule, names the kind it starts.
    assert.throws(
      () => kindOrThrow('tooldefs'),
      /doesn't have a resource type "tooldefs"; did you mean "tooldefinitions"\?/,
    );
    assert.throws(() => kindOrThrow('toolinst'), /did you mean "toolinstances"\?/);
    // The start of two kinds' names names neither.
    assert.throws(() => kindOrThrow('tools'), /resource type "tools"$/);
    const { info, targets } = parseTargets(['ti/a', 'ti/b']);
    assert.equal(info?.kind, 'ToolInstance');
    assert.deepEqual(
      targets.map((t) => t.name),
      ['a', 'b'],
    );
  });
  test('describe: title-cased blocks, conditions table, events', () => {
    assert.equal(titleCase('toolRef'), 'Tool Ref');
    assert.equal(titleCase('observedGeneration'), 'Observed Generation');
    assert.equal(titleCase('ephemeralStorageGiB'), 'Ephemeral Storage GiB');
    assert.equal(titleCase('taskID'), 'Task ID');
    assert.equal(titleCase('readyAt'), 'Ready At');
    const obj = ti('jupyterlab', {
      metadata: { name: 'jupyterlab', namespace: 'alice', uid: 'u1', labels: { a: 'b' } },
      status: {
        phase: 'Starting',
        conditions: [{ type: 'Ready', status: 'False', reason: 'Probing', message: 'waiting' }],
      },
    });
    const ev = (reason: string, at: string, uid = 'u1'): BerthObject => ({
      apiVersion: 'berth/v1alpha1',
      kind: 'Event',
      metadata: { name: reason.toLowerCase(), namespace: 'alice' },
      involvedObject: {
        apiVersion: 'berth/v1alpha1',
        kind: 'ToolInstance',
        name: 'jupyterlab',
        uid,
      },
      reason,
      type: 'Normal',
      message: `${reason} happened`,
      lastTimestamp: at,
      count: 1,
    });
    const events = eventsFor(obj, [
      ev('Later', '2025-01-02T00:00:00Z'),
      ev('Earlier', '2025-01-01T00:00:00Z'),
      ev('Other', '2025-01-01T00:00:00Z', 'u2'),
    ]);
    assert.deepEqual(
      events.map((e) => e.reason),
      ['Earlier', 'Later'],
    );
    const text = renderDescribe({ object: obj, events });
    assert.match(
      text,
      /^Name:\s+jupyterlab\nNamespace:\s+alice\nLabels:\s+a=b\nAnnotations:\s+<none>/,
    );
    assert.match(text, /Spec:\n {2}State:\s+Running\n {2}Tool Ref:\s+jupyterlab/);
    assert.match(
      text,
      /Conditions:\n {2}Type\s+Status\s+Reason\s+Message\s+Last Transition\n {2}----/,
    );
    assert.match(text, / {2}Ready\s+False\s+Probing\s+waiting/);
    assert.match(
      text,
      /Events:\n {2}Type\s+Reason\s+Age\s+From\s+Message\n[\s\S]*Earlier[\s\S]*Later/,
    );
    assert.match(
      renderDescribe({ object: ti('x'), events: [] }),
      /Conditions:\n {2}<none>\nEvents:\s+<none>/,
    );
  });
  test('apply batches: a change of kind or a repeated object is a barrier', () => {
    const doc = (kind: string, name: string) => ({
      file: 'f',
      index: 1,
      object: { kind, metadata: { name } },
    });
    const got = batches([
      doc('TD', 'a'),
      doc('TD', 'b'),
      doc('TI', 'a'),
      doc('TI', 'b'),
      doc('TI', 'a'),
      doc('TD', 'c'),
    ]);
    assert.deepEqual(
      got.map((b) =>
        b.map((m) => `${m.object.kind}/${(m.object.metadata as { name: string }).name}`),
      ),
      [['TD/a', 'TD/b'], ['TI/a', 'TI/b'], ['TI/a'], ['TD/c']],
    );
  });
  test('apply order: ToolDefinitions first, the rest in document order', () => {
    const doc = (kind: string, name: string) => ({
      file: 'f',
      index: 1,
      object: { kind, metadata: { name } },
    });
    const got = referencedFirst([
      doc('ToolInstance', 'a'),
      doc('ToolDefinition', 'a'),
      doc('Event', 'e'),
      doc('ToolInstance', 'b'),
      doc('ToolDefinition', 'b'),
    ]);
    assert.deepEqual(
      got.map((m) => `${m.object.kind}/${(m.object.metadata as { name: string }).name}`),
      ['ToolDefinition/a', 'ToolDefinition/b', 'ToolInstance/a', 'Event/e', 'ToolInstance/b'],
    );
  });
  test('merge patch (RFC 7386)', () => {
    assert.deepEqual(
      mergePatch({ a: 1, b: { c: 2, d: 3 }, l: [1] }, { b: { c: null, e: 4 }, l: [2] }),
      {
        a: 1,
        b: { d: 3, e: 4 },
        l: [2],
      },
    );
  });
  test('--for parsing', () => {
    const ready = ti('a', {
      status: { conditions: [{ type: 'Ready', status: 'True' }], phase: 'Ready' },
    });
    assert.equal(parseFor('condition=Ready').check(ready), true);
    assert.equal(parseFor('condition=Ready=False').check(ready), false);
    assert.equal(parseFor('jsonpath={.status.phase}=Ready').check(ready), true);
    assert.equal(parseFor("jsonpath='{.status.phase}'=Stopped").check(ready), false);
    assert.equal(parseFor('delete').check(undefined), true);
    assert.throws(() => parseFor('ready'), /unrecognized --for/);
    assert.equal(parseTimeout('30s'), 30_000);
    assert.equal(parseTimeout('1m30s'), 90_000);
    assert.equal(parseTimeout('2'), 2000);
    assert.throws(() => parseTimeout('soon'), /invalid --timeout/);
  });
});
