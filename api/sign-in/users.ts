// A signed-in identity becomes a berth user. The user's slug (their namespace) is
// a DNS label derived once from the email's local part (else the preferred
// username, else the subject) and then remembered per (issuer, subject), so it
// never changes when their email or name does, and a second identity whose email
// would give the same slug gets a numbered one instead of someone else's tools.
import { createHash } from 'node:crypto';
import type { Identity, Pool, Principal } from '../../store/index.ts';

export interface ExternalIdentity {
  /** The identity provider (OIDC issuer, the ALB's issuer, or `berth-dev`). */
  issuer: string;
  subject: string;
  email?: string;
  displayName?: string;
  preferredUsername?: string;
  groups: string[];
  /** Set when the identity provider's groups make the user an admin (or a dev user is one). */
  admin?: boolean;
}

const MAX_LABEL = 63;

/** A DNS label from free text: lowercase letters, digits and single hyphens. */
export function slugify(text: string): string {
  const s = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .replace(/-{2,}/g, '-')
    .slice(0, MAX_LABEL)
    .replace(/-+$/, '');
  return s;
}

export function baseSlug(id: ExternalIdentity): string {
  const candidates = [id.email?.split('@')[0], id.preferredUsername, id.subject];
  for (const c of candidates) {
    const s = c ? slugify(c) : '';
    // `--` separates tool and user in host names, so it never appears (slugify collapses it).
    if (s && /^[a-z0-9]/.test(s)) return s;
  }
  return `u-${createHash('sha256').update(id.subject).digest('hex').slice(0, 12)}`;
}

/**
 * The user for an identity: the remembered one, or a new one with a free slug.
 * Email, display name and groups are refreshed on every sign-in. Admin is only
 * ever granted here (from admin groups), never taken away, so an admin made with
 * a token stays one.
 */
export async function upsertUserFor(
  pool: Pool,
  identity: Identity,
  id: ExternalIdentity,
): Promise<Principal> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    // One sign-in at a time per identity (two tabs finishing at once).
    await client.query('select pg_advisory_xact_lock(hashtextextended($1, 7301))', [
      `${id.issuer}\n${id.subject}`,
    ]);
    const known = await client.query<{ user_name: string }>(
      'select user_name from user_identities where issuer = $1 and subject = $2',
      [id.issuer, id.subject],
    );
    let name = known.rows[0]?.user_name;
    if (!name) {
      const base = baseSlug(id);
      for (let n = 1; n < 1000 && !name; n++) {
        const suffix = n === 1 ? '' : `-${n}`;
        const candidate = `${base.slice(0, MAX_LABEL - suffix.length).replace(/-+$/, '')}${suffix}`;
        const taken = await client.query(
          `select 1 from users u where u.name = $1
             and (exists (select 1 from user_identities i where i.user_name = u.name)
                  or exists (select 1 from api_tokens t where t.user_name = u.name))`,
          [candidate],
        );
        // A bare users row (created by an admin, no identity or token yet) is claimed by
        // the first identity with that slug, as a dev user's row is.
        if (taken.rowCount === 0 || id.issuer === 'berth-dev') name = candidate;
      }
      if (!name) throw new Error('no free user name');
    }
    const user = await identity.upsertUser(
      {
        name,
        ...(id.email ? { email: id.email.slice(0, 320) } : {}),
        ...(id.displayName ? { displayName: id.displayName.slice(0, 256) } : {}),
        groups: id.groups.filter((g) => g.length > 0 && g.length <= 256).slice(0, 256),
        ...(id.admin ? { admin: true } : {}),
      },
      client,
    );
    if (!known.rows[0]) {
      await client.query(
        'insert into user_identities (issuer, subject, user_name) values ($1, $2, $3)',
        [id.issuer, id.subject, name],
      );
    }
    await client.query('commit');
    return {
      name: user.name,
      admin: user.admin,
      groups: user.groups,
      ...(user.email ? { email: user.email } : {}),
      ...(user.displayName ? { displayName: user.displayName } : {}),
    };
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}
