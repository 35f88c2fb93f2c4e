// ecs-local's public surface: start an ECS-compatible endpoint that runs task
// containers as local processes. It imports nothing of berth's but the settings
// loader (settings/, a leaf it uses as it would a library).
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Logger, pino } from 'pino';
import { ConfigError } from '../settings/index.ts';
import { AddressPool } from './addresses.ts';
import { Arns, taskIdFrom } from './arns.ts';
import { type AccessKeyPair, generateAccessKeyPair } from './auth.ts';
import { TaskMetricsSampler } from './cloudwatch-sampler.ts';
import { Clusters } from './clusters.ts';
import { type EcsLocalConfig, type EcsLocalOptions, parseConfig } from './config.ts';
import type { EcsContext } from './context.ts';
import { FaultState } from './faults.ts';
import { parsePolicyDocument } from './iam-policy.ts';
import { IamRoles, type ManagedPolicies } from './iam-roles.ts';
import { ImageResolver } from './image-map.ts';
import { MetadataEndpoint } from './metadata-endpoint.ts';
import { OrphanGuard } from './orphan-guard.ts';
import { ProcessRecords } from './process-records.ts';
import { S3Backend } from './s3-backend.ts';
import { S3Front } from './s3-front.ts';
import { SecretsManager } from './secrets-manager.ts';
import { createEcsServer } from './server.ts';
import { TaskCredentials } from './task-credentials.ts';
import { TaskDefinitions } from './task-definitions.ts';
import type { TaskRecord } from './task-record.ts';
import { TaskEngine } from './tasks.ts';
import { Throttle } from './throttle.ts';
import { TaskVolumes } from './volumes.ts';

export { type AdminRequest, adminFetch } from './admin-client.ts';
export { type AccessKeyPair, generateAccessKeyPair, Sha256 } from './auth.ts';
export type { EcsLocalConfig, EcsLocalOptions } from './config.ts';
export {
  DEFAULT_PROXY_SECURITY_GROUP,
  DEFAULT_TOOLS_SECURITY_GROUP,
  type IpPermission,
  isLoopbackHost,
  parseConfig,
} from './config.ts';
export { ecsLocalEnvSchema, optionsFromEnv } from './env-settings.ts';
export type { Faults } from './faults.ts';
export { ConfigError };

export interface EcsLocal {
  /** e.g. http://127.0.0.1:4566 — the SDK `endpoint` for both ECS and EC2. */
  url: string;
  port: number;
  config: EcsLocalConfig;
  /** The key pair every ECS, EC2 and admin request must be SigV4-signed with. */
  credentials: AccessKeyPair;
  /** Creates or replaces a Secrets Manager secret (as PUT /_ecs-local/secrets/<name>); its ARN. */
  putSecret(name: string, secretString: string): { arn: string; name: string; versionId: string };
  /** Turns throttling on or off at run time. */
  setThrottling(enabled: boolean): void;
  /** Pids of every container process started so far, with whether each still runs. */
  processes(): { pid: number; running: boolean }[];
  /** Task processes an earlier ecs-local on the same `stateDir` left running, killed at start. */
  reaped: { pids: number[]; taskArn: string; container: string }[];
  /** Stops every container process (SIGTERM, then SIGKILL after `graceMs`), then the server. */
  close(graceMs?: number): Promise<void>;
}

export interface StartOptions extends EcsLocalOptions {
  logger?: Logger;
}

/** A task's role: RunTask's override, else its task definition's. */
function taskRoleArn(task: TaskRecord): string | undefined {
  const role = task.overrides.taskRoleArn ?? task.definition.body.taskRoleArn;
  return typeof role === 'string' ? role : undefined;
}

function managedPolicies(config: EcsLocalConfig): ManagedPolicies {
  const map: ManagedPolicies = new Map();
  for (const p of config.managedPolicies) {
    const parsed = parsePolicyDocument(p.document);
    if (!parsed.ok)
      throw new ConfigError('ecs-local options', [`managedPolicies.${p.name}: ${parsed.message}`]);
    map.set(`arn:aws:iam::${config.accountId}:policy/${p.name}`, parsed.doc);
  }
  return map;
}

export async function startEcsLocal(options: StartOptions = {}): Promise<EcsLocal> {
  const { logger: givenLogger, ...rest } = options;
  const config = parseConfig(rest);
  const credentials = config.credentials ?? generateAccessKeyPair();
  const logger = givenLogger ?? pino({ level: 'silent' });
  const arns = new Arns(config.region, config.accountId);
  const faults = new FaultState(config.faults);
  // Before anything runs: what a crashed predecessor left must not keep its addresses.
  const records = config.stateDir ? new ProcessRecords(config.stateDir) : undefined;
  const reaped = (await records?.reapLeftovers()) ?? [];
  if (reaped.length > 0) {
    const pids = reaped.flatMap((r) => r.killed);
    logger.warn({ pids }, 'killed task processes left running by an earlier ecs-local');
  }
  // Also before anything runs: the volumes of tasks a dead ecs-local left are removed.
  const volumes = new TaskVolumes(
    config.volumesDir ?? (config.stateDir ? join(config.stateDir, 'volumes') : undefined),
  );
  const iam = new IamRoles(config.accountId, config.stateDir, managedPolicies(config));
  const guard = new OrphanGuard();
  // Reads the engine's tasks only when its timer fires; told (wake) when a container starts.
  const metrics = new TaskMetricsSampler({
    tasks: { all: () => engine.all() },
    periodMs: config.metricsPeriodMs,
  });
  let baseUrl = '';
  const taskCredentials = new TaskCredentials({
    baseUrl: () => baseUrl,
    isLive: (arn) => {
      const status = engine.get(taskIdFrom(arn))?.lastStatus;
      // Containers still run (and drain) until DEPROVISIONING.
      return status !== undefined && status !== 'DEPROVISIONING' && status !== 'STOPPED';
    },
    ttlMs: config.credentialsTtlMs,
  });
  const engine = new TaskEngine({
    taskEnv: (task) => taskCredentials.envFor(task.arn, taskRoleArn(task)),
    config,
    arns,
    addresses: new AddressPool(config.addressOctet),
    images: new ImageResolver(config.imageMapPath, config.imageMap),
    faults,
    volumes,
    metadataBaseUrl: () => baseUrl,
    lifetimes: {
      started: (p, task, container) => {
        guard.watch(p.pid);
        metrics.wake();
        records?.add({
          pid: p.pid,
          runtimeId: container.runtimeId,
          taskArn: task.arn,
          container: container.name,
        });
      },
      ended: (p) => {
        guard.forget(p.pid);
        records?.remove(p.pid);
      },
    },
  });
  const ctx: EcsContext = {
    config,
    arns,
    clusters: new Clusters(arns, config.clusters),
    taskDefinitions: new TaskDefinitions(arns),
    engine,
    faults,
    iam,
    clientTokens: new Map(),
  };
  const throttle = new Throttle(config.throttling);
  const secrets = new SecretsManager(config.region, config.accountId, config.secrets);
  let listeningPort = 0;
  const s3 = config.s3
    ? new S3Front({
        backend: await S3Backend.start(
          config.s3.directory,
          config.s3.buckets.map((b) => b.name),
        ),
        buckets: config.s3.buckets,
        admin: credentials,
        sessions: taskCredentials,
        iam,
        faults,
        accountId: config.accountId,
        logger,
      })
    : undefined;
  const server = createEcsServer({
    iam,
    taskCredentials,
    s3,
    ctx,
    throttle,
    metadata: new MetadataEndpoint(engine),
    secrets,
    metrics,
    logger,
    credentials,
    port: () => listeningPort,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(config.port, config.host, () => resolve());
    });
  } catch (err) {
    metrics.close();
    await guard.close();
    volumes.close([]);
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  listeningPort = port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  baseUrl = `http://${host}:${port}`;
  logger.info({ url: baseUrl }, 'ecs-local listening');
  let closing: Promise<void> | undefined;
  return {
    url: baseUrl,
    port,
    config,
    credentials,
    putSecret: (name, secretString) => secrets.put(name, secretString),
    setThrottling: (enabled) => {
      throttle.enabled = enabled;
    },
    processes: () => engine.processes().map((p) => ({ pid: p.pid, running: p.running })),
    reaped: reaped.map((r) => ({
      pids: r.killed,
      taskArn: r.record.taskArn,
      container: r.record.container,
    })),
    close: (graceMs = 2000) => {
      closing ??= (async () => {
        metrics.close();
        await engine.close(graceMs);
        await guard.close();
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      })();
      return closing;
    },
  };
}
