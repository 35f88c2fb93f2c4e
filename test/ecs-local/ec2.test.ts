// The EC2 Query subset through the real @aws-sdk/client-ec2: subnets, security
// groups, and the ENIs of running tasks.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
} from '@aws-sdk/client-ec2';
import type { EcsLocal } from '../../ecs-local/index.ts';
import {
  ec2Client,
  ecsClient,
  registerFargate,
  runOne,
  SECURITY_GROUP,
  SUBNET,
  start,
  waitForStatus,
} from './helpers.ts';

let ecsLocal: EcsLocal;
before(async () => {
  ecsLocal = await start();
});
after(() => ecsLocal.close());

test('DescribeSubnets: all, by id, by filter, and unknown ids as InvalidSubnetID.NotFound', async () => {
  const ec2 = ec2Client(ecsLocal);
  const all = await ec2.send(new DescribeSubnetsCommand({}));
  assert.equal(all.Subnets!.length, 2);
  const one = await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [SUBNET] }));
  assert.equal(one.Subnets!.length, 1);
  assert.equal(one.Subnets![0]!.SubnetId, SUBNET);
  assert.equal(one.Subnets![0]!.VpcId, 'vpc-0a1b2c3d4e5f60001');
  assert.equal(one.Subnets![0]!.AvailabilityZone, 'eu-west-2a');
  assert.equal(one.Subnets![0]!.State, 'available');
  assert.equal(one.Subnets![0]!.DefaultForAz, true);
  const filtered = await ec2.send(
    new DescribeSubnetsCommand({
      Filters: [{ Name: 'availability-zone', Values: ['eu-west-2b'] }],
    }),
  );
  assert.deepEqual(
    filtered.Subnets!.map((s) => s.SubnetId),
    ['subnet-0a1b2c3d4e5f60002'],
  );
  const err = await ec2
    .send(new DescribeSubnetsCommand({ SubnetIds: ['subnet-0000000000000dead'] }))
    .then(
      () => assert.fail('expected an error'),
      (e: unknown) => e as Error & { $metadata: { httpStatusCode: number } },
    );
  assert.equal(err.name, 'InvalidSubnetID.NotFound');
  assert.equal(err.$metadata.httpStatusCode, 400);
  assert.match(err.message, /subnet-0000000000000dead/);
});

test('DescribeSecurityGroups: by id and name, with ingress rules; unknown as InvalidGroup.NotFound', async () => {
  const ec2 = ec2Client(ecsLocal);
  const byId = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [SECURITY_GROUP] }));
  const tools = byId.SecurityGroups![0]!;
  assert.equal(tools.GroupName, 'berth-tools');
  assert.equal(tools.VpcId, 'vpc-0a1b2c3d4e5f60001');
  assert.equal(tools.IpPermissionsEgress![0]!.IpRanges![0]!.CidrIp, '0.0.0.0/0');
  // The tools' group admits the proxy's group only.
  assert.deepEqual(
    tools.IpPermissions!.map((p) => ({
      protocol: p.IpProtocol,
      from: p.FromPort,
      to: p.ToPort,
      groups: p.UserIdGroupPairs?.map((g) => g.GroupId),
      cidrs: p.IpRanges?.length,
    })),
    [{ protocol: 'tcp', from: 0, to: 65535, groups: ['sg-0a1b2c3d4e5f60002'], cidrs: 0 }],
  );
  const byName = await ec2.send(new DescribeSecurityGroupsCommand({ GroupNames: ['berth-tools'] }));
  assert.equal(byName.SecurityGroups![0]!.GroupId, SECURITY_GROUP);
  const err = await ec2
    .send(new DescribeSecurityGroupsCommand({ GroupIds: ['sg-0000000000000dead'] }))
    .then(
      () => assert.fail('expected an error'),
      (e: unknown) => e as Error,
    );
  assert.equal(err.name, 'InvalidGroup.NotFound');
});

test('DescribeNetworkInterfaces lists the ENI of a running task with its address', async () => {
  const ecs = ecsClient(ecsLocal);
  const ec2 = ec2Client(ecsLocal);
  const td = await registerFargate(ecs, 'eni', 'test/idle:1');
  const t = await runOne(ecs, td);
  const running = await waitForStatus(ecs, t.taskArn!, 'RUNNING');
  const details = running.attachments![0]!.details!;
  const eniId = details.find((d) => d.name === 'networkInterfaceId')!.value!;
  const ip = details.find((d) => d.name === 'privateIPv4Address')!.value!;
  const out = await ec2.send(
    new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [eniId] }),
  );
  const eni = out.NetworkInterfaces![0]!;
  assert.equal(eni.PrivateIpAddress, ip);
  assert.equal(eni.SubnetId, SUBNET);
  assert.equal(eni.Status, 'in-use');
  assert.deepEqual(
    eni.Groups!.map((g) => g.GroupId),
    [SECURITY_GROUP],
  );
  const byIp = await ec2.send(
    new DescribeNetworkInterfacesCommand({
      Filters: [{ Name: 'private-ip-address', Values: [ip] }],
    }),
  );
  assert.equal(byIp.NetworkInterfaces![0]!.NetworkInterfaceId, eniId);
});
