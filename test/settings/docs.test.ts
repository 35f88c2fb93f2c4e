// The README tables of settings are generated from the schemas, like
// crds/generated/: this fails when a README differs from what
// `make settings-docs` would write, or when a setting has no description.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { z } from 'zod';
import {
  COMPONENTS,
  SETTINGS_READMES,
  settingsDocs,
  settingsTables,
} from '../../bin/settings-docs.ts';
import { settingMeta, settingRows, settingsBlockNames } from '../../settings/index.ts';

const root = join(import.meta.dirname, '..', '..');

test('the README tables of settings match the schemas (run `make settings-docs` when this fails)', () => {
  for (const [path, text] of Object.entries(settingsDocs())) {
    const onDisk = readFileSync(join(root, path), 'utf8');
    assert.ok(
      onDisk === text,
      `${path}: its settings tables are stale: run \`make settings-docs\``,
    );
  }
});

test("every component's table is in a README, and every README listed holds one", () => {
  const shown = SETTINGS_READMES.flatMap((p) =>
    settingsBlockNames(readFileSync(join(root, p), 'utf8')),
  );
  for (const p of SETTINGS_READMES) {
    assert.ok(
      settingsBlockNames(readFileSync(join(root, p), 'utf8')).length > 0,
      `${p} has no table`,
    );
  }
  for (const name of Object.keys(settingsTables())) {
    assert.ok(shown.includes(name), `no README holds <!-- settings:${name} -->`);
  }
});

test('every setting has a variable and a description; every field of a schema is a setting', () => {
  // Fields set by code only (not read from one variable of their own).
  const codeOnly = new Set(['sign-in.production']);
  for (const [name, c] of Object.entries(COMPONENTS)) {
    for (const [key, field] of Object.entries(c.schema.shape)) {
      if (codeOnly.has(`${name}.${key}`)) continue;
      const meta = settingMeta(field as z.ZodType);
      assert.ok(meta, `${name}.${key} is not registered as a setting`);
      assert.match(meta.env, /^[A-Z][A-Z0-9_]*$/, `${name}.${key}`);
      assert.ok(meta.description.length > 10, `${name}.${key} (${meta.env}) needs a description`);
    }
  }
});

test('every duration is in milliseconds, in a name ending in _MS', () => {
  for (const c of Object.values(COMPONENTS)) {
    for (const row of settingRows(c.schema)) {
      assert.doesNotMatch(
        row.env,
        /_(SECONDS|SECS|MINUTES|HOURS)$/,
        `${row.env}: durations end in _MS`,
      );
    }
  }
});

test('the tables hold nothing of this machine (paths) and are the same every time', () => {
  const all = Object.values(settingsTables()).join('\n');
  assert.ok(!all.includes(root), 'a table shows a path of this clone');
  assert.deepEqual(settingsTables(), settingsTables(), 'generation is deterministic');
});
