// Each of ECS's token buckets: a burst is served, the excess is answered with a
// 400 ThrottlingException (the SDK configured with maxAttempts: 1 so it does not retry).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import {
  DescribeClustersCommand,
  type ECSClient,
  RegisterTaskDefinitionCommand,
  RunTaskCommand,
  TagResourceCommand,
} from '@aws-sdk/client-ecs';
import type { EcsLocal } from '../../ecs-local/index.ts';
import { ecsClient, NETWORK, start } from './helpers.ts';

const instances: EcsLocal[] = [];
after(() => Promise.all(instances.map((i) => i.close())));

async function fresh(): Promise<{ ecsLocal: EcsLocal; ecs: ECSClient }> {
  // Tasks never leave PROVISIONING here: the RunTask bucket is what is measured.
  const ecsLocal = await start({ throttling: true, delays: { provisioningMs: 60_000 } });
  instances.push(ecsLocal);
  return { ecsLocal, ecs: ecsClient(ecsLocal) };
}

/** Fires `n` calls at once; counts successes and ThrottlingExceptions (anything else fails the test). */
async function burst(
  n: number,
  call: () => Promise<unknown>,
): Promise<{ ok: number; throttled: number; ms: number }> {
  const t0 = performance.now();
  const results = await Promise.allSettled(Array.from({ length: n }, call));
  const ms = performance.now() - t0;
  let ok = 0;
  let throttled = 0;
  for (const r of results) {
    if (r.status === 'fulfilled') ok++;
    else {
      const err = r.reason as { name?: string; $metadata?: { httpStatusCode?: number } };
      assert.equal(err.name, 'ThrottlingException', String(r.reason));
      assert.equal(err.$metadata?.httpStatusCode, 400);
      throttled++;
    }
  }
  return { ok, throttled, ms };
}

/**
 * Fires bursts of `n` until one call is throttled (at most `rounds` bursts): on a
 * loaded machine one burst can take long enough for the refill to cover its excess.
 * Counts add up over the bursts, `ms` runs from the first call to the last answer.
 */
async function burstUntilThrottled(
  n: number,
  call: () => Promise<unknown>,
  rounds = 10,
): Promise<{ ok: number; throttled: number; ms: number }> {
  const t0 = performance.now();
  const total = { ok: 0, throttled: 0, ms: 0 };
  for (let i = 0; i < rounds && total.throttled === 0; i++) {
    const r = await burst(n, call);
    total.ok += r.ok;
    total.throttled += r.throttled;
  }
  total.ms = performance.now() - t0;
  return total;
}

/** Burst served in full, then no more than what the refill rate adds during the burst. */
function assertBucket(
  r: { ok: number; throttled: number; ms: number },
  burstSize: number,
  perSecond: number,
): void {
  const refill = Math.ceil((r.ms / 1000) * perSecond) + 1;
  assert.ok(r.ok >= burstSize, `served the burst of ${burstSize} (served ${r.ok})`);
  assert.ok(
    r.ok <= burstSize + refill,
    `served at most burst + refill ${burstSize + refill} (served ${r.ok} in ${r.ms.toFixed(0)} ms)`,
  );
  assert.ok(r.throttled > 0, 'the excess is throttled');
}

test('cluster read bucket: burst 100, 20/s', async () => {
  const { ecs } = await fresh();
  const r = await burstUntilThrottled(130, () =>
    ecs.send(new DescribeClustersCommand({ clusters: ['default'] })),
  );
  assertBucket(r, 100, 20);
});

test('cluster modify bucket: burst 100, 40/s', async () => {
  const { ecs, ecsLocal } = await fresh();
  const arn = `arn:aws:ecs:${ecsLocal.config.region}:000000000000:cluster/default`;
  const r = await burstUntilThrottled(150, () =>
    ecs.send(new TagResourceCommand({ resourceArn: arn, tags: [{ key: 'k', value: 'v' }] })),
  );
  assertBucket(r, 100, 40);
});

const registration = (family: string) =>
  new RegisterTaskDefinitionCommand({
    family,
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: '256',
    memory: '512',
    containerDefinitions: [{ name: 'a', image: 'test/idle:1' }],
  });

test('task definition modify bucket: burst 20, 1/s', async () => {
  const { ecs } = await fresh();
  const r = await burstUntilThrottled(30, () => ecs.send(registration('throttled')));
  assertBucket(r, 20, 1);
});

test('Fargate RunTask calls: 20/s, burst and sustained, one token per call', async () => {
  const { ecs } = await fresh();
  await ecs.send(registration('runner'));
  const r = await burstUntilThrottled(30, () =>
    ecs.send(
      new RunTaskCommand({
        taskDefinition: 'runner',
        launchType: 'FARGATE',
        networkConfiguration: NETWORK,
      }),
    ),
  );
  assertBucket(r, 20, 20);
});

test('Fargate task launches: burst 100, 20/s, one token per task launched', async () => {
  const { ecs } = await fresh();
  await ecs.send(registration('runner'));
  // 12 calls of 10 tasks fit the call bucket (20) but not the launch bucket (100).
  const r = await burst(12, () =>
    ecs.send(
      new RunTaskCommand({ taskDefinition: 'runner', count: 10, networkConfiguration: NETWORK }),
    ),
  );
  // Counted in tasks; the refill allowance gets one call's worth (10 tasks) of slack.
  assertBucket({ ok: r.ok * 10, throttled: r.throttled * 10, ms: r.ms }, 100, 30);
});

test('throttling can be switched off', async () => {
  const { ecs, ecsLocal } = await fresh();
  ecsLocal.setThrottling(false);
  const r = await burst(40, () => ecs.send(registration('unthrottled')));
  assert.equal(r.ok, 40);
});
