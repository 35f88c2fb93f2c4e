// Shared by the S3/IAM tests of ecs-local: an instance with S3 on (s3rver's data
// in a fresh folder), SDK clients signed with its pair or a task's session
// credentials, and a file role written as berth writes it (the user's prefix only).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ECSClient } from '@aws-sdk/client-ecs';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import type { EcsLocal, StartOptions } from '../../ecs-local/index.ts';
import {
  ecsClient,
  registerFargate,
  runOne,
  start,
  TEST_IMAGES,
  waitFor,
  waitForStatus,
} from './helpers.ts';

export const BUCKET = 'berth-files';
export const ORIGIN = 'http://localhost:8000';

export interface S3Env {
  ecsLocal: EcsLocal;
  dir: string;
  close(): Promise<void>;
}

const PROBE = { command: [`$${'{node}'}`, join(import.meta.dirname, 'fixtures', 's3-probe.mjs')] };

export async function startWithS3(options: StartOptions = {}): Promise<S3Env> {
  const dir = await mkdtemp(join(tmpdir(), 'ecs-local-s3-'));
  const ecsLocal = await start({
    imageMap: { ...TEST_IMAGES, 'test/s3-probe:1': PROBE },
    s3: { directory: join(dir, 's3'), buckets: [{ name: BUCKET, corsOrigins: [ORIGIN] }] },
    ...options,
  });
  return {
    ecsLocal,
    dir,
    close: async () => {
      await ecsLocal.close(500);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export function s3Client(
  ecsLocal: EcsLocal,
  credentials: Credentials = ecsLocal.credentials,
): S3Client {
  return new S3Client({
    endpoint: ecsLocal.url,
    forcePathStyle: true,
    region: 'eu-west-2',
    credentials,
    maxAttempts: 1,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export function iamClient(ecsLocal: EcsLocal): IAMClient {
  return new IAMClient({
    endpoint: ecsLocal.url,
    region: 'us-east-1',
    credentials: ecsLocal.credentials,
    maxAttempts: 1,
  });
}

/** The file policy berth writes for one user: their home prefix, nothing else. */
export function filesPolicy(bucket: string, uid: string): string {
  const prefix = `home/${uid}/`;
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ListOwnHome',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: `arn:aws:s3:::${bucket}`,
        Condition: { StringLike: { 's3:prefix': [prefix, `${prefix}*`] } },
      },
      {
        Sid: 'OwnHomeObjects',
        Effect: 'Allow',
        Action: [
          's3:GetObject',
          's3:PutObject',
          's3:DeleteObject',
          's3:AbortMultipartUpload',
          's3:ListMultipartUploadParts',
        ],
        Resource: `arn:aws:s3:::${bucket}/${prefix}*`,
      },
    ],
  });
}

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

/** Creates berth's file role for `uid`; its ARN. */
export async function createFilesRole(ecsLocal: EcsLocal, uid: string): Promise<string> {
  const iam = iamClient(ecsLocal);
  const out = await iam.send(
    new CreateRoleCommand({
      RoleName: `berth-files-${uid}`,
      Path: '/berth/',
      AssumeRolePolicyDocument: TRUST,
    }),
  );
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: `berth-files-${uid}`,
      PolicyName: 'files',
      PolicyDocument: filesPolicy(BUCKET, uid),
    }),
  );
  return out.Role!.Arn!;
}

export interface ProbeTask {
  arn: string;
  /** http://<task address>:<port> */
  url: string;
  ecs: ECSClient;
}

let probePort = 19100;

/** Runs the probe container with `roleArn` as its task role, RUNNING and listening. */
export async function runProbe(
  ecsLocal: EcsLocal,
  roleArn: string | undefined,
): Promise<ProbeTask> {
  const ecs = ecsClient(ecsLocal);
  const port = probePort++;
  const def = await registerFargate(ecs, `probe-${port}`, 'test/s3-probe:1', {
    port,
    environment: [
      { name: 'BERTH_FILES_BUCKET', value: BUCKET },
      { name: 'AWS_ENDPOINT_URL_S3', value: ecsLocal.url },
      { name: 'AWS_REQUEST_CHECKSUM_CALCULATION', value: 'WHEN_REQUIRED' },
      { name: 'AWS_RESPONSE_CHECKSUM_VALIDATION', value: 'WHEN_REQUIRED' },
    ],
  });
  const task = await runOne(ecs, def, roleArn ? { overrides: { taskRoleArn: roleArn } } : {});
  const running = await waitForStatus(ecs, task.taskArn!, 'RUNNING', 20_000);
  const ip = running.attachments?.[0]?.details?.find((d) => d.name === 'privateIPv4Address')?.value;
  const url = `http://${ip}:${port}`;
  await waitFor(
    'the probe to listen',
    async () => (await fetch(`${url}/env`).catch(() => undefined))?.ok,
    20_000,
  );
  return { arn: task.taskArn!, url, ecs };
}

export async function probe(task: ProbeTask, path: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${task.url}${path}`);
  return (await res.json()) as Record<string, unknown>;
}

/** The session credentials a task's container would fetch (with its own token). */
export async function taskSession(task: ProbeTask): Promise<Credentials> {
  const env = (await probe(task, '/env')) as { uri: string; token: string };
  const res = await fetch(env.uri, { headers: { authorization: env.token } });
  if (!res.ok) throw new Error(`credentials endpoint answered ${res.status}`);
  const body = (await res.json()) as {
    AccessKeyId: string;
    SecretAccessKey: string;
    Token: string;
  };
  return {
    accessKeyId: body.AccessKeyId,
    secretAccessKey: body.SecretAccessKey,
    sessionToken: body.Token,
  };
}
