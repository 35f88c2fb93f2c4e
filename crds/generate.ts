// Writes each kind's JSON Schema to crds/generated/<plural>.json, for editors
// (yaml-language-server), documentation and other languages. The schema is the
// input side: what a person may write, with defaults shown and defaulted fields
// optional. `make crds` runs this; test/crds/generated.test.ts fails when the
// files on disk differ from what this would write.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { KINDS } from './kinds.ts';
import { API_VERSION } from './meta.ts';

export const GENERATED_DIR = join(import.meta.dirname, 'generated');

/** File name (`tooldefinitions.json`) to file contents, pretty-printed and newline-terminated. */
export function generatedSchemas(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of KINDS) {
    const schema = z.toJSONSchema(k.schema, {
      io: 'input',
      target: 'draft-2020-12',
      // Refinements (Fargate combinations, defaultSize in sizes) cannot be
      // expressed in JSON Schema; the server still enforces them.
      unrepresentable: 'any',
    });
    const { $schema, ...rest } = schema;
    const doc = {
      $schema,
      title: k.kind,
      description: `${API_VERSION} ${k.kind} (${k.namespaced ? 'namespaced' : 'cluster-scoped'})`,
      ...rest,
    };
    out[`${k.plural}.json`] = `${JSON.stringify(doc, null, 2)}\n`;
  }
  return out;
}

/** Writes every schema and removes files no kind produces any more. */
export function writeGeneratedSchemas(dir = GENERATED_DIR): string[] {
  mkdirSync(dir, { recursive: true });
  const files = generatedSchemas();
  for (const name of readdirSync(dir)) {
    if (name.endsWith('.json') && !(name in files)) rmSync(join(dir, name));
  }
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return Object.keys(files);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const name of writeGeneratedSchemas()) console.log(`wrote crds/generated/${name}`);
}
