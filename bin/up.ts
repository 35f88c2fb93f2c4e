// `berth up` (what `make run` runs): PostgreSQL (DATABASE_URL, or an embedded one
// with data in <repo>/.data/postgres), migrations, ecs-local (unless
// BERTH_ECS_ENDPOINT points elsewhere) with the examples' image map and users'
// files (S3 and IAM on ecs-local, the bucket berth-files, data under
// <BERTH_DATA_DIR>/s3: local-files.ts), the controllers, the API, and an admin token in the CLI's config so that
// `bin/berth get td` works with no extra step. The API's and the controllers'
// store is one, whose writes enqueue reconciles in their own transaction.
import { join } from 'node:path';
import { z } from 'zod';
import {
  ConfigError,
  loadApiConfig,
  publicOrigin,
  type RunningApi,
  startApi,
} from '../api/index.ts';
import { loadConfig, updateConfig } from '../cli/index.ts';
import { reconcileOnWrite } from '../controllers/index.ts';
import {
  type EcsLocal,
  generateAccessKeyPair,
  optionsFromEnv,
  startEcsLocal,
} from '../ecs-local/index.ts';
import { type RunningProxy, startProxy } from '../proxy/index.ts';
import { integer, loadSettings, setting } from '../settings/index.ts';
import {
  createPool,
  migrate,
  type Pool,
  ResourceStore,
  redactUrl,
  toolSecretKeySchema,
} from '../store/index.ts';
import { type ControllerStack, startControllerStack } from './controller.ts';
import { driverKeyEnv, ecsLocalKeyPath, writeEcsLocalKey } from './ecs-local-key.ts';
import {
  applyLocalDatasets,
  DATASETS_ADMIN_ENV,
  ensureLocalDatasets,
  LOCAL_DATASETS_DB,
  localDatasetsAdmin,
} from './local-datasets.ts';
import {
  ECS_LOCAL_DEFAULT_PORT,
  ECS_LOCAL_DEFAULTS,
  ensureExampleQuotas,
  localCredentialsKey,
  localToolSecretKey,
} from './local-defaults.ts';
import { LOCAL_FILES_BUCKET, localFilesEnv, localS3Options, uiOrigins } from './local-files.ts';
import {
  findPrometheus,
  type LocalPrometheus,
  localSdToken,
  prometheusDir,
  startLocalPrometheus,
} from './local-prometheus.ts';
import { createLogger, loadLogSettings, logStream } from './log.ts';
import { onShutdown } from './shutdown.ts';
import { type SupervisedPostgres, startSupervisedPostgres } from './supervised-postgres.ts';

const root = join(import.meta.dirname, '..');

/** What `berth up` reads besides each component's own settings (keys are the variables). */
export const upConfigSchema = z.object({
  BERTH_PG_PORT: setting(integer(1, 65535).default(54329), {
    env: 'BERTH_PG_PORT',
    description: 'Port of the embedded PostgreSQL (not used when DATABASE_URL is set).',
  }),
  BERTH_DATA_DIR: setting(z.string().min(1).default(join(root, '.data')), {
    env: 'BERTH_DATA_DIR',
    shownDefault: '`.data/` in the clone',
    shownValue: 'a folder path',
    description:
      "Where the embedded PostgreSQL keeps its files (in `postgres/`), ecs-local its state (`ecs-local/`) and S3 its objects, the users' files (`s3/`).",
  }),
  ECS_LOCAL_PORT: setting(integer(0, 65535).default(ECS_LOCAL_DEFAULT_PORT), {
    env: 'ECS_LOCAL_PORT',
    description: "ecs-local's port, when `berth up` starts it (BERTH_ECS_ENDPOINT not set).",
  }),
  BERTH_PROMETHEUS_PORT: setting(integer(1, 65535).default(9095), {
    env: 'BERTH_PROMETHEUS_PORT',
    description:
      'Port of the Prometheus `berth up` starts when a `prometheus` binary is found (PROMETHEUS_PATH, else PATH) and BERTH_PROMETHEUS_URL is not set.',
  }),
  ECS_LOCAL_IMAGE_MAP: setting(
    z
      .string()
      .min(1)
      .default(join(root, 'examples', 'demo', 'images.yaml')),
    {
      env: 'ECS_LOCAL_IMAGE_MAP',
      shownDefault: '`examples/demo/images.yaml`',
      shownValue: 'a file path',
      description: "ecs-local's image map, when `berth up` starts it.",
    },
  ),
});

/**
 * `make run` signs people in with the development sign-in (local users, no
 * identity provider) unless BERTH_SIGN_IN says otherwise. The API refuses it
 * when NODE_ENV or BERTH_ENV is production.
 */
function devSignInDefaults(e: NodeJS.ProcessEnv): { mode?: 'dev'; devUsers?: string } {
  if (e.BERTH_SIGN_IN) return {};
  // analyst1 is in `analysts`, the group of the example Dataset company-register.
  return {
    mode: 'dev',
    ...(e.BERTH_DEV_USERS ? {} : { devUsers: 'dev,analyst1:user:analysts,admin:admin' }),
  };
}

function fail(message: string): never {
  console.error(`berth up: ${message}`);
  process.exit(2);
}

/** Makes sure the CLI config holds a token that works against this database, and this server. */
async function ensureCliAccess(api: RunningApi): Promise<void> {
  const created = await api.identity.bootstrapAdmin();
  if (created) {
    const path = await updateConfig({ server: api.url, token: created });
    console.log(`Created the admin token (shown once, saved to ${path}):`);
    console.log(`  ${created}`);
    return;
  }
  // The file's own values, not BERTH_TOKEN/BERTH_SERVER overrides.
  const file = await loadConfig({ ...process.env, BERTH_TOKEN: '', BERTH_SERVER: '' });
  const principal = file.token ? await api.identity.verifyToken(file.token) : undefined;
  if (!principal) {
    const { token } = await api.identity.createToken({
      user: 'admin',
      admin: true,
      description: 'berth up: CLI config token',
    });
    const path = await updateConfig({ server: api.url, token });
    const why = file.token ? 'was not valid for this database' : 'was missing';
    console.log(`The CLI token in ${path} ${why}; wrote a fresh admin token there.`);
    return;
  }
  if (file.server !== api.url) {
    const path = await updateConfig({ server: api.url });
    console.log(`Pointed the CLI config (${path}) at ${api.url}.`);
  }
}

export async function runUp(): Promise<void> {
  const logSettings = loadLogSettings();
  if (typeof logSettings === 'string') fail(logSettings);
  const stream = logStream(logSettings);
  const log = createLogger(logSettings, stream);
  let env: { data: z.output<typeof upConfigSchema> };
  try {
    env = { data: loadSettings(upConfigSchema, process.env, { component: 'berth up' }) };
    loadApiConfig();
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message);
    throw err;
  }

  let db: SupervisedPostgres | undefined;
  let url = process.env.DATABASE_URL;
  if (!url) {
    const dataDir = join(env.data.BERTH_DATA_DIR, 'postgres');
    try {
      db = await startSupervisedPostgres({ dataDir, port: env.data.BERTH_PG_PORT }, log, (why) => {
        log.error({ why }, 'stopping berth: its database is gone');
        process.kill(process.pid, 'SIGTERM'); // the ordered stop of onShutdown
      });
    } catch (err) {
      fail(
        `could not start the embedded PostgreSQL on port ${env.data.BERTH_PG_PORT} with data in ${dataDir}: ${(err as Error).message}. Is another berth running? Set BERTH_PG_PORT or DATABASE_URL.`,
      );
    }
    url = db.url;
    log.info(
      { cluster: db.clusterDir, port: env.data.BERTH_PG_PORT },
      'embedded PostgreSQL started',
    );
  }

  let pool: Pool | undefined;
  let api: RunningApi | undefined;
  let ecsLocal: EcsLocal | undefined;
  let controllers: ControllerStack | undefined;
  let store: ResourceStore | undefined;
  let proxy: RunningProxy | undefined;
  let prometheus: LocalPrometheus | undefined;
  // Users of a part stop before it: PostgreSQL last, so nothing meets a closed database.
  const stop = async () => {
    await proxy?.close();
    await prometheus?.stop();
    await api?.close();
    await controllers?.close();
    await ecsLocal?.close();
    await store?.close();
    await pool?.end();
    await db?.stop();
  };
  try {
    pool = createPool(url, { applicationName: 'berth-up', max: 40 });
    const applied = await migrate(pool);
    log.info(
      {
        database: redactUrl(url),
        applied: applied.filter((m) => m.appliedNow).map((m) => m.version),
      },
      'database migrated',
    );
    // The key of the tool secrets, shared by the controllers and the proxy: the
    // environment's, else the one kept in the data folder.
    const toolSecretKey =
      process.env.BERTH_TOOL_SECRET_KEY || localToolSecretKey(env.data.BERTH_DATA_DIR);
    let controllerEnv: NodeJS.ProcessEnv = {
      ...process.env,
      BERTH_TOOL_SECRET_KEY: toolSecretKey,
      // Database logins' passwords derive from it: kept like the tool secret key.
      BERTH_CREDENTIALS_KEY:
        process.env.BERTH_CREDENTIALS_KEY || localCredentialsKey(env.data.BERTH_DATA_DIR),
    };
    // Prometheus for the metrics sidecars, when installed and none is named: the
    // controllers read sidecar tools' CPU from it, the API serves it discovery.
    const prometheusBinary = process.env.BERTH_PROMETHEUS_URL
      ? undefined
      : findPrometheus(process.env);
    const sdToken = prometheusBinary
      ? process.env.BERTH_PROMETHEUS_SD_TOKEN ||
        localSdToken(prometheusDir(env.data.BERTH_DATA_DIR))
      : undefined;
    if (prometheusBinary) {
      controllerEnv.BERTH_PROMETHEUS_URL = `http://127.0.0.1:${env.data.BERTH_PROMETHEUS_PORT}`;
    } else if (!process.env.BERTH_PROMETHEUS_URL) {
      log.info(
        'no prometheus binary (`make prometheus` installs it, or set PROMETHEUS_PATH): the CPU of tools with a metrics sidecar comes from ECS task stats',
      );
    }
    if (db) {
      const admin = localDatasetsAdmin(env.data.BERTH_DATA_DIR);
      const tables = await ensureLocalDatasets(url, admin);
      if (tables.length) log.info({ tables }, `created the sample tables in ${LOCAL_DATASETS_DB}`);
      controllerEnv[DATASETS_ADMIN_ENV] = JSON.stringify(admin);
    } else {
      log.info(
        `DATABASE_URL is set: no local ${LOCAL_DATASETS_DB} database or example Datasets (add Database objects of your own)`,
      );
    }
    if (!process.env.BERTH_ECS_ENDPOINT) {
      const fromEnv = optionsFromEnv(process.env);
      // Only berth's own parts hold it: a fresh pair each start (or the one ECS_LOCAL_* give).
      const credentials = fromEnv.credentials ?? generateAccessKeyPair();
      // Users' files: S3 on ecs-local (unless ECS_LOCAL_S3_DIR says where), one bucket
      // whose CORS admits the web UI, so the Files page talks to it directly.
      const bucket = process.env.BERTH_FILES_BUCKET || LOCAL_FILES_BUCKET;
      const s3 =
        fromEnv.s3 ??
        localS3Options(
          env.data.BERTH_DATA_DIR,
          bucket,
          uiOrigins(process.env, devSignInDefaults(process.env)),
        );
      try {
        ecsLocal = await startEcsLocal({
          // Process records here let the next start kill tasks a crashed berth up left running.
          stateDir: join(env.data.BERTH_DATA_DIR, 'ecs-local'),
          ...fromEnv,
          s3,
          credentials,
          port: env.data.ECS_LOCAL_PORT,
          imageMapPath: env.data.ECS_LOCAL_IMAGE_MAP,
          // Its errors only: up's own line says it started.
          logger: log.child({ component: 'ecs-local' }, { level: 'warn' }),
        });
        for (const r of ecsLocal.reaped) {
          log.warn(r, 'killed a task process an earlier berth up left running');
        }
      } catch (err) {
        if ((err as { code?: string }).code === 'EADDRINUSE') {
          throw new Error(
            `ecs-local's port ${env.data.ECS_LOCAL_PORT} is in use; set ECS_LOCAL_PORT (or stop the other ecs-local)`,
          );
        }
        throw err;
      }
      // berth doctor beside this berth up signs with it too.
      await writeEcsLocalKey(
        ecsLocalKeyPath({ BERTH_DATA_DIR: env.data.BERTH_DATA_DIR }),
        credentials,
      );
      const files = localFilesEnv({
        bucket: s3.buckets?.[0]?.name ?? bucket,
        url: ecsLocal.url,
        region: ecsLocal.config.region,
        credentials,
      });
      // Files go to the S3 this ecs-local serves, signed with its (fresh) key pair.
      controllerEnv = {
        ...ECS_LOCAL_DEFAULTS,
        ...controllerEnv,
        BERTH_ECS_ENDPOINT: ecsLocal.url,
        ...driverKeyEnv(credentials),
        ...files.controllers,
      };
      // The API (started below, in this process) reads its settings from the environment.
      Object.assign(process.env, files.api);
      log.info(
        {
          url: ecsLocal.url,
          imageMap: env.data.ECS_LOCAL_IMAGE_MAP,
          files: { bucket: files.api.BERTH_FILES_BUCKET, s3: s3.directory },
        },
        'ecs-local started',
      );
    }
    controllers = await startControllerStack({
      pool,
      env: controllerEnv,
      log: log.child({ component: 'controller' }),
    });
    const queue = controllers.controllers.queue;
    store = new ResourceStore(pool, {
      onWrite: reconcileOnWrite(queue),
      onBackgroundError: (err, what) => log.error({ err, what }, 'store background work failed'),
    });
    const quotas = await ensureExampleQuotas(store);
    if (quotas.length) log.info({ quotas }, 'created the example Quotas (examples/quota.yaml)');
    if (db) {
      const datasets = await applyLocalDatasets(store, env.data.BERTH_PG_PORT);
      if (datasets.length)
        log.info({ datasets }, 'created the example Datasets (examples/datasets.yaml)');
    }
    try {
      api = await startApi({
        pool,
        store,
        signIn: devSignInDefaults(process.env),
        logStream: stream,
        ...(sdToken ? { config: { prometheusSdToken: sdToken } } : {}),
      });
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'EADDRINUSE')
        throw new Error('the API port is in use; set BERTH_API_PORT (or stop the other server)');
      throw err;
    }
    await ensureCliAccess(api);
    if (prometheusBinary && sdToken) {
      prometheus = await startLocalPrometheus({
        binary: prometheusBinary,
        dataDir: env.data.BERTH_DATA_DIR,
        port: env.data.BERTH_PROMETHEUS_PORT,
        apiUrl: api.url,
        sdToken,
        log: log.child({ component: 'prometheus' }),
      }).catch((err: Error) => {
        throw new Error(
          `${err.message}\n(is port ${env.data.BERTH_PROMETHEUS_PORT} in use? set BERTH_PROMETHEUS_PORT)`,
        );
      });
    }
    // The proxy in front (BERTH_PROXY_PORT, 8000): tool hosts, and berth's own host forwarded to the API.
    try {
      proxy = await startProxy({
        pool,
        store,
        config: { apiUpstream: api.url, toolSecretKey: toolSecretKeySchema().parse(toolSecretKey) },
        log: log.child({ component: 'proxy' }),
      });
    } catch (err) {
      if ((err as { code?: string }).code === 'EADDRINUSE')
        throw new Error('the proxy port is in use; set BERTH_PROXY_PORT (or stop the other proxy)');
      throw err;
    }
  } catch (err) {
    await stop().catch(() => {});
    fail((err as Error).message);
  }
  onShutdown(log, stop);
  console.log(`berth API: ${api.url}`);
  console.log(
    `berth proxy: ${proxy.url} (tools at http://<tool>--<user>.${proxy.config.toolDomain ?? proxy.config.baseDomain}:${proxy.port}/)`,
  );
  if (ecsLocal) console.log(`ecs-local: ${ecsLocal.url}`);
  if (prometheus)
    console.log(`Prometheus: ${prometheus.url} (scrapes the tools' metrics sidecars)`);
  if (controllers.metrics) console.log(`controller metrics: ${controllers.metrics.url}/metrics`);
  console.log(
    'Try: bin/berth apply -f examples/ && bin/berth launch demo && bin/berth wait ti/demo --for=condition=Ready',
  );
  if (ecsLocal)
    console.log(
      'Your files: bin/berth launch demo-files (its home is your files); bin/berth files ls',
    );
  if (api.signIn?.mode === 'dev')
    console.log(
      `Web UI: ${publicOrigin(api.signIn)}/ (development sign-in as ${api.signIn.devUsers.map((u) => u.name).join(', ')}; served through the proxy)`,
    );
}
