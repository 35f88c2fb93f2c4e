// Identity: users and API tokens. A token is `berth_<id>_<secret>`; the id is
// public and indexes the row, only SHA-256(secret) is stored, and verification
// compares hashes in constant time. Every token expires (a default lifetime,
// a maximum one); a disabled user's tokens are deleted and none verifies.
// Shared by the API and the proxy. Some 400 lines: one class, because users and
// tokens share its transactions (disabling a user deletes their tokens).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ApiError, invalidFromZod, isReservedUserName, namespaceName } from '../crds/index.ts';
import { type Pool, type PoolClient, withTransaction } from './db.ts';

/**
 * NOTIFY channel for changed credentials (migrations 008, 010): a session or API
 * token deleted, or a user's groups, admin flag or disabled state changed. Caches of verified
 * credentials (the proxy's) forget their answers on it.
 */
export const CREDENTIALS_CHANNEL = 'berth_credentials';

/** Who a verified token belongs to. */
export interface Principal {
  name: string;
  /** The user's stable id (store/migrations/013): their files' prefix is keyed by it. */
  uid?: string;
  admin: boolean;
  groups: string[];
  email?: string;
  displayName?: string;
  /** The id of the token that authenticated this principal (per-token limits use it). */
  tokenId?: string;
}

export interface User {
  name: string;
  /** Stable for the user's life; never reused. */
  uid: string;
  email?: string;
  displayName?: string;
  groups: string[];
  admin: boolean;
  /** When an admin disabled the user (absent: enabled). */
  disabledAt?: string;
  createdAt: string;
}

export interface TokenInfo {
  id: string;
  user: string;
  description?: string;
  createdAt: string;
  expiresAt?: string;
  lastUsedAt?: string;
}

/** A user's slug: a namespace name no reserved name (crds/reserved-names.ts) may be. */
const userName = namespaceName.refine((n) => !isReservedUserName(n), {
  message: 'is reserved (shared apps and berth use it) and cannot be a user name',
});

const userInput = z.strictObject({
  name: userName,
  email: z.string().max(320).optional(),
  displayName: z.string().max(256).optional(),
  groups: z.array(z.string().min(1).max(256)).max(256).optional(),
  admin: z.boolean().optional(),
});
export type UserInput = z.infer<typeof userInput>;

const tokenInput = z.strictObject({
  user: userName,
  admin: z.boolean().optional(),
  description: z.string().max(1024).optional(),
  expiresInMs: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
});
export type TokenInput = z.infer<typeof tokenInput>;

const TOKEN_FORMAT = /^berth_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
// Any fixed 64-bit number, distinct from the migration lock.
const BOOTSTRAP_LOCK = '7301204552';
const LAST_USED_RESOLUTION_MS = 60_000;
// Compared against when the token id is unknown, so that a miss costs as much as a hit.
const DUMMY_HASH = createHash('sha256').update('berth-dummy').digest();

type Queryable = Pool | PoolClient;

const DAY_MS = 86_400_000;

export interface IdentityOptions {
  /** Lifetime of a token created without one (default 90 days). */
  tokenDefaultTtlMs?: number;
  /** Longest lifetime a token may be given (default 365 days); longer is refused. */
  tokenMaxTtlMs?: number;
}

/** What disabling a user ended. */
export interface DisabledUser {
  user: User;
  sessions: number;
  tokens: number;
}

interface UserRow {
  name: string;
  uid: string;
  email: string | null;
  display_name: string | null;
  groups: string[];
  admin: boolean;
  created_at: Date;
  disabled_at: Date | null;
}

/** The principal a users row stands for (a token's or a session's user). */
export function principalOf(
  r: Pick<UserRow, 'name' | 'admin' | 'groups' | 'email' | 'display_name'> &
    Partial<Pick<UserRow, 'uid'>>,
): Principal {
  return {
    name: r.name,
    ...(r.uid ? { uid: r.uid } : {}),
    admin: r.admin,
    groups: r.groups,
    ...(r.email ? { email: r.email } : {}),
    ...(r.display_name ? { displayName: r.display_name } : {}),
  };
}

function toUser(r: UserRow): User {
  return {
    name: r.name,
    uid: r.uid,
    ...(r.email ? { email: r.email } : {}),
    ...(r.display_name ? { displayName: r.display_name } : {}),
    groups: r.groups,
    admin: r.admin,
    ...(r.disabled_at ? { disabledAt: r.disabled_at.toISOString() } : {}),
    createdAt: r.created_at.toISOString(),
  };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function parse<T>(schema: z.ZodType<T>, kind: string, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw invalidFromZod(kind, undefined, result.error);
  return result.data;
}

export class Identity {
  readonly #pool: Pool;
  readonly #defaultTtlMs: number;
  readonly #maxTtlMs: number;

  constructor(pool: Pool, options: IdentityOptions = {}) {
    this.#pool = pool;
    this.#maxTtlMs = options.tokenMaxTtlMs ?? 365 * DAY_MS;
    this.#defaultTtlMs = Math.min(options.tokenDefaultTtlMs ?? 90 * DAY_MS, this.#maxTtlMs);
  }

  /** The lifetime a token gets when none is asked for. */
  get tokenDefaultTtlMs(): number {
    return this.#defaultTtlMs;
  }

  /** Creates the user or updates the fields given; fields left out keep their value. */
  async upsertUser(input: UserInput, db: Queryable = this.#pool): Promise<User> {
    const u = parse(userInput, 'User', input);
    const { rows } = await db.query<UserRow>(
      `insert into users (name, email, display_name, groups, admin)
       values ($1, $2, $3, coalesce($4::text[], '{}'), coalesce($5, false))
       on conflict (name) do update set
         email = coalesce($2, users.email),
         display_name = coalesce($3, users.display_name),
         groups = coalesce($4::text[], users.groups),
         admin = coalesce($5, users.admin)
       returning *`,
      [u.name, u.email ?? null, u.displayName ?? null, u.groups ?? null, u.admin ?? null],
    );
    return toUser(rows[0]!);
  }

  async getUser(name: string): Promise<User | undefined> {
    const { rows } = await this.#pool.query<UserRow>('select * from users where name = $1', [name]);
    return rows[0] ? toUser(rows[0]) : undefined;
  }

  /** Every user, by name. */
  async listUsers(): Promise<User[]> {
    const { rows } = await this.#pool.query<UserRow>('select * from users order by name');
    return rows.map(toUser);
  }

  /**
   * Disables a user in one transaction: marks them disabled and deletes their
   * sessions (tool-host sessions and handoff codes go by cascade) and API
   * tokens; the deletions notify CREDENTIALS_CHANNEL, so every proxy and API
   * forgets them and closes their open connections. Undefined when no such user.
   * Stopping their instances is the caller's (it goes through the resource store).
   */
  async disableUser(name: string): Promise<DisabledUser | undefined> {
    return withTransaction(this.#pool, async (c) => {
      const { rows } = await c.query<UserRow>(
        `update users set disabled_at = coalesce(disabled_at, now()) where name = $1 returning *`,
        [name],
      );
      if (!rows[0]) return undefined;
      const sessions = await c.query('delete from sessions where user_name = $1', [name]);
      const tokens = await c.query('delete from api_tokens where user_name = $1', [name]);
      return {
        user: toUser(rows[0]),
        sessions: sessions.rowCount ?? 0,
        tokens: tokens.rowCount ?? 0,
      };
    });
  }

  /** Lets a disabled user sign in again (their old tokens stay deleted). Undefined when no such user. */
  async enableUser(name: string): Promise<User | undefined> {
    const { rows } = await this.#pool.query<UserRow>(
      'update users set disabled_at = null where name = $1 returning *',
      [name],
    );
    return rows[0] ? toUser(rows[0]) : undefined;
  }

  /** Whether the user exists and is disabled (sign-in refuses them). */
  async isDisabled(name: string, db: Queryable = this.#pool): Promise<boolean> {
    const { rows } = await db.query<{ disabled: boolean }>(
      'select disabled_at is not null as disabled from users where name = $1',
      [name],
    );
    return rows[0]?.disabled ?? false;
  }

  /**
   * Mints a token for `user`, creating the user when missing. `admin: true` makes
   * the user an admin (admin is a property of the user, not of one token).
   * It expires after `expiresInMs` (default: the default lifetime; more than the
   * maximum is refused, field `ttl`). A disabled user gets none (409).
   * The token is returned once and never stored.
   */
  async createToken(
    input: TokenInput,
    db: Queryable = this.#pool,
  ): Promise<{ id: string; token: string; expiresAt: string }> {
    const t = parse(tokenInput, 'Token', input);
    const ttl = t.expiresInMs ?? this.#defaultTtlMs;
    if (ttl > this.#maxTtlMs) {
      throw new ApiError('Invalid', `Token is invalid: ttl: must be at most ${this.#maxTtlMs} ms`, {
        kind: 'Token',
        causes: [
          {
            field: 'ttl',
            message: `must be at most ${Math.floor(this.#maxTtlMs / DAY_MS)} days (the maximum token lifetime)`,
            reason: 'FieldValueInvalid',
          },
        ],
      });
    }
    if (await this.isDisabled(t.user, db))
      throw new ApiError('Conflict', `user "${t.user}" is disabled: enable them first`, {
        kind: 'users',
        name: t.user,
      });
    await this.upsertUser({ name: t.user, ...(t.admin ? { admin: true } : {}) }, db);
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + ttl);
    await db.query(
      `insert into api_tokens (id, user_name, secret_sha256, description, expires_at)
       values ($1, $2, $3, $4, $5)`,
      [id, t.user, sha256(secret), t.description ?? null, expiresAt],
    );
    return { id, token: `berth_${id}_${secret}`, expiresAt: expiresAt.toISOString() };
  }

  /** The principal a token belongs to; undefined when malformed, unknown, revoked or expired. */
  async verifyToken(token: string): Promise<Principal | undefined> {
    const m = TOKEN_FORMAT.exec(token);
    if (!m) return undefined;
    const [, id, secret] = m as unknown as [string, string, string];
    const { rows } = await this.#pool.query<
      UserRow & { secret_sha256: Buffer; expires_at: Date | null; last_used_at: Date | null }
    >(
      `select t.secret_sha256, t.expires_at, t.last_used_at, u.*
         from api_tokens t join users u on u.name = t.user_name
        where t.id = $1 and u.disabled_at is null`,
      [id],
    );
    const row = rows[0];
    const presented = sha256(secret);
    const matches =
      timingSafeEqual(presented, row ? row.secret_sha256 : DUMMY_HASH) && row !== undefined;
    if (!row || !matches) return undefined;
    if (row.expires_at && row.expires_at.getTime() <= Date.now()) return undefined;
    if (!row.last_used_at || Date.now() - row.last_used_at.getTime() > LAST_USED_RESOLUTION_MS) {
      await this.#pool.query('update api_tokens set last_used_at = now() where id = $1', [id]);
    }
    return { ...principalOf(row), tokenId: id };
  }

  /** Deletes a token (only `owner`'s when given); false when there was none with that id. */
  async revokeToken(id: string, owner?: string): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      'delete from api_tokens where id = $1 and ($2::text is null or user_name = $2)',
      [id, owner ?? null],
    );
    return (rowCount ?? 0) > 0;
  }

  /**
   * The current principal behind each of these tokens and sessions that still
   * verifies (not revoked, not expired, user not disabled), keyed `t:<id>` and
   * `s:<id>`: the re-check of open connections, two queries for all of them.
   */
  async liveCredentials(
    tokenIds: readonly string[],
    sessionIds: readonly string[],
  ): Promise<Map<string, Principal>> {
    const out = new Map<string, Principal>();
    if (tokenIds.length > 0) {
      const { rows } = await this.#pool.query<UserRow & { id: string }>(
        `select u.*, t.id from api_tokens t join users u on u.name = t.user_name
          where t.id = any($1::text[]) and u.disabled_at is null
            and (t.expires_at is null or t.expires_at > now())`,
        [tokenIds],
      );
      for (const r of rows) out.set(`t:${r.id}`, { ...principalOf(r), tokenId: r.id });
    }
    if (sessionIds.length > 0) {
      const { rows } = await this.#pool.query<UserRow & { id: string }>(
        `select u.*, s.id from sessions s join users u on u.name = s.user_name
          where s.id = any($1::text[]) and u.disabled_at is null and s.expires_at > now()
            and s.last_seen_at + s.idle_ms * interval '1 millisecond' > now()`,
        [sessionIds],
      );
      for (const r of rows) out.set(`s:${r.id}`, principalOf(r));
    }
    return out;
  }

  /** Tokens without their secrets (one user's, or everyone's), newest first. */
  async listTokens(user?: string): Promise<TokenInfo[]> {
    const { rows } = await this.#pool.query<{
      id: string;
      user_name: string;
      description: string | null;
      created_at: Date;
      expires_at: Date | null;
      last_used_at: Date | null;
    }>(
      `select id, user_name, description, created_at, expires_at, last_used_at from api_tokens
        where $1::text is null or user_name = $1 order by created_at desc, id`,
      [user ?? null],
    );
    return rows.map((r) => ({
      id: r.id,
      user: r.user_name,
      ...(r.description ? { description: r.description } : {}),
      createdAt: r.created_at.toISOString(),
      ...(r.expires_at ? { expiresAt: r.expires_at.toISOString() } : {}),
      ...(r.last_used_at ? { lastUsedAt: r.last_used_at.toISOString() } : {}),
    }));
  }

  /**
   * First start: when no admin user holds a usable token, creates user `admin`
   * (an admin) and a token for it, and returns the token. Otherwise undefined.
   * Runs under an advisory lock so that processes starting at once mint one token.
   */
  async bootstrapAdmin(): Promise<string | undefined> {
    const client = await this.#pool.connect();
    try {
      await client.query('begin');
      await client.query('select pg_advisory_xact_lock($1)', [BOOTSTRAP_LOCK]);
      const { rows } = await client.query<{ exists: boolean }>(
        `select exists (
           select 1 from users u join api_tokens t on t.user_name = u.name
            where u.admin and u.disabled_at is null
              and (t.expires_at is null or t.expires_at > now())) as exists`,
      );
      let token: string | undefined;
      if (!rows[0]?.exists) {
        token = (
          await this.createToken(
            { user: 'admin', admin: true, description: 'bootstrap admin token' },
            client,
          )
        ).token;
      }
      await client.query('commit');
      return token;
    } catch (err) {
      await client.query('rollback').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }
}
