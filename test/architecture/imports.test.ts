// The DESIGN's import rules hold for every tracked TypeScript file, and the check
// catches each kind of wrong import.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { importViolations, type SourceFile } from './import-rules.ts';

const root = join(import.meta.dirname, '..', '..');

test('every tracked .ts file keeps the import rules of the DESIGN', async () => {
  const paths = execFileSync('git', ['ls-files', '-z', '--', '*.ts'], {
    cwd: root,
    encoding: 'utf8',
  })
    .split('\0')
    .filter(Boolean);
  assert.ok(paths.length > 100, `only ${paths.length} tracked .ts files found`);
  const files = paths.map((path) => ({ path, text: readFileSync(join(root, path), 'utf8') }));
  const violations = await importViolations(files);
  assert.deepEqual(violations, [], `\n${violations.join('\n')}`);
});

test('a wrong import is reported as file: imports X (rule)', async () => {
  const files: SourceFile[] = [
    { path: 'cli/a.ts', text: "import { ResourceStore } from '../store/index.ts';" },
    { path: 'api/a.ts', text: "import type { Row } from '../store/resources.ts';" },
    { path: 'proxy/a.ts', text: "export { startControllers } from '../controllers/index.ts';" },
    { path: 'store/a.ts', text: "const m = await import('../api/index.ts');" },
    { path: 'ecs-local/a.ts', text: "export * from '../crds/index.ts';" },
    { path: 'crds/a.ts', text: "import '../store/index.ts';" },
    { path: 'test/api/a.ts', text: "import { x } from '../../proxy/auth.ts';" },
    { path: 'bench/a.ts', text: "import { x } from '../bin/up.ts';" },
  ];
  assert.deepEqual(await importViolations(files), [
    'cli/a.ts: imports store/index.ts (cli/ may import crds/, settings/)',
    'api/a.ts: imports store/resources.ts (another folder is imported only through its index.ts: store/index.ts)',
    'proxy/a.ts: imports controllers/index.ts (proxy/ may import crds/, store/, settings/)',
    'store/a.ts: imports api/index.ts (store/ may import crds/, settings/)',
    'ecs-local/a.ts: imports crds/index.ts (ecs-local/ may import settings/)',
    'crds/a.ts: imports store/index.ts (crds/ may import settings/)',
    'test/api/a.ts: imports proxy/auth.ts (another folder is imported only through its index.ts: proxy/index.ts)',
    'bench/a.ts: imports bin/up.ts (bench/ may import settings/, crds/, store/, api/, controllers/, proxy/, cli/, ecs-local/, sidecars/, test/)',
  ]);
});

test('imports that keep the rules pass: inside a folder, through index.ts, packages, own tests', async () => {
  const files: SourceFile[] = [
    { path: 'api/routes/a.ts', text: "import { b } from '../b.ts';\nimport { z } from 'zod';" },
    { path: 'controllers/a.ts', text: "import type { X } from '../store/index.ts';" },
    { path: 'test/proxy/a.ts', text: "import { A } from '../../proxy/auth.ts';" },
    { path: 'bin/a.ts', text: "const { run } = await import('./up.ts');" },
  ];
  assert.deepEqual(await importViolations(files), []);
});
