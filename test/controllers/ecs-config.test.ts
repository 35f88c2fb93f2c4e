import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadEcsConfig } from '../../controllers/index.ts';

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

test('bad values are named with what was given and what was expected', () => {
  assert.throws(
    () =>
      loadEcsConfig({
        BERTH_ECS_REGION: 'eu-west-2',
        BERTH_ECS_ASSIGN_PUBLIC_IP: 'yes',
        BERTH_ECS_SUBNETS: 'subnet-1,net-2',
        BERTH_ECS_CAPACITY_PROVIDER: 'EC2',
      }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const text = err.issues.join('\n');
      assert.match(text, /BERTH_ECS_ASSIGN_PUBLIC_IP: must be ENABLED or DISABLED, got "yes"/);
      assert.match(
        text,
        /BERTH_ECS_SUBNETS \(item 2\): each subnet must look like .*, got "net-2"/,
      );
      assert.match(text, /BERTH_ECS_CAPACITY_PROVIDER: must be FARGATE or FARGATE_SPOT, got "EC2"/);
      return true;
    },
  );
  assert.throws(() => loadEcsConfig({}), /BERTH_ECS_REGION: no AWS region set/);
});

test('the client throttle reads like every other flag', () => {
  const base = { BERTH_ECS_ENDPOINT: 'http://127.0.0.1:4566' };
  assert.equal(loadEcsConfig({ ...base, BERTH_ECS_CLIENT_THROTTLE: 'off' }).clientThrottle, false);
  assert.equal(
    loadEcsConfig({ ...base, BERTH_ECS_CLIENT_THROTTLE: 'false' }).clientThrottle,
    false,
  );
  assert.equal(loadEcsConfig({ ...base, BERTH_ECS_CLIENT_THROTTLE: 'on' }).clientThrottle, true);
  assert.throws(
    () => loadEcsConfig({ ...base, BERTH_ECS_CLIENT_THROTTLE: 'sometimes' }),
    /BERTH_ECS_CLIENT_THROTTLE: expected true or false, got "sometimes"/,
  );
});
