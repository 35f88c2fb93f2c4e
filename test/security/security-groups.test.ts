// Tools' security groups admit only the proxy on tool ports. A group that admits
// 0.0.0.0/0, ::/0 or itself on a tool port (protocol -1 covers them all) is
// refused, the rule named: `berth doctor` fails on it, and the controllers do not
// RunTask into it (the instance says UnsafeSecurityGroup and the launch waits;
// once the group is fixed, it launches). A safe group, and a rule on an unrelated
// port, pass.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ListTasksCommand } from '@aws-sdk/client-ecs';
import { getCondition, type ToolInstance } from '../../crds/index.ts';
import { type EcsLocal, type IpPermission, startEcsLocal } from '../../ecs-local/index.ts';
import {
  createInstance,
  createTool,
  type Env,
  getInstance,
  startEnv,
  tinySpec,
  waitForPhase,
} from '../controllers/reconcile-support.ts';
import { ecsClient } from '../ecs-local/helpers.ts';
import { admin, ecsLocalEnv } from '../support/ecs-local.ts';
import { waitFor } from '../support/wait.ts';

const berth = join(import.meta.dirname, '..', '..', 'bin', 'berth.ts');
const TOOLS = 'sg-0a1b2c3d4e5f60001';
const PROXY = 'sg-0a1b2c3d4e5f60002';

const rule = (r: Partial<IpPermission> & { ipProtocol: string }): IpPermission => ({
  ipRanges: [],
  ipv6Ranges: [],
  userIdGroupPairs: [],
  prefixListIds: [],
  ...r,
});
const fromProxy = rule({
  ipProtocol: 'tcp',
  fromPort: 0,
  toPort: 65535,
  userIdGroupPairs: [{ groupId: PROXY }],
});

/** Each unsafe case: its rules (on a group `id`) and what the refusal must say. */
function unsafeCases(id: string) {
  return [
    {
      name: '0.0.0.0/0 on the gate port',
      rules: [
        fromProxy,
        rule({
          ipProtocol: 'tcp',
          fromPort: 8000,
          toPort: 8000,
          ipRanges: [{ cidrIp: '0.0.0.0/0' }],
        }),
      ],
      says: /admits 0\.0\.0\.0\/0 on tool port 8000 \(rule: tcp port 8000 from 0\.0\.0\.0\/0\)/,
    },
    {
      name: '::/0',
      rules: [
        fromProxy,
        rule({
          ipProtocol: 'tcp',
          fromPort: 7000,
          toPort: 9000,
          ipv6Ranges: [{ cidrIpv6: '::/0' }],
        }),
      ],
      says: /admits ::\/0 on tool ports? 8000.* \(rule: tcp ports 7000-9000 from ::\/0\)/,
    },
    {
      name: 'itself',
      rules: [
        fromProxy,
        rule({
          ipProtocol: 'tcp',
          fromPort: 8000,
          toPort: 8000,
          userIdGroupPairs: [{ groupId: id }],
        }),
      ],
      says: new RegExp(`admits ${id} on tool port 8000 \\(rule: tcp port 8000 from ${id}\\)`),
    },
    {
      name: 'protocol -1 from 0.0.0.0/0',
      rules: [fromProxy, rule({ ipProtocol: '-1', ipRanges: [{ cidrIp: '0.0.0.0/0' }] })],
      says: /admits 0\.0\.0\.0\/0 on tool ports? 8000.* \(rule: all traffic from 0\.0\.0\.0\/0\)/,
    },
  ];
}

const safeRules = [fromProxy];
const unrelatedRules = [
  fromProxy,
  rule({ ipProtocol: 'tcp', fromPort: 22, toPort: 22, ipRanges: [{ cidrIp: '0.0.0.0/0' }] }),
];

describe('berth doctor', () => {
  // One group per case, each named by its own ID.
  const ids = [
    'sg-0bad0000000000a1',
    'sg-0bad0000000000a2',
    'sg-0bad0000000000a3',
    'sg-0bad0000000000a4',
  ];
  const cases = ids.map((id, i) => ({ id, ...unsafeCases(id)[i]! }));
  let ecsLocal: EcsLocal;
  before(async () => {
    ecsLocal = await startEcsLocal({
      port: 0,
      network: {
        securityGroups: [
          ...cases.map((c) => ({ groupId: c.id, groupName: c.name, ipPermissions: c.rules })),
          { groupId: TOOLS, groupName: 'safe', ipPermissions: safeRules },
          {
            groupId: 'sg-0a1b2c3d4e5f600a9',
            groupName: 'unrelated',
            ipPermissions: unrelatedRules,
          },
          { groupId: PROXY, groupName: 'proxy' },
        ],
      },
    });
  });
  after(() => ecsLocal?.close());

  function doctor(group: string): Promise<{ code: number; out: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['--disable-warning=ExperimentalWarning', berth, 'doctor'],
        {
          env: {
            PATH: process.env.PATH ?? '',
            HOME: process.env.HOME ?? '',
            BERTH_CONFIG: join(import.meta.dirname, 'no-such-cli-config.yaml'),
            ...ecsLocalEnv(ecsLocal),
            BERTH_ECS_SUBNETS: 'subnet-0a1b2c3d4e5f60001',
            BERTH_ECS_SECURITY_GROUPS: group,
            BERTH_PROXY_SECURITY_GROUP: PROXY,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      child.stdout.on('data', (c) => (out += c));
      child.stderr.on('data', (c) => (out += c));
      child.on('error', reject);
      child.on('exit', (code) => resolve({ code: code ?? 1, out }));
    });
  }

  test('fails on a group admitting 0.0.0.0/0 on the gate port, ::/0, itself, or all traffic, naming the rule', async () => {
    const results = await Promise.all(cases.map((c) => doctor(c.id)));
    results.forEach(({ code, out }, i) => {
      const c = cases[i]!;
      assert.equal(code, 1, `${c.name}: ${out}`);
      const line = out.split('\n').find((l) => l.startsWith('✗ Security group rules'));
      assert.ok(line, `${c.name}: no failed security group check in\n${out}`);
      assert.match(line, c.says, c.name);
      assert.match(line, new RegExp(c.id), `${c.name}: the group is named`);
      assert.match(out, /fix: Remove the rule \(aws ec2 revoke-security-group-ingress --group-id/);
    });
  });

  test('passes a safe group and one whose open rule is on an unrelated port', async () => {
    for (const group of [TOOLS, 'sg-0a1b2c3d4e5f600a9']) {
      const { code, out } = await doctor(group);
      assert.equal(code, 0, out);
      assert.match(
        out,
        /✓ Security group rules: No rule admits its own group, 0\.0\.0\.0\/0 or ::\/0 on tool ports 8000/,
      );
    }
  });

  test('warns, without failing, when no rule admits the proxy', async () => {
    const { code, out } = await doctor(PROXY);
    assert.equal(code, 0, out);
    assert.match(
      out,
      new RegExp(
        `! Security group rules: No rule of the tools' security groups \\(${PROXY}\\) admits the proxy's group ${PROXY} on tool port 8000`,
      ),
    );
  });
});

describe('the controllers', () => {
  let env: Env;
  before(async () => {
    env = await startEnv({
      addressOctet: 97,
      driverEnv: { BERTH_PROXY_SECURITY_GROUP: PROXY },
    });
    // Long enough that no launch gives up while the group is unsafe, however slow the machine.
    await createTool(env.store, 'tiny', tinySpec({ spawnTimeout: '10m' }));
  });
  after(() => env?.close());

  const setRules = async (ipPermissions: IpPermission[]) => {
    const res = await admin(env.ecsLocal, `/_ecs-local/security-groups/${TOOLS}`, {
      method: 'PUT',
      body: JSON.stringify({ ipPermissions }),
    });
    assert.equal(res.status, 200, await res.text());
  };
  const tasks = async () =>
    (await ecsClient(env.ecsLocal).send(new ListTasksCommand({ desiredStatus: 'RUNNING' })))
      .taskArns ?? [];

  test('launch nothing into an unsafe group, say why on the instance, and launch once it is fixed', async () => {
    const cases = unsafeCases(TOOLS);
    for (const [i, c] of cases.entries()) {
      await setRules(c.rules);
      await createInstance(env.store, `user${i}`, 'tiny', 'tiny');
      const ti = await waitFor(
        async () => {
          const t = await getInstance(env.store, `user${i}`, 'tiny');
          const r = getCondition(t.status?.conditions ?? [], 'Reconciled');
          return r?.status === 'False' &&
            r.reason === 'UnsafeSecurityGroup' &&
            c.says.test(r.message ?? '')
            ? t
            : undefined;
        },
        30_000,
        `user${i}/tiny to be refused for ${c.name}`,
        50,
      ).catch(async (err: Error) => {
        const t = await getInstance(env.store, `user${i}`, 'tiny');
        throw new Error(`${err.message}: ${JSON.stringify(t.status)}`);
      });
      assert.notEqual((ti as ToolInstance).status?.phase, 'Ready');
      assert.deepEqual(await tasks(), [], `${c.name}: no task was started`);
    }
    // Fixed: the next attempt reads the group again and launches, with no one touching the instances.
    await setRules(safeRules);
    for (const i of cases.keys()) {
      const ready = await waitForPhase(env.store, `user${i}`, 'tiny', 'Ready', 60_000);
      assert.equal(getCondition(ready.status?.conditions ?? [], 'Reconciled')?.status, 'True');
    }
    assert.equal((await tasks()).length, cases.length);
  });
});
