// Browser sessions, server-side, and the one-time handoff codes that carry a
// session from berth's own host to one tool host (see DESIGN.md, Proxy).
//
// A cookie holds only a random secret; the database holds its SHA-256, so a
// leaked table does not yield usable cookies. Every session is bound to the host
// it was issued for (a cookie replayed on another host is refused) and expires
// when idle for `idleMs` or `absoluteMs` after creation, whichever is first.
// A tool-host session is a child of the session that issued its handoff code:
// revoking the parent (sign-out) deletes the children by cascade. A code is bound
// to the browser that started the handoff (the hash of its state cookie), as
// JupyterHub's OAuth state is, so a code minted for one browser (an attacker's)
// signs no other browser in (login CSRF).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { invalidFromZod, namespaceName } from '../crds/index.ts';
import type { Pool } from './db.ts';
import { type Principal, principalOf } from './identity.ts';

/** Hosts are stored normalised: lowercase, no port, no trailing dot. */
const hostName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9.-]+$/, 'must be a lowercase host name without port');

const createSessionInput = z.strictObject({
  user: namespaceName,
  host: hostName,
  idleMs: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  absoluteMs: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  /** The parent session (berth's host) of a tool-host session. */
  parentId: z
    .string()
    .regex(/^[0-9a-f]{32}$/)
    .optional(),
});
export type CreateSessionInput = z.infer<typeof createSessionInput>;

export interface CreatedSession {
  /** Public id (for revocation and logs); not a credential. */
  id: string;
  /** The secret to put in the cookie; returned once, never stored. */
  cookieValue: string;
  expiresAt: Date;
}

export interface SessionPrincipal extends Principal {
  sessionId: string;
}

/** What redeeming a handoff code gave: a session to start, or why not. */
export type HandoffRedemption =
  | {
      ok: true;
      user: string;
      /** The session that issued the code, to become the parent of the new session. */
      sessionId: string;
      /** The presented state the code was bound to (its cookie is to be cleared). */
      state: string;
    }
  | {
      ok: false;
      /** unknown: no such code here (made up, used, expired, another host); other-browser: minted for another browser's state. */
      reason: 'unknown' | 'other-browser';
    };

const SECRET_FORMAT = /^[A-Za-z0-9_-]{43}$/;
/** last_seen_at is written at most this often per session, not on every request. */
const LAST_SEEN_RESOLUTION_MS = 60_000;
const DEFAULT_CODE_TTL_MS = 60_000;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

const stateHash = z.string().regex(/^[0-9a-f]{64}$/, 'must be a SHA-256 in hex');

/**
 * The SHA-256 (hex) of a handoff state: the tool host keeps the state in a
 * host-only cookie and sends only this hash through berth's host, which binds
 * the code to it, so a code can be redeemed only by the browser that asked.
 */
export function handoffStateHash(state: string): string {
  return sha256(state).toString('hex');
}

/** True for a value handoffStateHash can have produced. */
export function isHandoffStateHash(value: string | null | undefined): value is string {
  return typeof value === 'string' && stateHash.safeParse(value).success;
}

export class Sessions {
  readonly #pool: Pool;

  constructor(pool: Pool) {
    this.#pool = pool;
  }

  /**
   * A new session for `user` bound to `host`. A child session (parentId) never
   * outlives its parent's absolute expiry. Fails (undefined) when the parent is
   * gone or the user is disabled.
   */
  async createSession(input: CreateSessionInput): Promise<CreatedSession | undefined> {
    const parsed = createSessionInput.safeParse(input);
    if (!parsed.success) throw invalidFromZod('Session', undefined, parsed.error);
    const s = parsed.data;
    const id = randomBytes(16).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const { rows } = await this.#pool.query<{ expires_at: Date }>(
      `insert into sessions (id, secret_sha256, user_name, host, parent_id, idle_ms, expires_at)
       select $1, $2, $3, $4, $5, $6,
              least(now() + $7 * interval '1 millisecond',
                    coalesce((select expires_at from sessions where id = $5), 'infinity'))
        where ($5::text is null or exists (select 1 from sessions where id = $5 and expires_at > now()))
          and exists (select 1 from users where name = $3 and disabled_at is null)
       returning expires_at`,
      [id, sha256(secret), s.user, s.host, s.parentId ?? null, s.idleMs, s.absoluteMs],
    );
    if (!rows[0]) return undefined;
    return { id, cookieValue: secret, expiresAt: rows[0].expires_at };
  }

  /** Who holds this cookie on this host; undefined when malformed, unknown, expired, revoked or issued for another host. */
  async verifySession(cookieValue: string, host: string): Promise<SessionPrincipal | undefined> {
    if (!SECRET_FORMAT.test(cookieValue)) return undefined;
    const { rows } = await this.#pool.query<{
      id: string;
      last_seen_at: Date;
      name: string;
      admin: boolean;
      groups: string[];
      email: string | null;
      display_name: string | null;
      uid: string;
    }>(
      `select s.id, s.last_seen_at, u.name, u.uid, u.admin, u.groups, u.email, u.display_name
         from sessions s join users u on u.name = s.user_name
        where s.secret_sha256 = $1 and s.host = $2 and s.expires_at > now() and u.disabled_at is null
          and s.last_seen_at + s.idle_ms * interval '1 millisecond' > now()`,
      [sha256(cookieValue), host],
    );
    const row = rows[0];
    if (!row) return undefined;
    if (Date.now() - row.last_seen_at.getTime() > LAST_SEEN_RESOLUTION_MS) {
      await this.#pool.query('update sessions set last_seen_at = now() where id = $1', [row.id]);
    }
    return { ...principalOf(row), sessionId: row.id };
  }

  /** Deletes the session and (by cascade) its children and codes; false when there was none. */
  async revokeSession(id: string): Promise<boolean> {
    const { rowCount } = await this.#pool.query('delete from sessions where id = $1', [id]);
    return (rowCount ?? 0) > 0;
  }

  /** Revokes every session of a user (e.g. when an admin locks them out). */
  async revokeUserSessions(user: string): Promise<number> {
    const { rowCount } = await this.#pool.query('delete from sessions where user_name = $1', [
      user,
    ]);
    return rowCount ?? 0;
  }

  /**
   * A one-time code, valid for `ttlMs` (default 60 s), redeemable only on
   * `targetHost` and only by the browser holding the state whose SHA-256 (hex,
   * see handoffStateHash) is `stateSha256`.
   */
  async createHandoffCode(
    sessionId: string,
    targetHost: string,
    stateSha256: string,
    ttlMs = DEFAULT_CODE_TTL_MS,
  ): Promise<string> {
    const host = hostName.parse(targetHost);
    const state = stateHash.parse(stateSha256);
    const code = randomBytes(32).toString('base64url');
    await this.#pool.query(
      `insert into handoff_codes (code_sha256, session_id, target_host, state_sha256, expires_at)
       values ($1, $2, $3, $4, now() + $5 * interval '1 millisecond')`,
      [sha256(code), sessionId, host, Buffer.from(state, 'hex'), ttlMs],
    );
    return code;
  }

  /**
   * Redeems a code on `host` for a browser presenting `states` (the values of its
   * handoff state cookies): the code is deleted in the same statement that reads
   * it, so it works once at most, and a code tried on the wrong host or by
   * another browser is burnt too.
   */
  async redeemHandoffCode(
    code: string,
    host: string,
    states: readonly string[],
  ): Promise<HandoffRedemption> {
    if (!SECRET_FORMAT.test(code)) return { ok: false, reason: 'unknown' };
    const { rows } = await this.#pool.query<{
      session_id: string;
      target_host: string;
      state_sha256: Buffer;
      expires_at: Date;
      user_name: string | null;
      session_expires: Date | null;
    }>(
      `with used as (delete from handoff_codes where code_sha256 = $1
                     returning session_id, target_host, state_sha256, expires_at)
       select used.*, s.user_name, s.expires_at as session_expires
         from used left join sessions s on s.id = used.session_id`,
      [sha256(code)],
    );
    const row = rows[0];
    const now = Date.now();
    if (!row || row.target_host !== host || row.expires_at.getTime() <= now)
      return { ok: false, reason: 'unknown' };
    if (!row.user_name || !row.session_expires || row.session_expires.getTime() <= now)
      return { ok: false, reason: 'unknown' };
    const state = states.find((s) => timingSafeEqual(sha256(s), row.state_sha256));
    if (state === undefined) return { ok: false, reason: 'other-browser' };
    return { ok: true, user: row.user_name, sessionId: row.session_id, state };
  }

  /** Deletes expired sessions and codes; returns how many rows went. */
  async deleteExpired(): Promise<number> {
    const a = await this.#pool.query(
      // An idle parent stays while one of its children is still in use: someone
      // working in a tool for hours has not signed out of berth.
      `delete from sessions p
        where p.expires_at <= now()
           or (p.last_seen_at + p.idle_ms * interval '1 millisecond' <= now()
               and not exists (select 1 from sessions c where c.parent_id = p.id
                                 and c.last_seen_at + c.idle_ms * interval '1 millisecond' > now()))`,
    );
    const b = await this.#pool.query('delete from handoff_codes where expires_at <= now()');
    return (a.rowCount ?? 0) + (b.rowCount ?? 0);
  }
}
