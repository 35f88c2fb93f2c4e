import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CONTENT_HASH_TAG, taskDefinitionHash } from '../../controllers/index.ts';

const base = {
  family: 'demo',
  cpu: '256',
  memory: '512',
  networkMode: 'awsvpc' as const,
  requiresCompatibilities: ['FARGATE' as const],
  containerDefinitions: [
    { name: 'tool', image: 'berth/demo:latest', portMappings: [{ containerPort: 8888 }] },
  ],
  tags: [
    { key: 'a', value: '1' },
    { key: 'b', value: '2' },
  ],
};

test('the hash ignores key order, tag order and its own tag', () => {
  const reordered = {
    tags: [
      { key: CONTENT_HASH_TAG, value: 'x' },
      { key: 'b', value: '2' },
      { key: 'a', value: '1' },
    ],
    containerDefinitions: [
      { portMappings: [{ containerPort: 8888 }], image: 'berth/demo:latest', name: 'tool' },
    ],
    requiresCompatibilities: ['FARGATE' as const],
    networkMode: 'awsvpc' as const,
    memory: '512',
    cpu: '256',
    family: 'demo',
  };
  assert.equal(taskDefinitionHash(reordered), taskDefinitionHash(base));
  assert.match(taskDefinitionHash(base), /^[0-9a-f]{64}$/);
});

test('any change of content changes the hash', () => {
  const h = taskDefinitionHash(base);
  assert.notEqual(taskDefinitionHash({ ...base, memory: '1024' }), h);
  assert.notEqual(
    taskDefinitionHash({
      ...base,
      containerDefinitions: [{ ...base.containerDefinitions[0]!, image: 'berth/demo:2' }],
    }),
    h,
  );
});
