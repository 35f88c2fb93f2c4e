import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import {
  FARGATE_MEMORY_MIB,
  fieldPath,
  invalidFromZod,
  isFargateCombination,
  type ToolDefinition,
  type ToolDefinitionInput,
  toolDefinitionSchema,
} from '../../crds/index.ts';

const examplesDir = join(import.meta.dirname, '..', '..', 'examples');

function minimal(spec: Record<string, unknown> = {}): ToolDefinitionInput {
  return {
    apiVersion: 'berth/v1alpha1',
    kind: 'ToolDefinition',
    metadata: { name: 'jupyterlab' },
    spec: {
      displayName: 'JupyterLab',
      image: 'quay.io/jupyter/minimal-notebook:2025-06-23',
      port: 8888,
      sizes: { small: { cpu: 256, memory: 512 } },
      defaultSize: 'small',
      ...spec,
    } as ToolDefinitionInput['spec'],
  };
}

/** Issues as `path: message` lines, so failures read well. */
function problems(input: unknown): string[] {
  const r = toolDefinitionSchema.safeParse(input);
  if (r.success) return [];
  return invalidFromZod('ToolDefinition', 'x', r.error).details!.causes!.map(
    (c) => `${c.field}: ${c.message}`,
  );
}

describe('ToolDefinition examples', () => {
  const files = readdirSync(examplesDir).filter((f) => f.endsWith('.yaml'));
  const toolDefinitions = files
    .map((f) => ({ file: f, doc: parse(readFileSync(join(examplesDir, f), 'utf8')) }))
    .filter((e) => e.doc?.kind === 'ToolDefinition');

  test('the four Data Workspace tools are there', () => {
    const names = toolDefinitions.map((e) => e.doc.metadata.name).sort();
    for (const n of ['jupyterlab', 'pgadmin', 'rstudio', 'vscode'])
      assert.ok(names.includes(n), `missing ${n}`);
  });

  for (const { file, doc } of toolDefinitions) {
    test(`${file} parses`, () => {
      assert.deepEqual(problems(doc), []);
      const td: ToolDefinition = toolDefinitionSchema.parse(doc);
      assert.equal(td.metadata.name, file.replace(/\.yaml$/, ''));
      assert.ok(td.spec.readiness.path.startsWith('/'));
    });
  }

  // The demo tools (demo, demo-files) are berth's own small app; the rest mirror Data Workspace's tools.
  for (const { file, doc } of toolDefinitions.filter(
    (e) => !['demo', 'demo-files'].includes(e.doc.metadata.name),
  )) {
    test(`${file} offers the Data Workspace sizes`, () => {
      const td: ToolDefinition = toolDefinitionSchema.parse(doc);
      assert.deepEqual(td.spec.sizes, {
        small: { cpu: 256, memory: 512 },
        medium: { cpu: 1024, memory: 8192 },
        large: { cpu: 2048, memory: 16384 },
        xl: { cpu: 4096, memory: 30720 },
        '2xl': { cpu: 8192, memory: 61440 },
        '3xl': { cpu: 16384, memory: 122880 },
      });
      assert.equal(td.spec.defaultSize, 'medium');
      assert.match(td.spec.image, /^[\w.-]+(\/[\w.-]+)+:[\w.-]+$/, 'image is pinned to a tag');
    });
  }
});

describe('ToolDefinition defaults', () => {
  test('parsing fills every default', () => {
    const td = toolDefinitionSchema.parse(minimal());
    assert.equal(td.spec.description, '');
    assert.deepEqual(td.spec.env, []);
    assert.deepEqual(td.spec.readiness, { path: '/', timeoutSeconds: 5, periodSeconds: 1 });
    assert.equal(td.spec.spawnTimeout, '10m');
    assert.deepEqual(td.spec.idle, {
      idleAfter: '1h',
      cpuThreshold: 5,
      warnBefore: '10m',
      ignoredPaths: [],
    });
    assert.equal(td.spec.maxLifetime, undefined);
    assert.equal(td.spec.sharing, 'perUser');
    assert.equal(td.spec.access, undefined);
    assert.deepEqual(td.spec.sidecars, []);
    assert.equal(td.spec.ephemeralStorageGiB, 21);
    assert.equal(td.spec.capacity, 'FARGATE');
    assert.equal(td.status, undefined);
  });

  test('partial nested objects keep what was given and default the rest', () => {
    const td = toolDefinitionSchema.parse(
      minimal({
        readiness: { path: '/api' },
        idle: { cpuThreshold: 10 },
        access: { groups: ['analysts'] },
        sidecars: [{ name: 'metrics', image: 'berth/metrics:1' }],
      }),
    );
    assert.deepEqual(td.spec.readiness, { path: '/api', timeoutSeconds: 5, periodSeconds: 1 });
    assert.deepEqual(td.spec.idle, {
      idleAfter: '1h',
      cpuThreshold: 10,
      warnBefore: '10m',
      ignoredPaths: [],
    });
    assert.deepEqual(td.spec.access, { users: [], groups: ['analysts'] });
    assert.equal(td.spec.sidecars[0]!.essential, false);
  });

  test('parsing twice gives the same object (defaults are stable)', () => {
    const once = toolDefinitionSchema.parse(minimal());
    assert.deepEqual(toolDefinitionSchema.parse(once), once);
  });
});

describe('ToolDefinition validation', () => {
  test('unknown fields are refused with their path', () => {
    assert.deepEqual(problems(minimal({ imagee: 'x' })), ['spec.imagee: unknown field']);
    assert.deepEqual(problems({ ...minimal(), extra: 1 }), ['extra: unknown field']);
    assert.deepEqual(problems(minimal({ readiness: { path: '/', timeout: 3 } })), [
      'spec.readiness.timeout: unknown field',
    ]);
    assert.deepEqual(problems(minimal({ sizes: { small: { cpu: 256, memory: 512, gpu: 1 } } })), [
      'spec.sizes.small.gpu: unknown field',
    ]);
  });

  test('required fields are named', () => {
    const input = minimal();
    delete (input.spec as Record<string, unknown>).image;
    const found = problems(input);
    assert.equal(found.length, 1);
    assert.match(found[0]!, /^spec\.image: /);
  });

  test('a memory size Fargate refuses for that cpu names what is allowed', () => {
    const found = problems(minimal({ sizes: { small: { cpu: 1024, memory: 1024 } } }));
    assert.deepEqual(found, [
      'spec.sizes.small.memory: 1024 MiB is not allowed with cpu 1024; Fargate accepts 2048 to 8192 in steps of 1024 MiB',
    ]);
    const spiky = problems(minimal({ sizes: { small: { cpu: 8192, memory: 18432 } } }));
    assert.match(spiky[0]!, /16384 to 61440 in steps of 4096/);
  });

  test('a cpu value Fargate does not offer lists the offered values', () => {
    const found = problems(minimal({ sizes: { small: { cpu: 300, memory: 512 } } }));
    assert.equal(found.length, 1);
    assert.match(found[0]!, /^spec\.sizes\.small\.cpu: .*256, 512, 1024, 2048, 4096, 8192, 16384/);
  });

  test('the Fargate table matches the documented ranges at its edges', () => {
    assert.deepEqual(FARGATE_MEMORY_MIB[256], [512, 1024, 2048]);
    assert.equal(FARGATE_MEMORY_MIB[4096].at(-1), 30720);
    assert.equal(FARGATE_MEMORY_MIB[16384].length, 12);
    assert.ok(isFargateCombination(16384, 122880));
    assert.ok(!isFargateCombination(16384, 126976));
    assert.ok(!isFargateCombination(256, 3072));
  });

  test('defaultSize must name one of the sizes, reported at spec.defaultSize', () => {
    assert.deepEqual(problems(minimal({ defaultSize: 'medium' })), [
      'spec.defaultSize: "medium" is not one of spec.sizes (small)',
    ]);
  });

  test('sizes must not be empty', () => {
    const found = problems(minimal({ sizes: {}, defaultSize: 'small' }));
    assert.ok(found.includes('spec.sizes: must name at least one size'), found.join('\n'));
  });

  test('ranges, enums and formats are checked', () => {
    assert.match(problems(minimal({ port: 0 }))[0]!, /^spec\.port: /);
    assert.match(problems(minimal({ port: 65536 }))[0]!, /^spec\.port: /);
    assert.match(
      problems(minimal({ ephemeralStorageGiB: 20 }))[0]!,
      /^spec\.ephemeralStorageGiB: /,
    );
    assert.match(
      problems(minimal({ ephemeralStorageGiB: 201 }))[0]!,
      /^spec\.ephemeralStorageGiB: /,
    );
    assert.match(problems(minimal({ capacity: 'EC2' }))[0]!, /^spec\.capacity: /);
    assert.match(problems(minimal({ sharing: 'everyone' }))[0]!, /^spec\.sharing: /);
    assert.match(
      problems(minimal({ idle: { cpuThreshold: 101 } }))[0]!,
      /^spec\.idle\.cpuThreshold: /,
    );
    assert.match(
      problems(minimal({ spawnTimeout: '10 minutes' }))[0]!,
      /^spec\.spawnTimeout: must be a duration/,
    );
    assert.match(
      problems(minimal({ maxLifetime: '0s' }))[0]!,
      /^spec\.maxLifetime: must be longer than zero/,
    );
    assert.match(
      problems(minimal({ readiness: { path: 'api' } }))[0]!,
      /^spec\.readiness\.path: must start with "\/"/,
    );
    assert.match(problems(minimal({ image: 'has space' }))[0]!, /^spec\.image: /);
  });

  test('env names follow the environment variable rules and are unique', () => {
    assert.match(
      problems(minimal({ env: [{ name: '1BAD', value: 'x' }] }))[0]!,
      /^spec\.env\[0\]\.name: /,
    );
    assert.deepEqual(
      problems(
        minimal({
          env: [
            { name: 'A', value: '1' },
            { name: 'A', value: '2' },
          ],
        }),
      ),
      ['spec.env[1].name: duplicate name "A"'],
    );
  });

  test('sidecar names are unique', () => {
    const found = problems(
      minimal({
        sidecars: [
          { name: 'metrics', image: 'a:1' },
          { name: 'metrics', image: 'b:1' },
        ],
      }),
    );
    assert.deepEqual(found, ['spec.sidecars[1].name: duplicate name "metrics"']);
  });

  test('tool names are hostname labels without "--"', () => {
    const bad = (name: string) => problems({ ...minimal(), metadata: { name } });
    assert.match(bad('jupyter--lab')[0]!, /^metadata\.name: must not contain "--"/);
    assert.match(bad('jupyter.lab')[0]!, /^metadata\.name: /);
    assert.match(bad('JupyterLab')[0]!, /^metadata\.name: /);
    assert.deepEqual(bad('jupyter-lab'), []);
  });

  test('apiVersion and kind are checked', () => {
    assert.match(problems({ ...minimal(), apiVersion: 'v1' })[0]!, /^apiVersion: /);
    assert.match(problems({ ...minimal(), kind: 'ToolInstance' })[0]!, /^kind: /);
  });

  test('status accepts conditions and refuses unknown fields', () => {
    const ok = toolDefinitionSchema.parse({
      ...minimal(),
      status: {
        observedGeneration: 2,
        conditions: [{ type: 'Ready', status: 'True', reason: 'Registered' }],
        taskDefinitionArn: 'arn:aws:ecs:eu-west-2:123456789012:task-definition/berth-jupyterlab:3',
      },
    });
    assert.equal(ok.status?.conditions[0]?.type, 'Ready');
    assert.deepEqual(problems({ ...minimal(), status: { phase: 'Ready' } }), [
      'status.phase: unknown field',
    ]);
  });

  test('fieldPath agrees with the paths the tests read', () => {
    assert.equal(fieldPath(['spec', 'sizes', 'small', 'cpu']), 'spec.sizes.small.cpu');
  });
});
