// A launch with files on: RunTask carries the user's file role as the task role,
// the tool and its sidecars get the files environment (and their home), and the
// role's credentials reach the task. A shared tool gets none of it; nor does any
// tool with files off.
import assert from 'node:assert/strict';
import { type AddressInfo, createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { fileRoleName } from '../../../controllers/files/index.ts';
import type { ToolInstance } from '../../../crds/index.ts';
import { waitFor } from '../../support/wait.ts';
import { createInstance, createTool, getInstance, waitForPhase } from '../reconcile-support.ts';
import { BUCKET, echoSpec, type FilesEnv, sidecarEnv, startFilesEnv, toolEnv } from './support.ts';

let env: FilesEnv;

before(async () => {
  env = await startFilesEnv({ addressOctet: 73, files: true });
  await createTool(env.manager.store, 'echo', echoSpec());
  await createTool(env.manager.store, 'echo-app', echoSpec({ sharing: 'shared' }));
});

after(async () => {
  await env?.close();
});

test("a per-user tool runs as its user's file role, every container gets the files environment", async () => {
  const alice = await env.identity.upsertUser({ name: 'alice' });
  await createInstance(env.manager.store, 'alice', 'echo', 'echo');
  const ti = await waitForPhase(env.manager.store, 'alice', 'echo', 'Ready', 30_000);

  const iam = new IAMClient({
    endpoint: env.ecsLocal.url,
    region: env.ecsLocal.config.region,
    credentials: env.ecsLocal.credentials,
  });
  const { Role } = await iam.send(
    new GetRoleCommand({ RoleName: fileRoleName('berth-files-', alice.uid) }),
  );
  iam.destroy();
  assert.match(Role?.Arn ?? '', /:role\/berth\/berth-files-[0-9a-f]{32}$/);

  const tool = await toolEnv(env, ti);
  const side = await sidecarEnv(ti);
  // The task's credentials are the role's (what the SDK's default chain fetches in the task).
  for (const e of [tool, side]) {
    const creds = (await (
      await fetch(e.AWS_CONTAINER_CREDENTIALS_FULL_URI!, {
        headers: { authorization: e.AWS_CONTAINER_AUTHORIZATION_TOKEN! },
      })
    ).json()) as { RoleArn?: string; AccessKeyId?: string };
    assert.equal(creds.RoleArn, Role?.Arn);
    assert.ok(creds.AccessKeyId);
  }
  for (const [name, e] of [
    ['tool', tool],
    ['sidecar', side],
  ] as const) {
    assert.equal(e.BERTH_FILES_BUCKET, BUCKET, name);
    assert.equal(e.BERTH_FILES_PREFIX, `home/${alice.uid}/`, name);
    assert.equal(e.AWS_ENDPOINT_URL_S3, env.ecsLocal.url, name);
    assert.equal(e.AWS_REQUEST_CHECKSUM_CALCULATION, 'WHEN_REQUIRED', name);
    assert.equal(e.AWS_RESPONSE_CHECKSUM_VALIDATION, 'WHEN_REQUIRED', name);
    assert.ok(e.AWS_CONTAINER_CREDENTIALS_FULL_URI, `${name}: task role credentials`);
    // Nothing of the controllers' own key pair.
    assert.equal(e.AWS_ACCESS_KEY_ID, undefined, name);
    assert.ok(
      !JSON.stringify(e).includes(env.ecsLocal.credentials.secretAccessKey),
      `${name}: no admin secret`,
    );
  }
  // One home, the task's folder standing in for /home/berth: the tool's HOME, the sidecars' BERTH_HOME.
  assert.ok(tool.HOME && tool.HOME !== '/home/berth', tool.HOME);
  assert.equal(side.BERTH_HOME, tool.HOME);

  const cond = ti.status?.conditions.find((c) => c.type === 'Files');
  assert.equal(cond, undefined, 'no condition of its own: a role that fails fails the launch');
});

test('a shared tool gets no role and no files environment', async () => {
  await createInstance(env.manager.store, 'shared', 'echo-app', 'echo-app');
  const ti = await waitForPhase(env.manager.store, 'shared', 'echo-app', 'Ready', 30_000);
  for (const e of [await toolEnv(env, ti), await sidecarEnv(ti)]) {
    assert.equal(e.BERTH_FILES_BUCKET, undefined);
    assert.equal(e.BERTH_FILES_PREFIX, undefined);
    assert.equal(e.AWS_ENDPOINT_URL_S3, undefined);
    assert.equal(e.AWS_CONTAINER_CREDENTIALS_FULL_URI, undefined);
  }
});

test('a namespace with no user launches without files, and an Event says so', async () => {
  await createInstance(env.manager.store, 'ghost', 'echo', 'echo');
  const ti = await waitForPhase(env.manager.store, 'ghost', 'echo', 'Ready', 30_000);
  const tool = await toolEnv(env, ti);
  assert.equal(tool.BERTH_FILES_BUCKET, undefined);
  assert.equal(tool.AWS_CONTAINER_CREDENTIALS_FULL_URI, undefined);
  const events = (await env.manager.store.list('Event', { namespace: 'ghost' })).items as {
    reason?: string;
  }[];
  assert.ok(
    events.some((e) => e.reason === 'FilesUnavailable'),
    JSON.stringify(events),
  );
});

test('with files off, a per-user tool gets no role and no files environment', async () => {
  const off = await startFilesEnv({ addressOctet: 74, files: false });
  try {
    await off.identity.upsertUser({ name: 'alice' });
    await createTool(off.manager.store, 'echo', echoSpec());
    await createInstance(off.manager.store, 'alice', 'echo', 'echo');
    const ti: ToolInstance = await waitForPhase(
      off.manager.store,
      'alice',
      'echo',
      'Ready',
      30_000,
    );
    const tool = await toolEnv(off, ti);
    assert.equal(tool.BERTH_FILES_BUCKET, undefined);
    assert.equal(tool.AWS_ENDPOINT_URL_S3, undefined);
    assert.equal(tool.AWS_CONTAINER_CREDENTIALS_FULL_URI, undefined);
    // The home folder is there all the same (the ToolDefinition asks for it).
    assert.equal((await sidecarEnv(ti)).BERTH_HOME, tool.HOME);
  } finally {
    await off.close();
  }
});

test('IAM unreachable: each attempt fails with FileRoleUnavailable (no secret) and is retried, until the spawn timeout', async () => {
  // A port nobody listens on.
  const port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const p = (probe.address() as AddressInfo).port;
      probe.close(() => resolve(p));
    });
  });
  const down = await startFilesEnv({
    addressOctet: 78,
    files: true,
    iamEndpoint: `http://127.0.0.1:${port}`,
  });
  try {
    await down.identity.upsertUser({ name: 'carol' });
    await createTool(down.manager.store, 'echo', echoSpec({ spawnTimeout: '20s' }));
    await createInstance(down.manager.store, 'carol', 'echo', 'echo');
    const store = down.manager.store;
    type Ev = { reason?: string; type?: string; message?: string; count?: number };
    // Retried: the one aggregated Event counts the failed attempts.
    const event = await waitFor(
      async () => {
        const items = (await store.list('Event', { namespace: 'carol' })).items as Ev[];
        const e = items.find((x) => x.reason === 'FileRoleUnavailable');
        return e && (e.count ?? 1) >= 2 ? e : undefined;
      },
      30_000,
      'a FileRoleUnavailable Event, twice',
    );
    assert.equal(event.type, 'Warning');
    assert.match(event.message ?? '', /berth-files-[0-9a-f]{32}/);
    const during = await getInstance(store, 'carol', 'echo');
    assert.notEqual(during.status?.phase, 'Ready');
    assert.equal(during.status?.taskArn ?? null, null, 'no task without its role');
    const failed = await waitForPhase(store, 'carol', 'echo', 'Failed', 60_000);
    assert.equal(failed.status?.stopReason, 'FileRoleUnavailable');
    assert.match(failed.status?.message ?? '', /file role berth-files-/);
    const secret = down.filesSettings.BERTH_S3_SECRET_ACCESS_KEY!;
    const seen = JSON.stringify([
      failed,
      (await store.list('Event', { namespace: 'carol' })).items,
    ]);
    assert.ok(!seen.includes(secret), 'no secret in the status or the Events');
  } finally {
    await down.close();
  }
});
