// Identity: users and API tokens. A token is `berth_<id>_<secret>`; the id is
// public and indexes the row, only SHA-256(secret) is stored, and verification
// compares hashes in constant time. Shared by the API and (later) the proxy.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { invalidFromZod, namespaceName } from '../crds/index.ts';
import type { Pool, PoolClient } from './db.ts';

/**
 * NOTIFY channel for changed credentials (migration 008): a session or API token
 * deleted, or a user's groups or admin flag changed. Caches of verified
 * credentials (the proxy's) forget their answers on it.
 */
export const CREDENTIALS_CHANNEL = 'berth_credentials';

/** Who a verified token belongs to. */
export interface Principal {
  name: string;
  admin: boolean;
  groups: string[];
  email?: string;
  displayName?: string;
  /** The id of the token that authenticated this principal (per-token limits use it). */
  tokenId?: string;
}

export interface User {
  name: string;
  email?: string;
  displayName?: string;
  groups: string[];
  admin: boolean;
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

const userInput = z.strictObject({
  name: namespaceName,
  email: z.string().max(320).optional(),
  displayName: z.string().max(256).optional(),
  groups: z.array(z.string().min(1).max(256)).max(256).optional(),
  admin: z.boolean().optional(),
});
export type UserInput = z.infer<typeof userInput>;

const tokenInput = z.strictObject({
  user: namespaceName,
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

interface UserRow {
  name: string;
  email: string | null;
  display_name: string | null;
  groups: string[];
  admin: boolean;
  created_at: Date;
}

/** The principal a users row stands for (a token's or a session's user). */
export function principalOf(
  r: Pick<UserRow, 'name' | 'admin' | 'groups' | 'email' | 'display_name'>,
): Principal {
  return {
    name: r.name,
    admin: r.admin,
    groups: r.groups,
    ...(r.email ? { email: r.email } : {}),
    ...(r.display_name ? { displayName: r.display_name } : {}),
  };
}

function toUser(r: UserRow): User {
  return {
    name: r.name,
    ...(r.email ? { email: r.email } : {}),
    ...(r.display_name ? { displayName: r.display_name } : {}),
    groups: r.groups,
    admin: r.admin,
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

  constructor(pool: Pool) {
    this.#pool = pool;
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

  /**
   * Mints a token for `user`, creating the user when missing. `admin: true` makes
   * the user an admin (admin is a property of the user, not of one token).
   * The token is returned once and never stored.
   */
  async createToken(
    input: TokenInput,
    db: Queryable = this.#pool,
  ): Promise<{ id: string; token: string }> {
    const t = parse(tokenInput, 'Token', input);
    await this.upsertUser({ name: t.user, ...(t.admin ? { admin: true } : {}) }, db);
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const expiresAt = t.expiresInMs === undefined ? null : new Date(Date.now() + t.expiresInMs);
    await db.query(
      `insert into api_tokens (id, user_name, secret_sha256, description, expires_at)
       values ($1, $2, $3, $4, $5)`,
      [id, t.user, sha256(secret), t.description ?? null, expiresAt],
    );
    return { id, token: `berth_${id}_${secret}` };
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
        where t.id = $1`,
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

  /** Deletes a token; false when there was none with that id. */
  async revokeToken(id: string): Promise<boolean> {
    const { rowCount } = await this.#pool.query('delete from api_tokens where id = $1', [id]);
    return (rowCount ?? 0) > 0;
  }

  /** Tokens without their secrets, newest first. */
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
            where u.admin and (t.expires_at is null or t.expires_at > now())) as exists`,
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
