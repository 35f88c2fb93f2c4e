import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DescribeCoalescer } from '../../controllers/index.ts';

const arn = (id: string) => `arn:aws:ecs:eu-west-2:000000000000:task/default/${id}`;

test('calls in one window share batches of at most 100; each caller gets its own tasks', async () => {
  const batches: string[][] = [];
  const c = new DescribeCoalescer(async (refs) => {
    batches.push(refs);
    return {
      tasks: refs
        .filter((r) => !r.startsWith('x'))
        .map((r) => ({ taskArn: r.startsWith('arn:') ? r : arn(r) })),
      failures: refs.filter((r) => r.startsWith('x')).map((r) => ({ arn: r, reason: 'MISSING' })),
    };
  }, 0);
  const ids = Array.from({ length: 230 }, (_, i) => `t${i}`);
  const answers = await Promise.all([
    ...ids.map((id) => c.describe([id])),
    c.describe([arn('t1'), 'x-gone']), // a full ARN and an unknown task, together
    c.describe(['t2']), // the same task asked twice costs nothing extra
  ]);
  assert.deepEqual(
    batches.map((b) => b.length),
    [100, 100, 32],
  );
  for (const [i, id] of ids.entries()) assert.equal(answers[i]!.tasks[0]!.taskArn, arn(id));
  assert.deepEqual(answers[230], {
    tasks: [{ taskArn: arn('t1') }],
    failures: [{ arn: 'x-gone', reason: 'MISSING' }],
  });
  assert.equal(answers[231]!.tasks[0]!.taskArn, arn('t2'));
});

test('a failed batch rejects only the callers with tasks in it', async () => {
  let n = 0;
  const c = new DescribeCoalescer(async (refs) => {
    if (n++ === 1) throw Object.assign(new Error('boom'), { name: 'ServerException' });
    return { tasks: refs.map((r) => ({ taskArn: arn(r) })), failures: [] };
  }, 1);
  const results = await Promise.allSettled(
    Array.from({ length: 150 }, (_, i) => c.describe([`t${i}`])),
  );
  assert.equal(results.slice(0, 100).filter((r) => r.status === 'fulfilled').length, 100);
  assert.equal(results.slice(100).filter((r) => r.status === 'rejected').length, 50);
  // The next window starts afresh.
  const later = await c.describe(['t0']);
  assert.equal(later.tasks.length, 1);
});
