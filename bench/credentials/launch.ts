// What database credentials cost a launch, and whether they leak roles.
//
// 1. write -> RunTask: the same tiny tool launched one at a time (so the path is
//    measured, not a queue), first with no Database at all, then with a
//    Database and a Dataset the user can read (each launch then makes the
//    subject's role, schema and memberships current and creates a login before
//    RunTask). Rounds alternate (without, with, without, with, ...; the Database
//    is deleted between rounds) so a drift of the machine hits both alike.
//    Prints p50/p95 of each, the ratio and the added ms (target: <= 20 ms added).
// 2. pg_roles: the number of roles in the cluster before and after 1,000
//    launch/stop cycles with credentials (BENCH_CREDENTIAL_CYCLES), once the
//    logins of the stopped launches are dropped (target: back to the start).
//    "Before" is counted after one warm-up launch: the user's permanent role and
//    schema are meant to stay.
// ecs-local runs in a child process (bench/controllers/ecs-local-child.lib.ts).
//   node bench/credentials/launch.ts
//   BENCH_LATENCY_SAMPLES=40 BENCH_CREDENTIAL_CYCLES=200 node bench/credentials/launch.ts
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { Registry } from 'prom-client';
import {
  createEcsDriver,
  createToolControllers,
  loadEcsConfig,
  type RunningControllers,
  startControllers,
} from '../../controllers/index.ts';
import type { ToolInstance } from '../../crds/index.ts';
import { type AccessKeyPair, generateAccessKeyPair } from '../../ecs-local/index.ts';
import {
  createPool,
  generateToolSecretKey,
  migrate,
  type ResourceStore,
} from '../../store/index.ts';
import { GATE_STUB_IMAGE, testImages } from '../../test/controllers/tiny-tool.ts';
import { pct } from '../controllers/diagnostics.lib.ts';
import { startBenchPostgres } from '../postgres.lib.ts';

/** Launches per condition, in ROUNDS alternating rounds. */
const SAMPLES = Number(process.env.BENCH_LATENCY_SAMPLES ?? 200);
const ROUNDS = Number(process.env.BENCH_LATENCY_ROUNDS ?? 4);
const CYCLES = Number(process.env.BENCH_CREDENTIAL_CYCLES ?? 1000);
/** Launch/stop cycles in flight at once (one instance each). */
const PARALLEL = Number(process.env.BENCH_CYCLE_PARALLEL ?? 20);
const NS = 'analyst';

function startEcsLocalChild(): Promise<{
  url: string;
  child: ChildProcess;
  credentials: AccessKeyPair;
}> {
  const credentials = generateAccessKeyPair();
  const options = { imageMap: testImages(), addressOctet: 42, throttling: false, credentials };
  const child = spawn(
    process.execPath,
    [
      '--disable-warning=ExperimentalWarning',
      join(import.meta.dirname, '..', 'controllers', 'ecs-local-child.lib.ts'),
      JSON.stringify(options),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += String(d);
      const m = /URL (\S+)/.exec(out);
      if (m) resolve({ url: m[1]!, child, credentials });
    });
    child.once('exit', (code) => reject(new Error(`ecs-local exited ${code}`)));
  });
}

/** A database owned by a non-superuser admin (CREATEROLE, pg_signal_backend), as on RDS, with one table. */
async function dataDatabase(
  superUrl: string,
): Promise<{ port: number; dbname: string; adminJson: string }> {
  const u = new URL(superUrl);
  const dbname = decodeURIComponent(u.pathname.slice(1));
  const admin = {
    username: `bench_admin_${randomBytes(4).toString('hex')}`,
    password: randomBytes(24).toString('base64url'),
  };
  const su = new pg.Client({ connectionString: superUrl });
  await su.connect();
  const { rows } = await su.query<{ sql: string }>(
    "select format('create role %I login createrole password %L', $1::text, $2::text) as sql",
    [admin.username, admin.password],
  );
  await su.query(rows[0]!.sql);
  await su.query(`grant pg_signal_backend to ${admin.username}`);
  await su.query(`alter database ${dbname} owner to ${admin.username}`);
  await su.end();
  const c = new pg.Client({
    host: u.hostname,
    port: Number(u.port),
    database: dbname,
    user: admin.username,
    password: admin.password,
  });
  await c.connect();
  await c.query(`create schema trade;
    create table trade.exports as select n as id, n * 1.5 as value from generate_series(1, 100) n;
    revoke create on schema public from public`);
  await c.end();
  return { port: Number(u.port), dbname, adminJson: JSON.stringify(admin) };
}

const sorted = (v: number[]) => [...v].sort((a, b) => a - b);

async function waitFor<T>(fn: () => Promise<T | undefined>, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function phaseOf(store: ResourceStore, name: string): Promise<string | undefined> {
  const ti = (await store.get('ToolInstance', NS, name)) as ToolInstance;
  return ti.status?.phase;
}

async function main(): Promise<void> {
  const server = await startBenchPostgres();
  const ecsLocal = await startEcsLocalChild();
  const pool = createPool(await server.createDatabase('store'), {
    max: 60,
    applicationName: 'berth-bench',
  });
  await migrate(pool);
  const data = await dataDatabase(await server.createDatabase('data'));
  const roleCount = async () =>
    Number((await pool.query('select count(*) as n from pg_roles')).rows[0].n);

  const registry = new Registry();
  const driver = createEcsDriver({
    config: loadEcsConfig({
      BERTH_ECS_ENDPOINT: ecsLocal.url,
      BERTH_ECS_ACCESS_KEY_ID: ecsLocal.credentials.accessKeyId,
      BERTH_ECS_SECRET_ACCESS_KEY: ecsLocal.credentials.secretAccessKey,
      BERTH_ECS_SUBNETS: 'subnet-0a1b2c3d4e5f60001',
      BERTH_ECS_SECURITY_GROUPS: 'sg-0a1b2c3d4e5f60001',
      BERTH_ECS_CLIENT_THROTTLE: 'off',
    }),
    registry,
  });
  // RunTask entered, by instance uid; and whether its environment carried credentials.
  const waiting = new Map<string, (at: number) => void>();
  let withDsn = 0;
  const original = driver.runTask.bind(driver);
  driver.runTask = (req) => {
    const at = performance.timeOrigin + performance.now();
    if (JSON.stringify(req).includes('DATABASE_DSN__')) withDsn++;
    waiting.get(req.clientToken.slice(0, 36))?.(at);
    return original(req);
  };
  const tools = createToolControllers({
    env: {
      ...process.env,
      BERTH_TOOL_SECRET_KEY: generateToolSecretKey(),
      BERTH_CREDENTIALS_KEY: generateToolSecretKey(),
      BENCH_DATASETS_ADMIN: data.adminJson,
      BERTH_CREDENTIALS_GC_INTERVAL_MS: '2000',
      BERTH_CREDENTIALS_GC_GRACE_MS: '0',
    },
    config: { toolStopTimeoutSeconds: 2, gateImage: GATE_STUB_IMAGE },
  });
  let manager: RunningControllers | undefined;
  try {
    manager = await startControllers({
      pool,
      driver,
      reconcilers: tools.reconcilers,
      runnables: tools.runnables,
      config: { resyncIntervalMs: 0, metricsPort: -1 },
      registry,
    });
    const store = manager.store;
    await store.create('ToolDefinition', {
      apiVersion: 'berth/v1alpha1',
      kind: 'ToolDefinition',
      metadata: { name: 'tiny' },
      spec: {
        displayName: 'tiny',
        image: 'berth/tiny:latest',
        port: 8080,
        sizes: { small: { cpu: 256, memory: 512 } },
        defaultSize: 'small',
        readiness: { path: '/healthz', timeoutSeconds: 2, periodSeconds: 1 },
        spawnTimeout: '5m',
      },
    });
    await waitFor(
      async () => {
        const td = (await store.get('ToolDefinition', undefined, 'tiny')) as {
          status?: { taskDefinitionArn?: string };
        };
        return td.status?.taskDefinitionArn;
      },
      60_000,
      'the task definition',
    );

    const databaseOn = async () => {
      await store.apply(
        'Database',
        {
          apiVersion: 'berth/v1alpha1',
          kind: 'Database',
          metadata: { name: 'data' },
          spec: {
            host: '127.0.0.1',
            port: data.port,
            dbname: data.dbname,
            sslmode: 'disable',
            adminCredentials: { fromEnv: 'BENCH_DATASETS_ADMIN' },
          },
        },
        { fieldManager: 'bench' },
      );
      await store.apply(
        'Dataset',
        {
          apiVersion: 'berth/v1alpha1',
          kind: 'Dataset',
          metadata: { name: 'exports' },
          spec: {
            title: 'Exports',
            tables: [{ database: 'data', schema: 'trade', table: 'exports' }],
            access: { type: 'everyone' },
          },
        },
        { fieldManager: 'bench' },
      );
      await waitFor(
        async () => {
          const ds = (await store.get('Dataset', undefined, 'exports')) as {
            status?: { conditions?: { type: string; status: string }[] };
          };
          return ds.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')
            ? true
            : undefined;
        },
        60_000,
        'the Dataset Ready',
      );
    };
    const databaseOff = async () => {
      await store.delete('Database', undefined, 'data');
      await waitFor(
        async () => ((await store.list('Database', {})).items.length === 0 ? true : undefined),
        60_000,
        'the Database gone',
      );
    };

    /** One launch measured: write Running -> RunTask entered; then the instance is stopped. */
    let serial = 0;
    const launchOnce = async (): Promise<number> => {
      const name = `l-${serial++}`;
      const ti = await store.create('ToolInstance', {
        apiVersion: 'berth/v1alpha1',
        kind: 'ToolInstance',
        metadata: { name, namespace: NS },
        spec: { toolRef: 'tiny', state: 'Stopped' },
      });
      await waitFor(
        async () => ((await phaseOf(store, name)) === 'Stopped' ? true : undefined),
        30_000,
        `${name} seen`,
      );
      const uid = ti.metadata.uid!;
      const entered = new Promise<number>((r) => waiting.set(uid, r));
      const w = performance.timeOrigin + performance.now();
      await store.patch('ToolInstance', NS, name, { spec: { state: 'Running' } });
      const at = await entered;
      waiting.delete(uid);
      await waitFor(
        async () => ((await phaseOf(store, name)) === 'Ready' ? true : undefined),
        60_000,
        `${name} Ready`,
      );
      await store.delete('ToolInstance', NS, name);
      return at - w;
    };

    // Warm-up of both paths (pools, prepared plans, the user's permanent role).
    await launchOnce();
    await databaseOn();
    await launchOnce();
    const lat = { without: [] as number[], with: [] as number[] };
    const per = Math.max(1, Math.round(SAMPLES / (ROUNDS / 2)));
    for (let round = 0; round < ROUNDS; round++) {
      const withCreds = round % 2 === 1;
      if (withCreds) await databaseOn();
      else await databaseOff();
      // Not measured: the first launch after the switch (a new admin pool, the subject's grants).
      await launchOnce();
      for (let i = 0; i < per; i++) lat[withCreds ? 'with' : 'without'].push(await launchOnce());
    }
    const a = sorted(lat.without);
    const b = sorted(lat.with);
    const added50 = pct(b, 50) - pct(a, 50);
    console.log(
      `write -> RunTask without credentials (no Database), ${a.length} launches: p50 ${pct(a, 50).toFixed(1)} ms, p95 ${pct(a, 95).toFixed(1)} ms`,
    );
    console.log(
      `write -> RunTask with credentials (1 Database, 1 Dataset), ${b.length} launches: p50 ${pct(b, 50).toFixed(1)} ms, p95 ${pct(b, 95).toFixed(1)} ms (${withDsn} RunTask calls carried DATABASE_DSN__)`,
    );
    console.log(
      `with / without: p50 ${(pct(b, 50) / pct(a, 50)).toFixed(2)} x, added ${added50.toFixed(1)} ms (target <= 20 ms) ${added50 <= 20 ? 'OK' : 'ABOVE TARGET'}; p95 added ${(pct(b, 95) - pct(a, 95)).toFixed(1)} ms`,
    );

    // ---- 2. roles after CYCLES launch/stop cycles ----
    await databaseOn();
    // The per-launch logins (names.ts: berth_<installation>_l_<uid>_<attempt>).
    const logins = async () =>
      Number(
        (
          await pool.query(
            "select count(*) as n from pg_roles where rolname ~ '^berth_[0-9a-f]+_l_'",
          )
        ).rows[0].n,
      );
    await waitFor(
      async () => ((await logins()) === 0 ? true : undefined),
      180_000,
      'the logins of the latency launches dropped',
    );
    const before = await roleCount();
    const t0 = Date.now();
    let done = 0;
    await Promise.all(
      Array.from({ length: PARALLEL }, async (_, k) => {
        const name = `cycle-${k}`;
        await store.create('ToolInstance', {
          apiVersion: 'berth/v1alpha1',
          kind: 'ToolInstance',
          metadata: { name, namespace: NS },
          spec: { toolRef: 'tiny', state: 'Stopped' },
        });
        while (done < CYCLES) {
          done++;
          await store.patch('ToolInstance', NS, name, { spec: { state: 'Running' } });
          await waitFor(
            async () => ((await phaseOf(store, name)) === 'Ready' ? true : undefined),
            120_000,
            `${name} Ready`,
          );
          await store.patch('ToolInstance', NS, name, { spec: { state: 'Stopped' } });
          await waitFor(
            async () => ((await phaseOf(store, name)) === 'Stopped' ? true : undefined),
            120_000,
            `${name} Stopped`,
          );
        }
      }),
    );
    const took = (Date.now() - t0) / 1000;
    const right = await roleCount();
    let after = right;
    const settle = Date.now();
    while (after > before && Date.now() - settle < 180_000) {
      await new Promise((r) => setTimeout(r, 1000));
      after = await roleCount();
    }
    console.log(
      `pg_roles: ${before} before ${done} launch/stop cycles with credentials (${took.toFixed(0)} s, ${PARALLEL} at once), ${right} right after the last stop, ${after} after ${((Date.now() - settle) / 1000).toFixed(0)} s more (target: ${before}) ${after === before ? 'OK' : 'LEAKED'}`,
    );
  } finally {
    await manager?.close().catch(() => {});
    driver.close();
    ecsLocal.child.kill('SIGTERM');
    await new Promise((r) => ecsLocal.child.once('exit', r));
    await pool.end();
    await server.close();
  }
}

await main();
