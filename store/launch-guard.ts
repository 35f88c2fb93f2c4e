// The checks a launch passes inside the transaction that writes it: the user's
// Quotas (instances running at once, largest size), the launch rate per user,
// and at the controllers' launch the user's access to the tool. They run as a
// write's `inTransaction` hook, after the row is written and before the commit.
// The quota count runs under a per-user advisory lock (taken only when there is
// any Quota): two launches of one user at once are checked
// one after the other, and the second one's count (a new statement, so a new
// snapshot under READ COMMITTED) sees the first one's committed write. So at the
// limit exactly one of them passes. A refusal throws, which rolls the write back.
//
// The API (admission of create/update/patch/apply), the proxy (launch on visit)
// and the controllers (the write that starts an attempt) all use this file, so
// the rule is the same wherever a launch is asked for.
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import {
  ApiError,
  asksForLaunch,
  holdsTask,
  type LaunchRequest,
  mayUseTool,
  type Quota,
  quotaRefusal,
  SHARED_NAMESPACE,
  type StatusDetails,
  type ToolDefinition,
  type ToolInstance,
  wantsToRun,
} from '../crds/index.ts';
import type { PoolClient } from './db.ts';
import type { WriteChange } from './types.ts';

/** Why a launch was refused: the Event and status reason at the controllers. */
export type LaunchRefusalReason = 'QuotaExceeded' | 'AccessDenied' | 'LaunchRateLimited';

/** A refused launch: a Kubernetes Status (403 Forbidden, or 429 over the rate) with its reason. */
export class LaunchRefused extends ApiError {
  readonly why: LaunchRefusalReason;

  constructor(why: LaunchRefusalReason, message: string, details?: StatusDetails) {
    super(why === 'LaunchRateLimited' ? 'TooManyRequests' : 'Forbidden', message, details);
    this.why = why;
  }
}

/** Launches per user per window, across every replica; `limit` 0 means no limit. */
export interface LaunchRate {
  limit: number;
  windowMs: number;
}

type Hook = (client: PoolClient, change: WriteChange) => Promise<void>;

// Any fixed 32-bit number: the class of the per-user lock (the user's hash is the other half).
const USER_LAUNCH_LOCK = 1_650_553_972;
const RATE_TABLE = 'launch_rate_limits';

const SQL = {
  lockUser: 'select pg_advisory_xact_lock($1::int, hashtext($2))',
  // disabled_at comes with disabling users (issue 15 part 4); read through to_jsonb
  // so that this statement works with and without that column.
  user: `select u.groups, u.admin, (to_jsonb(u) ->> 'disabled_at') is not null as disabled
           from users u where u.name = $1`,
  quotas: `select object from resources where kind = 'Quota' and namespace = ''`,
  toolDefinition: `select object from resources
                    where kind = 'ToolDefinition' and namespace = '' and name = $1`,
  instances: `select object from resources where kind = 'ToolInstance' and namespace = $1`,
} as const;

interface LaunchUser {
  name: string;
  groups: string[];
  admin: boolean;
  disabled: boolean;
}

/**
 * Admission: the `inTransaction` hook for a ToolInstance write by a person (the
 * API, the proxy). A write that asks for a launch (`asksForLaunch`) outside the
 * shared namespace must fit the owner's Quotas, counting their other instances
 * that want to run, then the launch rate. Other writes pass untouched.
 */
export function launchAdmission(rate: LaunchRate): Hook {
  return async (client, change) => {
    if (change.object.kind !== 'ToolInstance' || change.type === 'DELETED') return;
    const next = change.object as unknown as ToolInstance;
    const prev = change.previous as unknown as ToolInstance | null;
    const user = next.metadata.namespace ?? '';
    if (user === SHARED_NAMESPACE || !asksForLaunch(prev, next)) return;
    const td = await readToolDefinition(client, next.spec.toolRef);
    await checkQuota(client, next, td, await readUser(client, user), wantsToRun);
    if (rate.limit > 0) await consumeLaunch(client, user, rate);
  };
}

/**
 * The controllers' check, as the `inTransaction` hook of the write that starts an
 * attempt (phase Starting): the owner may still use `td` (not disabled; admin, or
 * in its access rule, by their groups now) and the launch fits their Quotas,
 * counting their other instances that hold a task. Shared apps are admins' and
 * pass. An instance written past admission (an old record) meets it here.
 */
export function launchCheckAtStart(td: ToolDefinition): Hook {
  return async (client, change) => {
    const ti = change.object as unknown as ToolInstance;
    const user = ti.metadata.namespace ?? '';
    if (user === SHARED_NAMESPACE || td.spec.sharing === 'shared') return;
    const who = await readUser(client, user);
    if (who.disabled) {
      throw new LaunchRefused('AccessDenied', `user "${user}" is disabled`);
    }
    if (!mayUseTool(who, td)) {
      throw new LaunchRefused(
        'AccessDenied',
        `user "${user}" may not use tool "${td.metadata.name}" (not in its access list)`,
      );
    }
    await checkQuota(client, ti, td, who, holdsTask);
  };
}

/** Serializes one user's launches until the transaction ends. */
async function lockLaunches(client: PoolClient, user: string): Promise<void> {
  await client.query(SQL.lockUser, [USER_LAUNCH_LOCK, user]);
}

async function checkQuota(
  client: PoolClient,
  ti: ToolInstance,
  td: ToolDefinition | undefined,
  who: LaunchUser,
  counts: (ti: ToolInstance) => boolean,
): Promise<void> {
  const quotas = (await client.query<{ object: Quota }>(SQL.quotas)).rows.map((r) => r.object);
  // No Quota, no count: and no lock, so that launches without quotas never wait on each other.
  if (quotas.length === 0) return;
  // The count below is a new statement after the lock: it sees every launch of this
  // user that committed before we got it.
  await lockLaunches(client, who.name);
  const { rows } = await client.query<{ object: ToolInstance }>(SQL.instances, [who.name]);
  const size = td ? sizeOf(td, ti) : undefined;
  const request: LaunchRequest = {
    instance: ti.metadata.name,
    running: rows
      .map((r) => r.object)
      .filter(counts)
      .map((o) => o.metadata.name),
    ...(size ? { size } : {}),
  };
  const refusal = quotaRefusal(quotas, who, request);
  if (refusal) {
    throw new LaunchRefused('QuotaExceeded', refusal.message, {
      kind: 'quotas',
      name: refusal.quota,
    });
  }
}

/** The size launched; undefined when the tool does not have it (admission says so elsewhere). */
function sizeOf(td: ToolDefinition, ti: ToolInstance): LaunchRequest['size'] {
  const name = ti.spec.size ?? td.spec.defaultSize;
  const size = td.spec.sizes[name];
  return size ? { tool: td.metadata.name, name, cpu: size.cpu, memory: size.memory } : undefined;
}

/** The users row of the namespace's owner; one without a row has no groups and no rights. */
async function readUser(client: PoolClient, name: string): Promise<LaunchUser> {
  const { rows } = await client.query<{ groups: string[]; admin: boolean; disabled: boolean }>(
    SQL.user,
    [name],
  );
  const row = rows[0];
  return {
    name,
    groups: row?.groups ?? [],
    admin: row?.admin ?? false,
    disabled: row?.disabled ?? false,
  };
}

async function readToolDefinition(
  client: PoolClient,
  name: string,
): Promise<ToolDefinition | undefined> {
  const { rows } = await client.query<{ object: ToolDefinition }>(SQL.toolDefinition, [name]);
  return rows[0]?.object;
}

/**
 * One launch against the user's window, in this transaction (a refused or
 * rolled-back launch uses nothing). rate-limiter-flexible's PostgreSQL store on
 * the transaction's own connection: one upsert, shared by every replica.
 */
async function consumeLaunch(client: PoolClient, user: string, rate: LaunchRate): Promise<void> {
  const limiter = new RateLimiterPostgres({
    storeClient: client,
    storeType: 'client',
    tableName: RATE_TABLE,
    tableCreated: true,
    clearExpiredByTimeout: false,
    keyPrefix: 'launch',
    points: rate.limit,
    duration: rate.windowMs / 1000,
  });
  try {
    await limiter.consume(user);
  } catch (err) {
    if (!(err instanceof RateLimiterRes)) throw err;
    const retryAfterSeconds = Math.max(1, Math.ceil(err.msBeforeNext / 1000));
    throw new LaunchRefused(
      'LaunchRateLimited',
      `too many launches: at most ${rate.limit} per ${describeWindow(rate.windowMs)} per user; try again in ${retryAfterSeconds} s`,
      { retryAfterSeconds },
    );
  }
}

/** `minute`, `5 minutes`, `30 seconds`. */
function describeWindow(ms: number): string {
  if (ms === 60_000) return 'minute';
  if (ms % 60_000 === 0) return `${ms / 60_000} minutes`;
  return `${ms / 1000} seconds`;
}
