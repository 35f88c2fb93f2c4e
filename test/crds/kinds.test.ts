import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ALL_KIND_NAMES,
  editDistance,
  KINDS,
  kindInfo,
  resolveKind,
  suggestKind,
} from '../../crds/index.ts';

test('KINDS lists the seven kinds with their scopes and subresources', () => {
  assert.deepEqual(
    KINDS.map((k) => [k.kind, k.plural, k.namespaced, k.statusSubresource]),
    [
      ['ToolDefinition', 'tooldefinitions', false, true],
      ['ToolInstance', 'toolinstances', true, true],
      ['Event', 'events', true, false],
      ['Quota', 'quotas', false, false],
      ['Database', 'databases', false, true],
      ['Dataset', 'datasets', false, true],
      ['AccessRequest', 'accessrequests', true, true],
    ],
  );
});

test('kindInfo finds exact Kind names and throws otherwise', () => {
  assert.equal(kindInfo('ToolInstance').plural, 'toolinstances');
  assert.throws(() => kindInfo('toolinstance'), /unknown kind "toolinstance"/);
  assert.throws(
    () => kindInfo('Pod'),
    /known kinds: ToolDefinition, ToolInstance, Event, Quota, Database, Dataset, AccessRequest/,
  );
});

test('resolveKind accepts every alias in any case', () => {
  for (const alias of ['td', 'TD', 'tooldefinitions', 'ToolDefinition', 'tooldefinition', ' td ']) {
    assert.equal(resolveKind(alias)?.kind, 'ToolDefinition', alias);
  }
  assert.equal(resolveKind('ti')?.kind, 'ToolInstance');
  assert.equal(resolveKind('ev')?.kind, 'Event');
  assert.equal(resolveKind('Events')?.kind, 'Event');
  assert.equal(resolveKind('pods'), undefined);
  for (const name of ALL_KIND_NAMES) assert.ok(resolveKind(name), name);
  assert.ok(ALL_KIND_NAMES.includes('td') && ALL_KIND_NAMES.includes('toolinstances'));
});

test('suggestKind offers the nearest name for typos and nothing for strangers', () => {
  assert.equal(suggestKind('toolinstnaces'), 'toolinstances');
  assert.equal(suggestKind('tooldefinitons'), 'tooldefinitions');
  assert.equal(suggestKind('evnets'), 'events');
  assert.equal(suggestKind('toolinstance'), 'toolinstance');
  assert.equal(suggestKind('deployments'), undefined);
  assert.equal(suggestKind('xyz'), undefined);
  assert.equal(suggestKind(''), undefined);
});

test('editDistance counts insertions, deletions, substitutions and swaps', () => {
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('ab', 'ba'), 1);
  assert.equal(editDistance('same', 'same'), 0);
});

test('printer columns use Kubernetes-style JSONPath and wide columns have priority 1', () => {
  for (const k of KINDS) {
    assert.ok(k.printerColumns.length > 0, k.kind);
    for (const c of k.printerColumns)
      assert.match(c.jsonPath, /^\.[A-Za-z]/, `${k.kind} ${c.name}`);
  }
  const ti = kindInfo('ToolInstance').printerColumns;
  assert.equal(
    ti.find((c) => c.name === 'READY')?.jsonPath,
    '.status.conditions[?(@.type=="Ready")].status',
  );
  assert.equal(ti.find((c) => c.name === 'ENDPOINT')?.priority, 1);
});
