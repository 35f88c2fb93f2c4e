// ecs-local's IAM subset through the unmodified @aws-sdk/client-iam: roles with
// inline policies, IAM's errors, validation of policy documents, and roles kept
// in <stateDir>/iam.json across a restart.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  CreateRoleCommand,
  DeleteConflictException,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  EntityAlreadyExistsException,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  IAMServiceException,
  LimitExceededException,
  ListRolePoliciesCommand,
  MalformedPolicyDocumentException,
  NoSuchEntityException,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import type { EcsLocal } from '../../ecs-local/index.ts';
import { start } from './helpers.ts';
import { filesPolicy, iamClient } from './s3-helpers.ts';

const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Service: 'ecs-tasks.amazonaws.com' },
      Action: 'sts:AssumeRole',
    },
  ],
});

let stateDir: string;
let ecsLocal: EcsLocal;
let iam: IAMClient;

before(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'ecs-local-iam-'));
  ecsLocal = await start({ stateDir });
  iam = iamClient(ecsLocal);
});

after(async () => {
  await ecsLocal?.close(500);
  await rm(stateDir, { recursive: true, force: true });
});

test('CreateRole, GetRole, inline policies and DeleteRole answer as IAM does', async () => {
  const created = await iam.send(
    new CreateRoleCommand({
      RoleName: 'berth-files-u1',
      Path: '/berth/',
      AssumeRolePolicyDocument: TRUST,
      Description: 'files of u1',
      MaxSessionDuration: 7200,
      Tags: [{ Key: 'berth:user', Value: 'u1' }],
    }),
  );
  assert.equal(created.Role?.Arn, 'arn:aws:iam::000000000000:role/berth/berth-files-u1');
  assert.match(created.Role?.RoleId ?? '', /^AROA[A-Z2-7]{17}$/);
  const got = await iam.send(new GetRoleCommand({ RoleName: 'berth-files-u1' }));
  assert.equal(got.Role?.Path, '/berth/');
  assert.equal(got.Role?.Description, 'files of u1');
  assert.equal(got.Role?.MaxSessionDuration, 7200);
  assert.deepEqual(got.Role?.Tags, [{ Key: 'berth:user', Value: 'u1' }]);
  assert.equal(decodeURIComponent(got.Role?.AssumeRolePolicyDocument ?? ''), TRUST);
  assert.ok(got.Role?.CreateDate instanceof Date);

  const policy = filesPolicy('berth-files', 'u1');
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: 'berth-files-u1',
      PolicyName: 'files',
      PolicyDocument: policy,
    }),
  );
  const read = await iam.send(
    new GetRolePolicyCommand({ RoleName: 'berth-files-u1', PolicyName: 'files' }),
  );
  assert.equal(decodeURIComponent(read.PolicyDocument ?? ''), policy);
  const listed = await iam.send(new ListRolePoliciesCommand({ RoleName: 'berth-files-u1' }));
  assert.deepEqual(listed.PolicyNames, ['files']);

  await assert.rejects(
    iam.send(new DeleteRoleCommand({ RoleName: 'berth-files-u1' })),
    DeleteConflictException,
  );
  await iam.send(new DeleteRolePolicyCommand({ RoleName: 'berth-files-u1', PolicyName: 'files' }));
  assert.deepEqual(
    (await iam.send(new ListRolePoliciesCommand({ RoleName: 'berth-files-u1' }))).PolicyNames ?? [],
    [],
  );
  await iam.send(new DeleteRoleCommand({ RoleName: 'berth-files-u1' }));
  await assert.rejects(
    iam.send(new GetRoleCommand({ RoleName: 'berth-files-u1' })),
    (err: Error) => {
      assert.ok(err instanceof NoSuchEntityException);
      assert.equal(err.$metadata.httpStatusCode, 404);
      return true;
    },
  );
});

test("IAM's errors: EntityAlreadyExists, NoSuchEntity, MalformedPolicyDocument, LimitExceeded, ValidationError", async () => {
  await iam.send(new CreateRoleCommand({ RoleName: 'r2', AssumeRolePolicyDocument: TRUST }));
  await assert.rejects(
    iam.send(new CreateRoleCommand({ RoleName: 'r2', AssumeRolePolicyDocument: TRUST })),
    (err: Error) => {
      assert.ok(err instanceof EntityAlreadyExistsException);
      assert.equal(err.$metadata.httpStatusCode, 409);
      return true;
    },
  );
  await assert.rejects(
    iam.send(new GetRolePolicyCommand({ RoleName: 'r2', PolicyName: 'nope' })),
    NoSuchEntityException,
  );
  await assert.rejects(
    iam.send(
      new PutRolePolicyCommand({
        RoleName: 'no-such-role',
        PolicyName: 'p',
        PolicyDocument: filesPolicy('b', 'u'),
      }),
    ),
    NoSuchEntityException,
  );
  for (const bad of [
    '{not json',
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject' }],
    }),
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*', Principal: '*' }],
    }),
  ]) {
    await assert.rejects(
      iam.send(new PutRolePolicyCommand({ RoleName: 'r2', PolicyName: 'p', PolicyDocument: bad })),
      (err: Error) => {
        assert.ok(err instanceof MalformedPolicyDocumentException, `${bad}: ${err.name}`);
        assert.equal(err.$metadata.httpStatusCode, 400);
        return true;
      },
    );
  }
  const huge = JSON.stringify({
    Version: '2012-10-17',
    Statement: Array.from({ length: 200 }, (_, i) => ({
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: `arn:aws:s3:::b/${i}/*`,
    })),
  });
  assert.ok(huge.length > 10_240);
  await assert.rejects(
    iam.send(new PutRolePolicyCommand({ RoleName: 'r2', PolicyName: 'p', PolicyDocument: huge })),
    LimitExceededException,
  );
  await assert.rejects(
    iam.send(new CreateRoleCommand({ RoleName: 'bad name!', AssumeRolePolicyDocument: TRUST })),
    (err: Error) => err instanceof IAMServiceException && err.name === 'ValidationError',
  );
  await assert.rejects(
    iam.send(
      new CreateRoleCommand({
        RoleName: 'r3',
        AssumeRolePolicyDocument: TRUST,
        PermissionsBoundary: 'arn:aws:iam::000000000000:policy/none',
      }),
    ),
    NoSuchEntityException,
  );
});

test("requests not signed with ecs-local's pair are refused", async () => {
  const stranger = new IAMClient({
    endpoint: ecsLocal.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIAOTHERKEY12345678', secretAccessKey: 'x'.repeat(40) },
    maxAttempts: 1,
  });
  await assert.rejects(stranger.send(new GetRoleCommand({ RoleName: 'r2' })), (err: Error) => {
    assert.ok(err instanceof IAMServiceException);
    assert.equal(err.$metadata.httpStatusCode, 403);
    return true;
  });
});

test('roles and their policies survive a restart (state in iam.json)', async () => {
  await iam.send(new CreateRoleCommand({ RoleName: 'kept', AssumeRolePolicyDocument: TRUST }));
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: 'kept',
      PolicyName: 'files',
      PolicyDocument: filesPolicy('b', 'k'),
    }),
  );
  const saved = JSON.parse(await readFile(join(stateDir, 'iam.json'), 'utf8')) as {
    roles: { name: string }[];
  };
  assert.ok(saved.roles.some((r) => r.name === 'kept'));
  await ecsLocal.close(500);
  ecsLocal = await start({ stateDir });
  iam = iamClient(ecsLocal);
  const got = await iam.send(new GetRoleCommand({ RoleName: 'kept' }));
  assert.equal(got.Role?.RoleName, 'kept');
  const policy = await iam.send(
    new GetRolePolicyCommand({ RoleName: 'kept', PolicyName: 'files' }),
  );
  assert.equal(decodeURIComponent(policy.PolicyDocument ?? ''), filesPolicy('b', 'k'));
});
