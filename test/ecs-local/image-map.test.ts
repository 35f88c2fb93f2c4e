// The image map file: placeholders, Docker's implicit :latest, and clear errors.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { canonicalReference, ImageResolver, loadImageMapFile } from '../../ecs-local/image-map.ts';

const dir = mkdtempSync(join(tmpdir(), 'ecs-local-images-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('an image map file resolves placeholders and the implicit :latest tag', () => {
  const file = join(dir, 'images.yaml');
  // biome-ignore lint/suspicious/noTemplateCurlyInString: image map placeholders, not a template
  const entry = "    command: ['${node}', '${dir}/app.mjs']";
  writeFileSync(
    file,
    [
      'images:',
      '  demo:',
      entry,
      '    args: [serve]',
      '    env: { MODE: demo }',
      '    cwd: .',
    ].join('\n'),
  );
  const images = new ImageResolver(file, {});
  const demo = images.resolve('demo:latest');
  assert.deepEqual(demo?.command, [process.execPath, join(dir, 'app.mjs')]);
  assert.deepEqual(demo?.args, ['serve']);
  assert.deepEqual(demo?.env, { MODE: 'demo' });
  assert.equal(demo?.cwd, dir);
  assert.ok(images.resolve('demo'));
  assert.equal(images.resolve('demo:2'), undefined);
  assert.equal(canonicalReference('demo'), 'docker.io/library/demo:latest');
  assert.equal(canonicalReference('ghcr.io/a/b:1'), 'ghcr.io/a/b:1');
});

test('a bad image map names the file and the field', () => {
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'images:\n  demo:\n    args: [x]\n');
  assert.throws(() => loadImageMapFile(file), /bad\.yaml: images\.demo\.command/);
});

test('the shipped images.yaml loads', () => {
  assert.ok(loadImageMapFile(join(import.meta.dirname, '../../ecs-local/images.yaml')));
});
