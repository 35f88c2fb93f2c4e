// Shared setup of the reconciler tests: a fresh database, ecs-local with the demo
// and tiny tools, the ECS driver, and the real manager running the reconcilers,
// the poller and the GC. Helpers to create tools and instances and wait on them.
import { join } from 'node:path';
import { Registry } from 'prom-client';
import {
  type ControllerConfig,
  createEcsDriver,
  type EcsDriver,
  loadEcsConfig,
  type RunningControllers,
  startControllers,
} from '../../controllers/index.ts';
import {
  createToolControllers,
  type ReconcilerConfig,
  type ReconcilerHooks,
  type ToolControllers,
} from '../../controllers/reconcilers/index.ts';
import type { BerthObject, ToolDefinitionSpecInput, ToolInstance } from '../../crds/index.ts';
import { type EcsLocal, type EcsLocalOptions, startEcsLocal } from '../../ecs-local/index.ts';
import { createPool, type ResourceStore } from '../../store/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';
import { GATE_STUB_IMAGE, TINY_IMAGE, testImages } from './tiny-tool.ts';

export const examples = join(import.meta.dirname, '..', '..', 'examples');

export const FAST_CONTROLLER: Partial<ControllerConfig> = {
  concurrency: 50,
  resyncIntervalMs: 0,
  shutdownDeadlineMs: 3_000,
  pollIntervalMs: 1_000,
  backoffBaseMs: 5,
  backoffMaxMs: 2_000,
  conflictRequeueMs: 5,
  metricsPort: -1,
};

export const FAST_RECONCILERS: Partial<ReconcilerConfig> = {
  toolStopTimeoutSeconds: 2,
  pollIntervalMs: 250,
  readyPollIntervalMs: 1_000,
  gcIntervalMs: 60_000,
  gcGraceMs: 60_000,
};

export interface Env {
  db: TestDatabase;
  ecsLocal: EcsLocal;
  driver: EcsDriver;
  /** The first driver's metrics (berth_ecs_calls_total, berth_ecs_throttled_total). */
  driverRegistry: Registry;
  tools: ToolControllers;
  managers: RunningControllers[];
  store: ResourceStore;
  startManager(opts?: ManagerOptions): Promise<RunningControllers>;
  close(): Promise<void>;
}

export interface ManagerOptions {
  reconcilers?: Partial<ReconcilerConfig>;
  controller?: Partial<ControllerConfig>;
  hooks?: ReconcilerHooks;
  /** Wraps each reconciler (e.g. to record overlapping reconciles). */
  wrap?: (
    kind: string,
    r: ToolControllers['reconcilers']['ToolInstance'],
  ) => ToolControllers['reconcilers']['ToolInstance'];
  /** A separate pool and ECS driver (a second replica). */
  ownPool?: boolean;
  /** The controllers' environment (default process.env): e.g. a Database's admin credentials. */
  env?: Record<string, string | undefined>;
  /** Where the manager logs (default: nowhere, or stderr with BERTH_TEST_LOG=1). */
  log?: Parameters<typeof startControllers>[0]['log'];
}

/** BERTH_TEST_LOG=1: the controllers' warnings and errors on stderr (chasing a flaky test). */
const stderrLog = {
  info() {},
  debug() {},
  warn: (o: object, msg: string) => console.error('WARN', msg, brief(o)),
  error: (o: object, msg: string) => console.error('ERROR', msg, brief(o)),
};

function brief(o: object): string {
  return JSON.stringify(o, (_k, v) => (v instanceof Error ? v.message : v)).slice(0, 400);
}

export async function startEnv(opts: {
  addressOctet: number;
  ecsThrottling?: boolean;
  manager?: ManagerOptions;
  /** Dozens of tasks at once: the tiny tool stands in for the gate (tiny-tool.ts). */
  gateStub?: boolean;
  /** More ecs-local image map entries. */
  images?: Record<string, { command: string | string[]; args?: string[] }>;
  /** ecs-local's VPC (its security groups and their rules). */
  network?: EcsLocalOptions['network'];
  /** BERTH_ECS_* settings of the driver over the defaults (e.g. its security groups). */
  driverEnv?: Record<string, string>;
}): Promise<Env> {
  const db = await freshDatabase();
  const ecsLocal = await startEcsLocal({
    port: 0,
    imageMapPath: join(examples, 'demo', 'images.yaml'),
    imageMap: { ...testImages(), ...opts.images },
    addressOctet: opts.addressOctet,
    throttling: opts.ecsThrottling ?? false,
    ...(opts.network ? { network: opts.network } : {}),
  });
  const registry = new Registry();
  const driver = makeDriver(ecsLocal, opts.driverEnv ?? {}, registry);
  const drivers: EcsDriver[] = [driver];
  const managers: RunningControllers[] = [];
  const pools: TestDatabase['pool'][] = [];
  let tools: ToolControllers | undefined;
  const env: Env = {
    db,
    ecsLocal,
    driver,
    driverRegistry: registry,
    get tools() {
      return tools!;
    },
    managers,
    get store() {
      return managers[0]!.store;
    },
    async startManager(m: ManagerOptions = {}) {
      const t = createToolControllers({
        config: {
          ...FAST_RECONCILERS,
          ...(opts.gateStub ? { gateImage: GATE_STUB_IMAGE } : {}),
          ...m.reconcilers,
        },
        hooks: m.hooks,
        ...(m.env ? { env: m.env } : {}),
      });
      tools ??= t;
      let pool = db.pool;
      let replicaDriver = driver;
      if (m.ownPool) {
        pool = createPool(db.url, { max: 20, applicationName: 'berth-test-replica' });
        pools.push(pool);
        replicaDriver = makeDriver(ecsLocal);
        drivers.push(replicaDriver);
      }
      const wrap = m.wrap ?? ((_k, r) => r);
      const running = await startControllers({
        pool,
        driver: replicaDriver,
        reconcilers: {
          ToolDefinition: wrap('ToolDefinition', t.reconcilers.ToolDefinition),
          ToolInstance: wrap('ToolInstance', t.reconcilers.ToolInstance),
          Database: wrap('Database', t.reconcilers.Database),
          Dataset: wrap('Dataset', t.reconcilers.Dataset),
        },
        runnables: t.runnables,
        config: { ...FAST_CONTROLLER, ...m.controller },
        ...(m.log ? { log: m.log } : process.env.BERTH_TEST_LOG ? { log: stderrLog } : {}),
      });
      managers.push(running);
      return running;
    },
    async close() {
      for (const m of managers) await m.close().catch(() => {});
      for (const p of pools) await p.end().catch(() => {});
      for (const d of drivers) d.close();
      await ecsLocal.close(500);
      await db.drop();
    },
  };
  await env.startManager(opts.manager);
  return env;
}

export function makeDriver(
  ecsLocal: EcsLocal,
  env: Record<string, string> = {},
  registry = new Registry(),
): EcsDriver {
  return createEcsDriver({
    config: loadEcsConfig({
      ...ecsLocalEnv(ecsLocal),
      BERTH_ECS_SUBNETS: 'subnet-0a1b2c3d4e5f60001',
      BERTH_ECS_SECURITY_GROUPS: 'sg-0a1b2c3d4e5f60001',
      ...env,
    }),
    registry,
  });
}

/** The tiny tool: answers 200 on every path, 1 MB a copy. */
export function tinySpec(extra: Partial<ToolDefinitionSpecInput> = {}): ToolDefinitionSpecInput {
  return {
    displayName: 'Tiny',
    image: TINY_IMAGE,
    port: 8080,
    sizes: { small: { cpu: 256, memory: 512 }, large: { cpu: 1024, memory: 2048 } },
    defaultSize: 'small',
    readiness: { path: '/healthz', timeoutSeconds: 1, periodSeconds: 1 },
    spawnTimeout: '30s',
    ...extra,
  };
}

export async function createTool(
  store: ResourceStore,
  name: string,
  spec: ToolDefinitionSpecInput,
): Promise<BerthObject> {
  return store.create('ToolDefinition', {
    apiVersion: 'berth/v1alpha1',
    kind: 'ToolDefinition',
    metadata: { name },
    spec,
  });
}

export async function createInstance(
  store: ResourceStore,
  namespace: string,
  name: string,
  toolRef: string,
  spec: Record<string, unknown> = {},
): Promise<BerthObject> {
  return store.create('ToolInstance', {
    apiVersion: 'berth/v1alpha1',
    kind: 'ToolInstance',
    metadata: { name, namespace },
    spec: { toolRef, state: 'Running', ...spec },
  });
}

export async function getInstance(
  store: ResourceStore,
  namespace: string,
  name: string,
): Promise<ToolInstance> {
  return (await store.get('ToolInstance', namespace, name)) as ToolInstance;
}

/** Waits for the instance to reach `phase`; fails with its status when it does not. */
export async function waitForPhase(
  store: ResourceStore,
  namespace: string,
  name: string,
  phase: string,
  timeoutMs = 15_000,
): Promise<ToolInstance> {
  let last: ToolInstance | undefined;
  try {
    return await waitFor(
      async () => {
        last = await getInstance(store, namespace, name).catch(() => undefined);
        return last?.status?.phase === phase ? last : undefined;
      },
      timeoutMs,
      `${namespace}/${name} to be ${phase}`,
      25,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; status: ${JSON.stringify(last?.status)}`);
  }
}

/** Waits until the instance is Ready on attempt `attempt` (a relaunch happened). */
export async function waitForReadyAttempt(
  store: ResourceStore,
  namespace: string,
  name: string,
  attempt: number,
  timeoutMs = 15_000,
): Promise<ToolInstance> {
  return waitFor(
    async () => {
      const ti = await getInstance(store, namespace, name);
      return ti.status?.phase === 'Ready' && ti.status.attempt === attempt ? ti : undefined;
    },
    timeoutMs,
    `${namespace}/${name} to be Ready on attempt ${attempt}`,
  );
}

export async function eventsFor(
  store: ResourceStore,
  namespace: string,
  name: string,
): Promise<Array<{ reason: string; type: string; message: string; count: number }>> {
  const list = await store.list('Event', { namespace });
  return list.items
    .filter((e) => (e as { involvedObject?: { name?: string } }).involvedObject?.name === name)
    .map((e) => e as unknown as { reason: string; type: string; message: string; count: number });
}

/** Tasks of this installation that ECS has not stopped (desiredStatus RUNNING). */
export async function liveTasks(driver: EcsDriver): Promise<string[]> {
  return driver.listTasks({ startedBy: driver.startedBy });
}

import { ecsLocalEnv } from '../support/ecs-local.ts';
import { waitFor } from '../support/wait.ts';

export { waitFor };
