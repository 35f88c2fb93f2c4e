// Writes the README tables of settings from the components' schemas (the one
// settings loader's records, settings/). `make settings-docs` runs this;
// test/settings/docs.test.ts fails when a README differs from what it would write.
// It lives in bin/ because only bin/ may import every folder.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { apiConfigSchema, signInConfigSchema } from '../api/index.ts';
import { cliEnvSchema } from '../cli/index.ts';
import {
  controllerConfigSchema,
  credentialsConfigSchema,
  ecsConfigSchema,
  filesConfigSchema,
  reconcilerConfigSchema,
} from '../controllers/index.ts';
import { ecsLocalEnvSchema } from '../ecs-local/index.ts';
import { proxyConfigSchema } from '../proxy/index.ts';
import { fillSettingsBlocks, settingRows, settingsTable } from '../settings/index.ts';
import { gateConfigSchema, metricsConfigSchema, s3syncConfigSchema } from '../sidecars/index.ts';
import { upConfigSchema } from './up.ts';

const root = join(import.meta.dirname, '..');

interface Component {
  schema: z.ZodObject;
  /** Who reads it, for the top-level index. */
  readBy: string;
  /** The README whose table explains each variable. */
  readme: string;
}

/** Every component's settings, by the name its README block carries. */
export const COMPONENTS: Record<string, Component> = {
  api: { schema: apiConfigSchema, readBy: '`berth api`, `berth up`', readme: 'api/README.md' },
  'sign-in': {
    schema: signInConfigSchema,
    readBy: '`berth api`, `berth up`',
    readme: 'api/README.md',
  },
  controllers: {
    schema: controllerConfigSchema,
    readBy: '`berth controller`, `berth up`',
    readme: 'controllers/README.md',
  },
  reconcilers: {
    schema: reconcilerConfigSchema,
    readBy: '`berth controller`, `berth up`',
    readme: 'controllers/reconcilers/README.md',
  },
  credentials: {
    schema: credentialsConfigSchema,
    readBy: '`berth controller`, `berth up`',
    readme: 'controllers/README.md',
  },
  ecs: {
    schema: ecsConfigSchema,
    readBy: '`berth controller`, `berth up`, `berth doctor`',
    readme: 'controllers/README.md',
  },
  files: {
    schema: filesConfigSchema,
    readBy: '`berth controller`, `berth up`',
    readme: 'controllers/files/README.md',
  },
  proxy: {
    schema: proxyConfigSchema,
    readBy: '`berth proxy`, `berth up`',
    readme: 'proxy/README.md',
  },
  'ecs-local': {
    schema: ecsLocalEnvSchema,
    readBy: '`berth ecs-local`, `berth up`',
    readme: 'ecs-local/README.md',
  },
  gate: {
    schema: gateConfigSchema,
    readBy: 'the gate in every task (`sidecars/gate`)',
    readme: 'sidecars/gate/README.md',
  },
  s3sync: {
    schema: s3syncConfigSchema,
    readBy: 'the s3sync sidecar in a task with files (`sidecars/s3sync`)',
    readme: 'sidecars/s3sync/README.md',
  },
  metrics: {
    schema: metricsConfigSchema,
    readBy: 'the metrics sidecar in a task (`sidecars/metrics`)',
    readme: 'sidecars/metrics/README.md',
  },
  cli: { schema: cliEnvSchema, readBy: '`berth` (the CLI)', readme: 'cli/README.md' },
  up: { schema: upConfigSchema, readBy: '`berth up` (`make run`)', readme: 'README.md' },
};

/** The READMEs that hold settings blocks, relative to the repository. */
export const SETTINGS_READMES = [
  'README.md',
  'api/README.md',
  'controllers/README.md',
  'controllers/reconcilers/README.md',
  'controllers/files/README.md',
  'proxy/README.md',
  'ecs-local/README.md',
  'cli/README.md',
  'sidecars/gate/README.md',
  'sidecars/s3sync/README.md',
  'sidecars/metrics/README.md',
];

/** One row per component: its variables and where each is explained. */
function indexTable(): string {
  const lines = ['| settings | read by | variables |', '| --- | --- | --- |'];
  for (const [name, c] of Object.entries(COMPONENTS)) {
    const vars = settingRows(c.schema).map((r) => `\`${r.env}\``);
    const link = c.readme === 'README.md' ? `[${name}](#configuration)` : `[${name}](${c.readme})`;
    lines.push(`| ${link} | ${c.readBy} | ${vars.join(', ')} |`);
  }
  return lines.join('\n');
}

/** Every table by block name: one per component, and `index`. */
export function settingsTables(): Record<string, string> {
  const tables: Record<string, string> = { index: indexTable() };
  for (const [name, c] of Object.entries(COMPONENTS)) tables[name] = settingsTable(c.schema);
  return tables;
}

/** Each README's text as it should be (path relative to the repository -> text). */
export function settingsDocs(): Record<string, string> {
  const tables = settingsTables();
  const out: Record<string, string> = {};
  for (const path of SETTINGS_READMES) {
    out[path] = fillSettingsBlocks(readFileSync(join(root, path), 'utf8'), tables);
  }
  return out;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const [path, text] of Object.entries(settingsDocs())) {
    if (readFileSync(join(root, path), 'utf8') === text) continue;
    writeFileSync(join(root, path), text);
    console.log(`wrote the settings tables in ${path}`);
  }
}
