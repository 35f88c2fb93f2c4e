import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EcsConfigError, loadEcsConfig } from '../../controllers/index.ts';

test('defaults: DISABLED public IP, FARGATE, LATEST, the default cluster', () => {
  const c = loadEcsConfig({
    BERTH_ECS_REGION: 'eu-west-2',
    BERTH_ECS_SUBNETS: 'subnet-1a, subnet-2b',
  });
  assert.equal(c.assignPublicIp, 'DISABLED');
  assert.equal(c.capacityProvider, 'FARGATE');
  assert.equal(c.platformVersion, 'LATEST');
  assert.equal(c.cluster, 'default');
  assert.deepEqual(c.subnets, ['subnet-1a', 'subnet-2b']);
  assert.deepEqual(c.securityGroups, []);
  assert.equal(c.clientThrottle, true);
});

test('an endpoint override needs no region', () => {
  const c = loadEcsConfig({ BERTH_ECS_ENDPOINT: 'http://127.0.0.1:4566' });
  assert.equal(c.region, 'us-east-1');
  assert.equal(c.ec2Endpoint, 'http://127.0.0.1:4566');
});

test('bad values are named with what was expected', () => {
  assert.throws(
    () =>
      loadEcsConfig({
        BERTH_ECS_REGION: 'eu-west-2',
        BERTH_ECS_ASSIGN_PUBLIC_IP: 'yes',
        BERTH_ECS_SUBNETS: 'subnet-1,net-2',
        BERTH_ECS_CAPACITY_PROVIDER: 'EC2',
      }),
    (err: unknown) => {
      assert.ok(err instanceof EcsConfigError);
      const text = err.issues.join('\n');
      assert.match(text, /BERTH_ECS_ASSIGN_PUBLIC_IP: must be ENABLED or DISABLED/);
      assert.match(text, /BERTH_ECS_SUBNETS \(item 2\): each subnet must look like/);
      assert.match(text, /BERTH_ECS_CAPACITY_PROVIDER: must be FARGATE or FARGATE_SPOT/);
      return true;
    },
  );
  assert.throws(() => loadEcsConfig({}), /BERTH_ECS_REGION: no AWS region set/);
});
