// The audit log (migration 012): one append-only row per thing a person or berth
// did that an administrator may have to account for later — sign-ins, tokens,
// launches and stops, tool opens, admin writes. Every entry is also one JSON log
// line (`{"audit": {...}}`) on the writer's logger, so a log service (CloudWatch)
// keeps a copy the database's owner cannot rewrite. No entry ever holds a secret:
// the detail refuses keys that name one and values shaped like a berth token.
import { z } from 'zod';
import { ApiError, invalidFromZod } from '../crds/index.ts';
import { type Pool, type PoolClient, withTransaction } from './db.ts';

/** The actions berth records: a small closed set of dotted names. */
export const AUDIT_ACTIONS = [
  'signin.succeeded',
  'signin.failed',
  'signout',
  'token.created',
  'token.revoked',
  'user.disabled',
  'user.enabled',
  'user.updated',
  'instance.launched',
  'instance.stopped',
  'instance.deleted',
  'tool.opened',
  'tooldefinition.created',
  'tooldefinition.updated',
  'tooldefinition.deleted',
  'database.created',
  'database.updated',
  'database.deleted',
  'dataset.created',
  'dataset.updated',
  'dataset.deleted',
  'accessrequest.created',
  'accessrequest.approved',
  'accessrequest.denied',
  'accessrequest.deleted',
  'file.uploaded',
  'file.downloaded',
  'file.deleted',
  'file.moved',
  'folder.created',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** How the action reached berth. */
export const AUDIT_HOWS = ['ui', 'cli', 'api', 'visit', 'culler', 'controller'] as const;
export type AuditHow = (typeof AUDIT_HOWS)[number];

/** Kept this long unless BERTH_AUDIT_RETENTION_MS says otherwise: 400 days. */
export const DEFAULT_AUDIT_RETENTION_MS = 400 * 24 * 3_600_000;

const MAX_DETAIL_CHARS = 4096;
// Key names that would hold a secret; the detail never has one.
const SECRET_KEY = /secret|password|passwd|cookie|token|code|authorization|dsn|credential/i;
const TOKEN_SHAPE = /berth_[0-9a-f]{16}_/;

const name = z.string().min(1).max(253);

function hasNoSecret(value: unknown, key = ''): boolean {
  if (SECRET_KEY.test(key)) return false;
  if (typeof value === 'string') return !TOKEN_SHAPE.test(value);
  if (Array.isArray(value)) return value.every((v) => hasNoSecret(v));
  if (value && typeof value === 'object')
    return Object.entries(value).every(([k, v]) => hasNoSecret(v, k));
  return true;
}

export const auditEntrySchema = z.strictObject({
  /** A user name, `anonymous` (a failed sign-in), or `system:<component>`. */
  actor: z
    .string()
    .max(320)
    .regex(
      /^(system:[a-z0-9-]{1,63}|anonymous|[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)$/,
      'must be a user name, "anonymous" or "system:<component>"',
    ),
  action: z.enum(AUDIT_ACTIONS),
  target: z
    .strictObject({
      kind: z.string().min(1).max(63),
      namespace: name.optional(),
      name,
      /** The user the target belongs to; defaults to a ToolInstance's namespace or a User's name. */
      user: name.optional(),
    })
    .optional(),
  how: z.enum(AUDIT_HOWS),
  /** The client's address as berth saw it. */
  client: z.string().max(64).optional(),
  outcome: z.enum(['success', 'failure']).default('success'),
  detail: z
    .record(z.string().max(64), z.unknown())
    .default({})
    .refine((d) => JSON.stringify(d).length <= MAX_DETAIL_CHARS, {
      message: `must be at most ${MAX_DETAIL_CHARS} characters of JSON`,
    })
    .refine((d) => hasNoSecret(d), { message: 'must not hold a secret' }),
});
export type AuditEntry = z.input<typeof auditEntrySchema>;

/** An entry as stored and as the API answers it. */
export interface AuditRecord {
  id: string;
  at: string;
  actor: string;
  action: string;
  target?: { kind: string; namespace?: string; name: string; user?: string };
  how: string;
  client?: string;
  outcome: string;
  detail: Record<string, unknown>;
}

/** Where the entry's JSON line goes: pino's shape (the API's, the proxy's, the controllers' loggers). */
export interface AuditLogger {
  info(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

type Queryable = Pool | PoolClient;

interface AuditRow {
  id: number | string;
  at: Date;
  actor: string;
  action: string;
  target_kind: string | null;
  target_namespace: string | null;
  target_name: string | null;
  target_user: string | null;
  how: string;
  client: string | null;
  outcome: string;
  detail: Record<string, unknown>;
}

function toRecord(r: AuditRow): AuditRecord {
  return {
    id: String(r.id),
    at: r.at.toISOString(),
    actor: r.actor,
    action: r.action,
    ...(r.target_kind && r.target_name
      ? {
          target: {
            kind: r.target_kind,
            ...(r.target_namespace ? { namespace: r.target_namespace } : {}),
            name: r.target_name,
            ...(r.target_user ? { user: r.target_user } : {}),
          },
        }
      : {}),
    how: r.how,
    ...(r.client ? { client: r.client } : {}),
    outcome: r.outcome,
    detail: r.detail,
  };
}

/**
 * Appends one entry (validated: a bad one is a 422, never a half-written row) and
 * logs it as `{"audit": {...}}` on `log`. Pass the client of the action's own
 * transaction when there is one, so the entry and the action commit together.
 */
export async function recordAudit(
  db: Queryable,
  entry: AuditEntry,
  log?: AuditLogger,
): Promise<AuditRecord> {
  const parsed = auditEntrySchema.safeParse(entry);
  if (!parsed.success) throw invalidFromZod('AuditEntry', undefined, parsed.error);
  const e = parsed.data;
  const t = e.target;
  const user =
    t?.user ?? (t?.kind === 'ToolInstance' ? t.namespace : t?.kind === 'User' ? t.name : undefined);
  const { rows } = await db.query<AuditRow>(
    `insert into audit_log
       (actor, action, target_kind, target_namespace, target_name, target_user, how, client, outcome, detail)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
     returning *`,
    [
      e.actor,
      e.action,
      t?.kind ?? null,
      t?.namespace ?? null,
      t?.name ?? null,
      user ?? null,
      e.how,
      e.client ?? null,
      e.outcome,
      JSON.stringify(e.detail),
    ],
  );
  const record = toRecord(rows[0]!);
  log?.info({ audit: record }, 'audit');
  return record;
}

/**
 * For actions that are not a database write of their own (or whose write is done):
 * appends the entry after the fact; a failure is logged (who, what, to what; not
 * the detail) rather than failing an action that already happened.
 */
export async function recordAuditAfter(
  db: Queryable,
  entry: AuditEntry,
  log: AuditLogger,
): Promise<void> {
  try {
    await recordAudit(db, entry, log);
  } catch (err) {
    // Who, what and to what, never the detail: the detail may be why it was refused.
    const { actor, action, how, target } = entry;
    log.error(
      { auditNotWritten: { actor, action, how, target }, err: (err as Error).message },
      'audit entry could not be written',
    );
  }
}

export interface AuditFilter {
  /** Entries by this user, or about something of theirs (their instances, tokens, account). */
  user?: string;
  /** An action or a prefix of one: `instance.` or `signin`. */
  action?: string;
  since?: Date;
  limit?: number;
  /** From a previous page's `continue`. */
  continue?: string;
}

export interface AuditPage {
  items: AuditRecord[];
  /** Present when there may be older entries. */
  continue?: string;
}

const continueToken = z.strictObject({ v: z.literal(1), before: z.number().int().positive() });

function badContinue(): ApiError {
  return new ApiError(
    'BadRequest',
    'invalid continue token: not a token this server issued; start again without "continue"',
    { causes: [{ field: 'continue', message: 'not a token this server issued' }] },
  );
}

function decodeAuditContinue(token: string): number {
  if (token.length > 256 || !/^[A-Za-z0-9_-]+$/.test(token)) throw badContinue();
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw badContinue();
  }
  const parsed = continueToken.safeParse(raw);
  if (!parsed.success) throw badContinue();
  return parsed.data.before;
}

/** Newest first, filtered, a page at a time (default 100, at most 1,000). */
export async function listAudit(db: Queryable, f: AuditFilter = {}): Promise<AuditPage> {
  const limit = Math.min(Math.max(f.limit ?? 100, 1), 1000);
  const before = f.continue ? decodeAuditContinue(f.continue) : null;
  const prefix = f.action ? `${f.action.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : null;
  const { rows } = await db.query<AuditRow>(
    `select * from audit_log
      where ($1::text is null or actor = $1 or target_user = $1)
        and ($2::text is null or action like $2)
        and ($3::timestamptz is null or at >= $3)
        and ($4::bigint is null or id < $4)
      order by id desc
      limit $5`,
    [f.user ?? null, prefix, f.since ?? null, before, limit + 1],
  );
  const items = rows.slice(0, limit).map(toRecord);
  const more = rows.length > limit;
  const last = items.at(-1);
  return {
    items,
    ...(more && last
      ? {
          continue: Buffer.from(JSON.stringify({ v: 1, before: Number(last.id) })).toString(
            'base64url',
          ),
        }
      : {}),
  };
}

/**
 * The retention sweep: deletes entries older than `olderThanMs` (at most `max` per
 * call), the only delete the append-only trigger lets through; returns how many.
 */
export function sweepAudit(pool: Pool, olderThanMs: number, max = 10_000): Promise<number> {
  const cutoff = new Date(Date.now() - olderThanMs).toISOString();
  return withTransaction(pool, async (c) => {
    await c.query(`select set_config('berth.audit_sweep_before', $1, true)`, [cutoff]);
    const { rowCount } = await c.query(
      `delete from audit_log where id in
         (select id from audit_log where at < $1::timestamptz order by id limit $2)`,
      [cutoff, max],
    );
    return rowCount ?? 0;
  });
}
