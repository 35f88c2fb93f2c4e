// The controllers' files tests: ecs-local with S3 and IAM (data in a temp folder),
// the real manager running the reconcilers with files on or off, users with uids,
// and an "echo" test tool that answers GET /env with the variables files set (it
// runs as the tool and as a sidecar, so each container's environment is seen).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type RunningControllers,
  startControllers,
  type ToolControllers,
} from '../../../controllers/index.ts';
import { createToolControllers } from '../../../controllers/reconcilers/index.ts';
import type { ToolDefinitionSpecInput, ToolInstance } from '../../../crds/index.ts';
import { type EcsLocal, startEcsLocal } from '../../../ecs-local/index.ts';
import { deriveToolSecret, Identity, TOOL_SECRET_HEADER } from '../../../store/index.ts';
import { freshDatabase, type TestDatabase } from '../../support/db.ts';
import { examples, FAST_CONTROLLER, FAST_RECONCILERS, makeDriver } from '../reconcile-support.ts';

export const BUCKET = 'berth-files';
export const ECHO_IMAGE = 'berth/echo-env:latest';

// Answers /healthz, and /env with the files variables and where AWS credentials come from.
const ECHO = `
const http = require('node:http');
const shown = (k) => /^(BERTH_FILES_|BERTH_HOME$|HOME$|AWS_)/.test(k);
http.createServer((req, res) => {
  if (req.url === '/env') {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => shown(k)));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(env));
  } else res.writeHead(200).end('ok');
}).listen(Number(process.env.PORT), process.env.HOST);
`;

export function echoSpec(extra: Partial<ToolDefinitionSpecInput> = {}): ToolDefinitionSpecInput {
  return {
    displayName: 'Echo',
    image: ECHO_IMAGE,
    port: 8080,
    sizes: { small: { cpu: 256, memory: 512 } },
    defaultSize: 'small',
    readiness: { path: '/healthz', timeoutSeconds: 1, periodSeconds: 1 },
    spawnTimeout: '60s',
    homePath: '/home/berth',
    sidecars: [{ name: 'side', image: ECHO_IMAGE, port: 9100 }],
    ...extra,
  };
}

export interface FilesEnv {
  db: TestDatabase;
  ecsLocal: EcsLocal;
  tools: ToolControllers;
  manager: RunningControllers;
  identity: Identity;
  /** The controllers' settings for files against this ecs-local. */
  filesSettings: Record<string, string>;
  close(): Promise<void>;
}

export async function startFilesEnv(opts: {
  addressOctet: number;
  /** Files on (BERTH_FILES_BUCKET and the rest) or off. */
  files: boolean;
  /** ecs-local's health check interval (ECS's is at least 5 s). */
  healthCheckIntervalMs?: number;
  /** Where the controllers reach IAM (default: ecs-local). */
  iamEndpoint?: string;
}): Promise<FilesEnv> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-files-ctl-'));
  const db = await freshDatabase();
  const ecsLocal = await startEcsLocal({
    port: 0,
    stateDir: join(dir, 'ecs-local'),
    imageMapPath: join(examples, 'demo', 'images.yaml'),
    imageMap: {
      [ECHO_IMAGE]: { command: process.execPath, args: ['-e', ECHO] },
    },
    addressOctet: opts.addressOctet,
    throttling: false,
    ...(opts.healthCheckIntervalMs ? { healthCheckIntervalMs: opts.healthCheckIntervalMs } : {}),
    s3: { directory: join(dir, 's3'), buckets: [{ name: BUCKET, corsOrigins: [] }] },
  });
  const filesSettings = {
    BERTH_FILES_BUCKET: BUCKET,
    BERTH_S3_ENDPOINT: ecsLocal.url,
    BERTH_S3_REGION: ecsLocal.config.region,
    BERTH_IAM_ENDPOINT: opts.iamEndpoint ?? ecsLocal.url,
    BERTH_S3_ACCESS_KEY_ID: ecsLocal.credentials.accessKeyId,
    BERTH_S3_SECRET_ACCESS_KEY: ecsLocal.credentials.secretAccessKey,
  };
  const env: Record<string, string | undefined> = { ...process.env };
  for (const k of Object.keys(filesSettings)) delete env[k];
  const tools = createToolControllers({
    config: FAST_RECONCILERS,
    env: opts.files ? { ...env, ...filesSettings } : env,
  });
  const driver = makeDriver(ecsLocal);
  const manager = await startControllers({
    pool: db.pool,
    driver,
    reconcilers: tools.reconcilers,
    runnables: tools.runnables,
    config: FAST_CONTROLLER,
  });
  return {
    db,
    ecsLocal,
    tools,
    manager,
    identity: new Identity(db.pool),
    filesSettings,
    async close() {
      await manager.close().catch(() => {});
      driver.close();
      tools.files?.close();
      await ecsLocal.close(500);
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The tool container's files variables, read through the gate with the launch's secret. */
export async function toolEnv(env: FilesEnv, ti: ToolInstance): Promise<Record<string, string>> {
  const secret = deriveToolSecret(
    env.tools.config.toolSecretKey,
    ti.metadata.uid!,
    ti.status!.attempt!,
  );
  const r = await fetch(`${ti.status!.endpoint}/env`, {
    headers: { [TOOL_SECRET_HEADER]: secret },
  });
  if (r.status !== 200) throw new Error(`the tool answered ${r.status}`);
  return (await r.json()) as Record<string, string>;
}

/** The sidecar's (port 9100 on the task's address). */
export async function sidecarEnv(ti: ToolInstance): Promise<Record<string, string>> {
  const host = new URL(ti.status!.endpoint!).hostname;
  const r = await fetch(`http://${host}:9100/env`);
  return (await r.json()) as Record<string, string>;
}
