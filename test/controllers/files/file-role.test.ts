// The file role against ecs-local's IAM through the real SDK: made when missing,
// its policy put back when someone changed it or added another, and a restarted
// controller (a new FileRoles: no cache) observes IAM rather than trusting what
// an earlier process saw.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  IAMClient,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import {
  createFiles,
  FILES_POLICY_NAME,
  type Files,
  fileRoleName,
  filesPolicy,
} from '../../../controllers/files/index.ts';
import { homePrefix } from '../../../crds/index.ts';
import { type EcsLocal, startEcsLocal } from '../../../ecs-local/index.ts';

let dir: string;
let ecsLocal: EcsLocal;
let iam: IAMClient;
const opened: Files[] = [];

/** A controller process's files side (a fresh cache each call: a restart). */
function controllerFiles(): Files {
  const files = createFiles({
    BERTH_FILES_BUCKET: 'berth-files',
    BERTH_S3_ENDPOINT: ecsLocal.url,
    BERTH_IAM_ENDPOINT: ecsLocal.url,
    BERTH_S3_REGION: ecsLocal.config.region,
    BERTH_S3_ACCESS_KEY_ID: ecsLocal.credentials.accessKeyId,
    BERTH_S3_SECRET_ACCESS_KEY: ecsLocal.credentials.secretAccessKey,
  });
  assert.ok(files);
  opened.push(files);
  return files;
}

async function policyOf(roleName: string): Promise<unknown> {
  const { PolicyDocument } = await iam.send(
    new GetRolePolicyCommand({ RoleName: roleName, PolicyName: FILES_POLICY_NAME }),
  );
  const text = PolicyDocument ?? '';
  return JSON.parse(text.startsWith('{') ? text : decodeURIComponent(text));
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-file-role-'));
  ecsLocal = await startEcsLocal({ port: 0, stateDir: dir, addressOctet: 75 });
  iam = new IAMClient({
    endpoint: ecsLocal.url,
    region: ecsLocal.config.region,
    credentials: ecsLocal.credentials,
  });
});

after(async () => {
  for (const f of opened) f.close();
  iam?.destroy();
  await ecsLocal?.close(500);
  rmSync(dir, { recursive: true, force: true });
});

test('files off: no bucket, no file roles', () => {
  assert.equal(createFiles({}), undefined);
});

test('a missing role is created with its path, tag, trust and the one policy', async () => {
  const uid = randomUUID();
  const files = controllerFiles();
  const first = await files.roles.ensure(uid);
  assert.equal(first.outcome, 'created');
  const roleName = fileRoleName('berth-files-', uid);
  assert.equal(first.role.roleName, roleName);
  assert.equal(first.role.prefix, homePrefix(uid));

  const { Role } = await iam.send(new GetRoleCommand({ RoleName: roleName }));
  assert.equal(Role?.Arn, first.role.roleArn);
  assert.equal(Role?.Path, '/berth/');
  assert.deepEqual(
    Role?.Tags?.map((t) => [t.Key, t.Value]),
    [['berth.io/user-uid', uid]],
  );
  const trust = JSON.parse(decodeURIComponent(Role?.AssumeRolePolicyDocument ?? '')) as {
    Statement: { Principal: unknown }[];
  };
  assert.deepEqual(trust.Statement[0]!.Principal, { Service: 'ecs-tasks.amazonaws.com' });
  assert.deepEqual(
    await policyOf(roleName),
    filesPolicy({ bucket: 'berth-files', prefix: homePrefix(uid) }),
  );
  const { PolicyNames } = await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }));
  assert.deepEqual(PolicyNames, [FILES_POLICY_NAME]);

  // Seen ready: the next launch asks IAM nothing.
  assert.equal((await files.roles.ensure(uid)).outcome, 'cached');
});

test('drift is repaired: a widened policy is put back, another inline policy removed', async () => {
  const uid = randomUUID();
  const roleName = fileRoleName('berth-files-', uid);
  await controllerFiles().roles.ensure(uid);
  const wide = {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::berth-files/*' }],
  };
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: roleName,
      PolicyName: FILES_POLICY_NAME,
      PolicyDocument: JSON.stringify(wide),
    }),
  );
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: roleName,
      PolicyName: 'extra',
      PolicyDocument: JSON.stringify(wide),
    }),
  );
  // A controller started after the change (no cache) observes and repairs.
  const { outcome } = await controllerFiles().roles.ensure(uid);
  assert.equal(outcome, 'policyRepaired');
  assert.deepEqual(
    await policyOf(roleName),
    filesPolicy({ bucket: 'berth-files', prefix: homePrefix(uid) }),
  );
  const { PolicyNames } = await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }));
  assert.deepEqual(PolicyNames, [FILES_POLICY_NAME]);
  // Nothing to do the next time it looks.
  assert.equal((await controllerFiles().roles.ensure(uid)).outcome, 'unchanged');
});

test('a role deleted behind berth: a restarted controller makes it again; a running one once told to forget', async () => {
  const uid = randomUUID();
  const roleName = fileRoleName('berth-files-', uid);
  const running = controllerFiles();
  await running.roles.ensure(uid);
  const remove = async () => {
    await iam.send(
      new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: FILES_POLICY_NAME }),
    );
    await iam.send(new DeleteRoleCommand({ RoleName: roleName }));
  };
  await remove();
  // The running process still has it cached (a launch's RunTask failure makes it forget).
  assert.equal((await running.roles.ensure(uid)).outcome, 'cached');
  assert.equal((await controllerFiles().roles.ensure(uid)).outcome, 'created');
  await remove();
  running.roles.forget(uid);
  assert.equal((await running.roles.ensure(uid)).outcome, 'created');
  await iam.send(new GetRoleCommand({ RoleName: roleName }));
});

test('roles survive a restart of ecs-local (iam.json): the next controller finds them unchanged', async () => {
  const uid = randomUUID();
  await controllerFiles().roles.ensure(uid);
  const { accessKeyId, secretAccessKey } = ecsLocal.credentials;
  await ecsLocal.close(500);
  ecsLocal = await startEcsLocal({
    port: 0,
    stateDir: dir,
    addressOctet: 75,
    credentials: { accessKeyId, secretAccessKey },
  });
  iam.destroy();
  iam = new IAMClient({
    endpoint: ecsLocal.url,
    region: ecsLocal.config.region,
    credentials: ecsLocal.credentials,
  });
  assert.equal((await controllerFiles().roles.ensure(uid)).outcome, 'unchanged');
});

test('IAM unreachable: ensure fails with FileRoleUnavailable, naming the role and no secret', async () => {
  const files = createFiles({
    BERTH_FILES_BUCKET: 'berth-files',
    BERTH_IAM_ENDPOINT: 'http://127.0.0.1:9',
    BERTH_S3_ACCESS_KEY_ID: 'AKIAEXAMPLE',
    BERTH_S3_SECRET_ACCESS_KEY: 'a-secret-that-must-not-show',
  })!;
  opened.push(files);
  const uid = randomUUID();
  await assert.rejects(files.roles.ensure(uid), (err: Error) => {
    assert.equal(err.name, 'FileRoleUnavailable');
    assert.match(err.message, new RegExp(fileRoleName('berth-files-', uid)));
    assert.ok(!err.message.includes('a-secret-that-must-not-show'));
    return true;
  });
});
