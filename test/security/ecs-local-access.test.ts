// Only ecs-local's own caller drives it: it runs any command it is asked to, so
// every ECS, EC2 and admin request must be SigV4-signed with its key pair, must
// name ecs-local itself in Host (DNS rebinding), and it listens on loopback only
// unless told otherwise. A tool it runs cannot start tasks with anything it can
// find: nothing of ecs-local's own environment reaches the tool.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ListTasksCommand } from '@aws-sdk/client-ecs';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  ConfigError,
  type EcsLocal,
  parseConfig,
  Sha256,
  startEcsLocal,
} from '../../ecs-local/index.ts';
import {
  ecsClient,
  registerFargate,
  runOne,
  start,
  TEST_IMAGES,
  waitFor,
  waitForStatus,
} from '../ecs-local/helpers.ts';
import { admin } from '../support/ecs-local.ts';

const root = join(import.meta.dirname, '..', '..');

const RUN_TASK = 'AmazonEC2ContainerServiceV20141113.RunTask';

let ecsLocal: EcsLocal;
let idleTd: string;
const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

before(async () => {
  // As an operator who exported the pair `berth ecs-local` printed: ecs-local's own
  // environment holds the key, and must not hand it to the tools it runs.
  ecsLocal = await start({
    imageMap: {
      ...TEST_IMAGES,
      'test/prober:1': {
        command: [`$${'{node}'}`, join(import.meta.dirname, 'fixtures', 'ecs-local-prober.mjs')],
      },
    },
  });
  process.env.AWS_ACCESS_KEY_ID = ecsLocal.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = ecsLocal.credentials.secretAccessKey;
  idleTd = await registerFargate(ecsClient(ecsLocal), 'idle', 'test/idle:1');
});

after(async () => {
  for (const [k, v] of [
    ['AWS_ACCESS_KEY_ID', saved.id],
    ['AWS_SECRET_ACCESS_KEY', saved.secret],
  ] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await ecsLocal?.close(500);
});

async function runningTasks(): Promise<string[]> {
  const out = await ecsClient(ecsLocal).send(new ListTasksCommand({ desiredStatus: 'RUNNING' }));
  return out.taskArns ?? [];
}

/** A raw RunTask of the idle tool, with the headers given (no signature unless they carry one). */
function rawRunTask(
  headers: Record<string, string>,
  body: string,
): Promise<{
  status: number;
  type?: string;
  text: string;
}> {
  const url = new URL(ecsLocal.url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, path: '/', method: 'POST', headers },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => {
          let type: string | undefined;
          try {
            type = (JSON.parse(text) as { __type?: string }).__type;
          } catch {}
          resolve({ status: res.statusCode!, type, text });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function runTaskBody(): string {
  return JSON.stringify({
    taskDefinition: idleTd,
    launchType: 'FARGATE',
    networkConfiguration: {
      awsvpcConfiguration: { subnets: ['subnet-0a1b2c3d4e5f60001'], assignPublicIp: 'DISABLED' },
    },
  });
}

/** Headers of a RunTask signed as the SDK signs it, with the key, Host and date given. */
async function signedHeaders(
  key: { accessKeyId: string; secretAccessKey: string },
  body: string,
  opts: { host?: string; date?: Date } = {},
): Promise<Record<string, string>> {
  const host = opts.host ?? new URL(ecsLocal.url).host;
  const signer = new SignatureV4({
    credentials: key,
    region: 'eu-west-2',
    service: 'ecs',
    sha256: Sha256,
  });
  const signed = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: host,
      path: '/',
      headers: {
        host,
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': RUN_TASK,
      },
      body,
    },
    opts.date ? { signingDate: opts.date } : {},
  );
  return signed.headers as Record<string, string>;
}

test('a tool process cannot start tasks with anything it can find', async () => {
  const ecs = ecsClient(ecsLocal);
  const prober = await registerFargate(ecs, 'prober', 'test/prober:1', {
    environment: [{ name: 'PROBE_TASK_DEFINITION', value: idleTd }],
  });
  const task = await runOne(ecs, prober);
  await waitForStatus(ecs, task.taskArn!, 'RUNNING');
  const id = task.taskArn!.split('/').pop();
  const line = await waitFor(
    'the prober to report',
    async () => {
      const logs = await (
        await admin(ecsLocal, `/_ecs-local/tasks/${id}/containers/main/logs`)
      ).text();
      return /^PROBE (.*)$/m.exec(logs)?.[1];
    },
    60_000,
  );
  const probe = JSON.parse(line) as Record<
    string,
    { status?: number; type?: string; error?: string; started?: unknown }
  > & {
    envNames: string[];
    metadataTask: number;
  };
  assert.equal(probe.metadataTask, 200, 'the task metadata endpoint still answers the tool');
  assert.deepEqual(
    [probe.unsigned!.status, probe.unsigned!.type],
    [400, 'MissingAuthenticationTokenException'],
    JSON.stringify(probe.unsigned),
  );
  assert.deepEqual(
    [probe.viaMetadataPath!.status, probe.viaMetadataPath!.type],
    [400, 'MissingAuthenticationTokenException'],
    JSON.stringify(probe.viaMetadataPath),
  );
  // With no key in its environment the SDK finds no credentials (or the machine's own AWS ones, which ecs-local does not know).
  assert.ok(
    ['CredentialsProviderError', 'UnrecognizedClientException'].includes(
      probe.envCredentials!.error!,
    ),
    JSON.stringify(probe.envCredentials),
  );
  assert.equal(
    probe.madeUpKey!.error,
    'UnrecognizedClientException',
    JSON.stringify(probe.madeUpKey),
  );
  for (const name of [
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'ECS_LOCAL_ACCESS_KEY_ID',
    'ECS_LOCAL_SECRET_ACCESS_KEY',
  ]) {
    assert.ok(!probe.envNames.includes(name), `${name} reached the tool`);
  }
  assert.ok(!probe.envNames.some((n) => n.startsWith('BERTH_ECS_')), probe.envNames.join(' '));
  assert.deepEqual(await runningTasks(), [task.taskArn], 'only the prober runs');
  assert.equal(ecsLocal.processes().length, 1, 'no process was started for the tool');
});

test('an unsigned request is refused and runs nothing; so is an admin or EC2 call', async () => {
  const before = await runningTasks();
  const body = runTaskBody();
  const host = new URL(ecsLocal.url).host;
  const res = await rawRunTask(
    { host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': RUN_TASK },
    body,
  );
  assert.equal(res.status, 400, res.text);
  assert.equal(res.type, 'MissingAuthenticationTokenException');

  const ec2 = await fetch(ecsLocal.url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'Action=DescribeSecurityGroups&Version=2016-11-15',
  });
  assert.equal(ec2.status, 401);
  assert.match(await ec2.text(), /<Code>MissingAuthenticationToken<\/Code>/);

  const faults = await fetch(`${ecsLocal.url}/_ecs-local/faults`, {
    method: 'POST',
    body: JSON.stringify({ serverErrorRate: 1 }),
  });
  assert.equal(faults.status, 403);
  assert.equal(
    ((await (await admin(ecsLocal, '/_ecs-local/faults')).json()) as { serverErrorRate?: number })
      .serverErrorRate ?? 0,
    0,
  );
  assert.equal(
    (await fetch(`${ecsLocal.url}/_ecs-local/health`)).status,
    200,
    'the health check stays open',
  );
  assert.deepEqual(await runningTasks(), before);
});

test('a wrong secret, an unknown key and a stale date are refused as AWS refuses them', async () => {
  const before = await runningTasks();
  const body = runTaskBody();
  const wrongSecret = await rawRunTask(
    await signedHeaders(
      { accessKeyId: ecsLocal.credentials.accessKeyId, secretAccessKey: 'not-the-secret-at-all' },
      body,
    ),
    body,
  );
  assert.deepEqual(
    [wrongSecret.status, wrongSecret.type],
    [400, 'InvalidSignatureException'],
    wrongSecret.text,
  );
  const unknown = await rawRunTask(
    await signedHeaders(
      {
        accessKeyId: 'AKIAUNKNOWNUNKNOWN00',
        secretAccessKey: ecsLocal.credentials.secretAccessKey,
      },
      body,
    ),
    body,
  );
  assert.deepEqual(
    [unknown.status, unknown.type],
    [400, 'UnrecognizedClientException'],
    unknown.text,
  );
  const stale = await rawRunTask(
    await signedHeaders(ecsLocal.credentials, body, { date: new Date(Date.now() - 20 * 60_000) }),
    body,
  );
  assert.deepEqual([stale.status, stale.type], [400, 'InvalidSignatureException'], stale.text);
  assert.match(stale.text, /Signature expired/);
  // A body changed after signing.
  const headers = await signedHeaders(ecsLocal.credentials, body);
  const tampered = await rawRunTask(headers, body.replace('"FARGATE"', '"FARGATE" '));
  assert.deepEqual(
    [tampered.status, tampered.type],
    [400, 'InvalidSignatureException'],
    tampered.text,
  );
  assert.deepEqual(await runningTasks(), before, 'nothing was started');
});

test('a request naming another host (DNS rebinding) is refused, even signed', async () => {
  const before = await runningTasks();
  const body = runTaskBody();
  const port = new URL(ecsLocal.url).port;
  const evil = `rebind.attacker.example:${port}`;
  const res = await rawRunTask(
    await signedHeaders(ecsLocal.credentials, body, { host: evil }),
    body,
  );
  assert.equal(res.status, 403, res.text);
  assert.match(res.text, /Host/);
  const health = await new Promise<number>((resolve, reject) => {
    request(`${ecsLocal.url}/_ecs-local/health`, { headers: { host: evil } }, (r) => {
      r.resume();
      resolve(r.statusCode!);
    })
      .on('error', reject)
      .end();
  });
  assert.equal(health, 403);
  assert.deepEqual(await runningTasks(), before);
});

test('a request signed with its key pair works', async () => {
  const body = runTaskBody();
  const res = await rawRunTask(await signedHeaders(ecsLocal.credentials, body), body);
  assert.equal(res.status, 200, res.text);
  const arn = (JSON.parse(res.text) as { tasks: { taskArn: string }[] }).tasks[0]!.taskArn;
  await waitForStatus(ecsClient(ecsLocal), arn, 'RUNNING');
  assert.ok((await runningTasks()).includes(arn));
});

test('a non-loopback address is refused at start unless ECS_LOCAL_ALLOW_REMOTE says so', async () => {
  await assert.rejects(
    startEcsLocal({ host: '0.0.0.0', port: 0 }),
    (err: Error) =>
      err instanceof ConfigError &&
      /ECS_LOCAL_HOST/.test(err.message) &&
      /ECS_LOCAL_ALLOW_REMOTE/.test(err.message),
  );
  assert.equal(parseConfig({ host: '0.0.0.0', allowRemote: true }).host, '0.0.0.0', 'the opt-in');
  const child = spawn(
    process.execPath,
    ['--disable-warning=ExperimentalWarning', join(root, 'bin', 'berth.ts'), 'ecs-local'],
    {
      env: { ...process.env, ECS_LOCAL_HOST: '0.0.0.0', ECS_LOCAL_PORT: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  // It must exit; should it listen instead, stop it so the failure is reported at once.
  const listening = new Promise<'listening'>((resolve) => {
    const see = (c: Buffer) => {
      out += c;
      if (/listening on/.test(out)) resolve('listening');
    };
    child.stdout.on('data', see);
    child.stderr.on('data', see);
  });
  const first = await Promise.race([exited, listening]);
  if (first === 'listening') child.kill('SIGKILL');
  const code = await exited;
  assert.equal(code, 2, out);
  assert.match(out, /0\.0\.0\.0 is not a loopback address/);
  assert.doesNotMatch(out, /listening/);
});
