// berth as an operator runs it, every part its own process: an embedded
// PostgreSQL the harness can restart, `bin/berth ecs-local` running the tiny tool,
// `bin/berth api`, N × `bin/berth controller` and (optionally) `bin/berth proxy`.
// Used by the heal tests (test/heal/) and the chaos benchmark (bench/chaos/):
// each part can be killed and started again alone, on the same address.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { generateAccessKeyPair } from '../../../ecs-local/index.ts';
import {
  createPool,
  freePort,
  generateToolSecretKey,
  Identity,
  type Pool,
} from '../../../store/index.ts';
import { GATE_STUB_IMAGE, testImages } from '../../controllers/tiny-tool.ts';
import { BerthApi } from './api-client.ts';
import { Daemon } from './daemon.ts';
import { EcsView } from './ecs-view.ts';
import { type RestartablePostgres, startRestartablePostgres } from './postgres.ts';
import { killTaskProcesses, RUN_VAR, START_VAR } from './task-processes.ts';

export const INSTALLATION_ID = 'heal';

export interface SystemOptions {
  /** Working folder: PostgreSQL's data, the image map, one log file per daemon start. */
  dir: string;
  /** Task addresses 127.<octet>.x.y (distinct from other tests running at once). */
  addressOctet: number;
  controllers: number;
  proxy: boolean;
  /** Extra environment for every controller (e.g. shorter GC intervals). */
  controllerEnv?: Record<string, string>;
  /** Users who get a token of their own (the admin gets one too). */
  users?: string[];
}

export interface System {
  runId: string;
  dir: string;
  logDir: string;
  pg: RestartablePostgres;
  ecsLocal: Daemon;
  /** How many times ecs-local has been started (its task processes carry the number). */
  ecsStarts(): number;
  api: Daemon;
  controllers: Daemon[];
  proxy: Daemon | undefined;
  ecsUrl: string;
  apiUrl: string;
  proxyUrl: string | undefined;
  proxyPort: number;
  /** The API as the admin. */
  admin: BerthApi;
  tokens: Record<string, string>;
  ecs: EcsView;
  /** Every daemon, for restarting those that died and for reading their logs. */
  daemons(): Daemon[];
  /** Stops everything and deletes the folder; `keepLogs` leaves `logDir` for reading. */
  close(keepLogs?: boolean): Promise<void>;
}

/** The image map ecs-local reads: the tiny tool, marked with this run and this ecs-local start. */
function writeImageMap(path: string, runId: string, start: number): void {
  const tiny = testImages()['berth/tiny:latest']!;
  writeFileSync(
    path,
    stringify({
      images: {
        'berth/tiny:latest': {
          ...tiny,
          env: { [RUN_VAR]: runId, [START_VAR]: String(start) },
        },
        [GATE_STUB_IMAGE]: {
          ...tiny,
          env: { [RUN_VAR]: runId, [START_VAR]: String(start) },
        },
      },
    }),
  );
}

export async function startSystem(o: SystemOptions): Promise<System> {
  const runId = `${process.pid}-${Date.now().toString(36)}`;
  const logDir = join(o.dir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const started: Daemon[] = [];
  let pool: Pool | undefined;
  let pg: RestartablePostgres | undefined;
  let ecs: EcsView | undefined;
  const cleanup = async () => {
    await Promise.all(started.map((d) => d.stop('SIGTERM', 10_000).catch(() => {})));
    killTaskProcesses(runId);
    ecs?.close();
    await pool?.end().catch(() => {});
    await pg?.destroy().catch(() => {});
  };
  try {
    pg = await startRestartablePostgres(join(o.dir, 'postgres'));
    const [ecsPort, apiPort, proxyPort] = [await freePort(), await freePort(), await freePort()];
    const ecsUrl = `http://127.0.0.1:${ecsPort}`;
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const imageMap = join(o.dir, 'images.yaml');
    let ecsStarts = 0;
    // The chaos writer flips one user's instances far faster than a person
    // launches: no launch rate limit here (test/security/quotas.test.ts tests it).
    const common = {
      DATABASE_URL: pg.url,
      LOG_LEVEL: 'info',
      BERTH_LAUNCH_RATE_LIMIT: '0',
      BERTH_TOOL_SECRET_KEY: process.env.BERTH_TOOL_SECRET_KEY || generateToolSecretKey(),
    };
    // One pair for every start of ecs-local, so the controllers keep access across its restarts.
    const key = generateAccessKeyPair();
    const ecsLocalKey = {
      ECS_LOCAL_ACCESS_KEY_ID: key.accessKeyId,
      ECS_LOCAL_SECRET_ACCESS_KEY: key.secretAccessKey,
    };

    const ecsLocal = new Daemon({
      name: 'ecs-local',
      args: ['ecs-local'],
      env: {
        ...ecsLocalKey,
        ECS_LOCAL_PORT: String(ecsPort),
        ECS_LOCAL_IMAGE_MAP: imageMap,
        ECS_LOCAL_ADDRESS_OCTET: String(o.addressOctet),
      },
      logDir,
      ready: /ecs-local listening on/,
      beforeStart: () => {
        ecsStarts += 1;
        writeImageMap(imageMap, runId, ecsStarts);
      },
    });
    started.push(ecsLocal);
    await ecsLocal.start();

    // The API migrates the database; the others start after it.
    const api = new Daemon({
      name: 'api',
      args: ['api'],
      env: { ...common, BERTH_API_PORT: String(apiPort) },
      logDir,
      ready: /"msg":"API listening"/,
    });
    started.push(api);
    await api.start();

    const controllerEnv = {
      ...common,
      BERTH_ECS_ENDPOINT: ecsUrl,
      BERTH_ECS_ACCESS_KEY_ID: key.accessKeyId,
      BERTH_ECS_SECRET_ACCESS_KEY: key.secretAccessKey,
      BERTH_ECS_SUBNETS: 'subnet-0a1b2c3d4e5f60001,subnet-0a1b2c3d4e5f60002',
      BERTH_ECS_SECURITY_GROUPS: 'sg-0a1b2c3d4e5f60001',
      BERTH_INSTALLATION_ID: INSTALLATION_ID,
      BERTH_CONTROLLER_METRICS_PORT: '-1',
      BERTH_PUBLIC_URL_TEMPLATE: `http://{tool}--{namespace}.localhost:${proxyPort}/`,
      // Hundreds of tasks: the tiny tool stands in for the gate (see tiny-tool.ts).
      BERTH_GATE_IMAGE: GATE_STUB_IMAGE,
      ...o.controllerEnv,
    };
    const controllers = Array.from(
      { length: o.controllers },
      (_, i) =>
        new Daemon({
          name: `controller-${i + 1}`,
          args: ['controller'],
          env: controllerEnv,
          logDir,
          ready: /"msg":"controller running"/,
        }),
    );
    started.push(...controllers);
    await Promise.all(controllers.map((c) => c.start()));

    let proxy: Daemon | undefined;
    if (o.proxy) {
      proxy = new Daemon({
        name: 'proxy',
        args: ['proxy'],
        env: {
          ...common,
          BERTH_PROXY_PORT: String(proxyPort),
          BERTH_BASE_DOMAIN: 'localhost',
          BERTH_PROXY_WORKERS: '1',
          BERTH_PROXY_API_UPSTREAM: apiUrl,
        },
        logDir,
        ready: /"msg":"proxy listening"/,
      });
      started.push(proxy);
      await proxy.start();
    }

    pool = createPool(pg.url, { max: 2, applicationName: 'berth-heal-harness' });
    const identity = new Identity(pool);
    const tokens: Record<string, string> = {
      admin: (await identity.createToken({ user: 'admin', admin: true })).token,
    };
    for (const user of o.users ?? []) tokens[user] = (await identity.createToken({ user })).token;
    await pool.end();
    pool = undefined;
    ecs = new EcsView(ecsUrl, key, INSTALLATION_ID);
    const view = ecs;
    const postgres = pg;
    return {
      runId,
      dir: o.dir,
      logDir,
      pg: postgres,
      ecsLocal,
      ecsStarts: () => ecsStarts,
      api,
      controllers,
      proxy,
      ecsUrl,
      apiUrl,
      proxyUrl: proxy ? `http://127.0.0.1:${proxyPort}` : undefined,
      proxyPort,
      admin: new BerthApi(() => apiUrl, tokens.admin!),
      tokens,
      ecs: view,
      daemons: () => [ecsLocal, api, ...controllers, ...(proxy ? [proxy] : [])],
      async close(keepLogs = false) {
        await cleanup();
        rmSync(keepLogs ? imageMap : o.dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
