// The real stack for the culling tests: a fresh database, ecs-local running the
// demo tool (its CloudWatch task metrics sampled every second), the controllers
// with the culler (its CPU from ECS task stats through the real CloudWatch SDK,
// as `berth controller` builds it) and the proxy, which records activity.
// `restartControllers()` closes the manager (its culler with it) and starts
// another, as a replaced controller process would.
import { join } from 'node:path';
import { type Culler, createCpuSources, createCuller } from '../../../controllers/culling/index.ts';
import {
  type EcsDriver,
  loadEcsConfig,
  type RunningControllers,
  startControllers,
} from '../../../controllers/index.ts';
import { createToolControllers } from '../../../controllers/reconcilers/index.ts';
import type { ToolDefinitionSpecInput } from '../../../crds/index.ts';
import { type EcsLocal, startEcsLocal } from '../../../ecs-local/index.ts';
import { type RunningProxy, startProxy } from '../../../proxy/index.ts';
import { Identity, ResourceStore } from '../../../store/index.ts';
import { freshDatabase, type TestDatabase } from '../../support/db.ts';
import { ecsLocalEnv } from '../../support/ecs-local.ts';
import {
  createInstance,
  examples,
  FAST_CONTROLLER,
  FAST_RECONCILERS,
  makeDriver,
} from '../reconcile-support.ts';

/** The culler's pass interval in these tests. */
export const CULL_INTERVAL_MS = 1000;

export interface CullingEnv {
  db: TestDatabase;
  ecsLocal: EcsLocal;
  driver: EcsDriver;
  /** The proxy's own store (it outlives a controllers restart). */
  store: ResourceStore;
  proxy: RunningProxy;
  /** alice's API token. */
  token: string;
  controllers: RunningControllers;
  culler: Culler;
  restartControllers(): Promise<void>;
  close(): Promise<void>;
}

export async function startCullingEnv(addressOctet: number): Promise<CullingEnv> {
  const db = await freshDatabase();
  const ecsLocal = await startEcsLocal({
    port: 0,
    imageMapPath: join(examples, 'demo', 'images.yaml'),
    addressOctet,
    throttling: false,
    metricsPeriodMs: 1000,
  });
  const driver = makeDriver(ecsLocal);
  const ecsConfig = loadEcsConfig({
    ...ecsLocalEnv(ecsLocal),
    BERTH_ECS_SUBNETS: 'subnet-0a1b2c3d4e5f60001',
    BERTH_ECS_SECURITY_GROUPS: 'sg-0a1b2c3d4e5f60001',
  });
  const sources = createCpuSources({ ecs: ecsConfig });
  const store = new ResourceStore(db.pool);
  const start = async () => {
    const tools = createToolControllers({ config: FAST_RECONCILERS });
    const culler = createCuller({ intervalMs: CULL_INTERVAL_MS, sources: sources.sources });
    const controllers = await startControllers({
      pool: db.pool,
      driver,
      reconcilers: tools.reconcilers,
      runnables: [...tools.runnables, culler],
      config: FAST_CONTROLLER,
    });
    return { controllers, culler };
  };
  let running = await start();
  const proxy = await startProxy({
    pool: db.pool,
    store,
    port: 0,
    // The proxy pings quiet WebSockets every 500 ms (and flags their activity as often).
    config: { baseDomain: 'localhost', activityFlushMs: 250, wsPingMs: 500 },
  });
  const token = (await new Identity(db.pool).createToken({ user: 'alice' })).token;
  const env: CullingEnv = {
    db,
    ecsLocal,
    driver,
    store,
    proxy,
    token,
    get controllers() {
      return running.controllers;
    },
    get culler() {
      return running.culler;
    },
    async restartControllers() {
      await running.controllers.close();
      running = await start();
    },
    async close() {
      await proxy.close().catch(() => {});
      await running.controllers.close().catch(() => {});
      sources.close();
      driver.close();
      await store.close().catch(() => {});
      await ecsLocal.close(500);
      await db.drop();
    },
  };
  return env;
}

/** The demo tool (examples/demo.yaml's image and readiness) under `name` with this idle policy. */
export function demoSpec(extra: Partial<ToolDefinitionSpecInput>): ToolDefinitionSpecInput {
  return {
    displayName: 'Demo',
    image: 'berth/demo:latest',
    port: 8888,
    sizes: { small: { cpu: 256, memory: 512 } },
    defaultSize: 'small',
    readiness: { path: '/healthz', timeoutSeconds: 2, periodSeconds: 1 },
    spawnTimeout: '1m',
    ...extra,
  };
}

/** Creates the ToolDefinition and alice's instance of it (named as the tool, as the proxy routes). */
export async function launch(env: CullingEnv, tool: string, spec: ToolDefinitionSpecInput) {
  await env.controllers.store.create('ToolDefinition', {
    apiVersion: 'berth/v1alpha1',
    kind: 'ToolDefinition',
    metadata: { name: tool },
    spec,
  });
  await createInstance(env.controllers.store, 'alice', tool, tool);
}
