// `berth doctor` beside `make run`: with no AWS settings it checks the local
// setup berth up runs (the API and its database, the CLI's token, ecs-local and
// the proxy) instead of asking for AWS settings nobody needs locally.
import { Registry } from 'prom-client';
import { request } from 'undici';
import { loadConfig } from '../cli/index.ts';
import { createEcsDriver, loadEcsConfig } from '../controllers/index.ts';
import { loadProxyConfig } from '../proxy/index.ts';
import { doctorToolPorts } from './doctor-tool-ports.ts';
import { driverKeyEnv, ecsLocalKeyPath, readEcsLocalKey } from './ecs-local-key.ts';
import { ECS_LOCAL_DEFAULTS, ecsLocalUrl } from './local-defaults.ts';

export interface Finding {
  ok: boolean;
  check: string;
  message: string;
  fix?: string;
  severity?: 'error' | 'warning';
}

type Env = Record<string, string | undefined>;

/** True when nothing points the doctor at AWS or at an ECS endpoint of its own. */
export function isLocalSetup(env: Env): boolean {
  return !(
    env.BERTH_ECS_ENDPOINT ||
    env.BERTH_ECS_REGION ||
    env.AWS_REGION ||
    env.AWS_DEFAULT_REGION
  );
}

const START = 'start berth with `make run` (or bin/berth up)';

/** A GET that answers with its status and body, or with why nothing answered. */
async function probe(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string } | { error: string }> {
  try {
    const res = await request(url, { headers, headersTimeout: 5000, bodyTimeout: 5000 });
    return { status: res.statusCode, body: await res.body.text() };
  } catch (err) {
    return { error: (err as { code?: string }).code ?? (err as Error).message };
  }
}

async function apiChecks(env: Env): Promise<Finding[]> {
  let cli: Awaited<ReturnType<typeof loadConfig>>;
  try {
    cli = await loadConfig(env as NodeJS.ProcessEnv);
  } catch (err) {
    return [{ ok: false, check: 'CLI config', message: (err as Error).message, fix: START }];
  }
  const server = cli.server.replace(/\/+$/, '');
  const ready = await probe(`${server}/readyz`);
  if ('error' in ready) {
    return [
      {
        ok: false,
        check: 'berth API',
        message: `Nothing answers at ${server} (${ready.error}), the server in ${cli.path}.`,
        fix: `${START}; to check an AWS setup instead, set BERTH_ECS_REGION (or AWS_REGION).`,
      },
    ];
  }
  const findings: Finding[] = [{ ok: true, check: 'berth API', message: `${server} answers.` }];
  if (ready.status === 200) {
    findings.push({ ok: true, check: 'Database', message: 'The API reaches its PostgreSQL.' });
  } else {
    findings.push({
      ok: false,
      check: 'Database',
      message: `The API at ${server} cannot reach its PostgreSQL (/readyz answered ${ready.status}).`,
      fix: 'Look at the make run terminal for PostgreSQL errors, then restart make run.',
    });
  }
  if (!cli.token) {
    findings.push({
      ok: false,
      check: 'CLI token',
      message: `There is no token in ${cli.path} (nor BERTH_TOKEN).`,
      fix: 'Restart make run: it writes an admin token there.',
    });
    return findings;
  }
  const who = await probe(`${server}/apis/berth/v1alpha1/whoami`, {
    authorization: `Bearer ${cli.token}`,
  });
  if ('status' in who && who.status === 200) {
    const { user, admin } = JSON.parse(who.body) as { user: string; admin: boolean };
    findings.push({
      ok: true,
      check: 'CLI token',
      message: `Signed in as ${user}${admin ? ' (admin)' : ''}.`,
    });
  } else {
    findings.push({
      ok: false,
      check: 'CLI token',
      message: `The server refuses the token from ${cli.source.token === 'env' ? 'BERTH_TOKEN' : cli.path} (${'status' in who ? who.status : who.error}).`,
      fix: 'Restart make run: it writes a fresh admin token to the CLI config when the one there does not work.',
    });
  }
  return findings;
}

async function ecsLocalChecks(env: Env): Promise<Finding[]> {
  const url = ecsLocalUrl(env);
  const answer = await probe(url);
  if ('error' in answer) {
    return [
      {
        ok: false,
        check: 'ecs-local',
        message: `Nothing answers at ${url} (${answer.error}).`,
        fix: `${START}, which runs ecs-local there (ECS_LOCAL_PORT says where).`,
      },
    ];
  }
  const findings: Finding[] = [{ ok: true, check: 'ecs-local', message: `${url} answers.` }];
  // It answers only requests signed with the pair berth up made (or ECS_LOCAL_* give).
  const keyPath = ecsLocalKeyPath(env);
  const key =
    env.ECS_LOCAL_ACCESS_KEY_ID && env.ECS_LOCAL_SECRET_ACCESS_KEY
      ? {
          accessKeyId: env.ECS_LOCAL_ACCESS_KEY_ID,
          secretAccessKey: env.ECS_LOCAL_SECRET_ACCESS_KEY,
        }
      : await readEcsLocalKey(keyPath);
  if (!key) {
    findings.push({
      ok: false,
      check: 'ecs-local key',
      message: `There is no ecs-local key pair in ${keyPath} (berth up writes it there at each start).`,
      fix: `${START}; for a standalone ecs-local, set ECS_LOCAL_ACCESS_KEY_ID and ECS_LOCAL_SECRET_ACCESS_KEY to its pair.`,
    });
    return findings;
  }
  // The cluster, subnets and security groups berth up gives the controllers.
  const config = loadEcsConfig({
    ...ECS_LOCAL_DEFAULTS,
    ...env,
    BERTH_ECS_ENDPOINT: url,
    ...driverKeyEnv(key),
  });
  const driver = createEcsDriver({ config, registry: new Registry() });
  try {
    findings.push(...(await driver.preflight(await doctorToolPorts(env))));
  } finally {
    driver.close();
  }
  return findings;
}

async function proxyChecks(env: Env): Promise<Finding[]> {
  let port: number;
  let host: string;
  try {
    // Only the port and the domain are read here; the key is not needed for that.
    const config = loadProxyConfig({ toolSecretKey: Buffer.alloc(32) }, env as NodeJS.ProcessEnv);
    port = config.port;
    host = `${config.baseDomain}:${port}`;
  } catch (err) {
    return [{ ok: false, check: 'proxy', message: (err as Error).message }];
  }
  const ready = await probe(`http://127.0.0.1:${port}/readyz`, { host });
  if ('error' in ready) {
    return [
      {
        ok: false,
        check: 'proxy',
        message: `Nothing answers at http://${host}/ (${ready.error}).`,
        fix: `${START}, which runs the proxy there (BERTH_PROXY_PORT says where).`,
      },
    ];
  }
  if (ready.status !== 200) {
    return [
      {
        ok: false,
        check: 'proxy',
        message: `http://${host}/ answers but is not ready: ${ready.body.trim() || ready.status}.`,
        fix: 'Look at the make run terminal for proxy errors.',
      },
    ];
  }
  return [{ ok: true, check: 'proxy', message: `http://${host}/ answers and routes.` }];
}

/** Every check of the local setup, in the order a person would look. */
export async function localFindings(env: Env): Promise<Finding[]> {
  const [api, ecs, proxy] = await Promise.all([
    apiChecks(env),
    ecsLocalChecks(env),
    proxyChecks(env),
  ]);
  return [...api, ...ecs, ...proxy];
}
