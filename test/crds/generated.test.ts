import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { GENERATED_DIR, generatedSchemas } from '../../crds/generate.ts';
import { KINDS } from '../../crds/index.ts';

test('crds/generated/ matches the schemas (run `make crds` when this fails)', () => {
  const want = generatedSchemas();
  const onDisk = readdirSync(GENERATED_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort();
  assert.deepEqual(
    onDisk,
    Object.keys(want).sort(),
    'crds/generated/ has the wrong files: run `make crds`',
  );
  for (const [name, text] of Object.entries(want)) {
    const current = readFileSync(join(GENERATED_DIR, name), 'utf8');
    assert.ok(current === text, `crds/generated/${name} is stale: run \`make crds\``);
  }
});

test('generation is deterministic and gives one useful schema per kind', () => {
  assert.deepEqual(generatedSchemas(), generatedSchemas());
  for (const k of KINDS) {
    const text = generatedSchemas()[`${k.plural}.json`]!;
    assert.ok(text.endsWith('}\n'));
    const schema = JSON.parse(text);
    assert.equal(schema.title, k.kind);
    assert.equal(schema.properties.kind.const, k.kind);
    assert.equal(schema.additionalProperties, false, 'unknown top-level fields are refused');
  }
  const td = JSON.parse(generatedSchemas()['tooldefinitions.json']!);
  assert.deepEqual(
    td.properties.spec.properties.sizes.additionalProperties.properties.cpu.enum,
    [256, 512, 1024, 2048, 4096, 8192, 16384],
  );
  assert.equal(td.properties.spec.properties.sharing.default, 'perUser');
  assert.ok(
    !td.properties.spec.required.includes('sharing'),
    'defaulted fields are optional on input',
  );
});
