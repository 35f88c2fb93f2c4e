// A signed-in identity becomes a berth user. The user's slug (their namespace) is
// a DNS label derived once from the verified email's local part (else the
// preferred username, else the subject) and then remembered per (issuer,
// subject), so it never changes when their email or name does. An identity is
// bound to a user by (issuer, subject) only: a new identity whose slug is already
// a user (made by a token, the bootstrap `admin`, another identity) or a reserved
// name gets a numbered slug, never that row, its namespace or its admin flag.
// Only the development sign-in, local by construction (config.ts), picks the
// existing user of its name.
import { createHash } from 'node:crypto';
import { isReservedUserName } from '../../crds/index.ts';
import type { Identity, Pool, PoolClient, Principal } from '../../store/index.ts';

export interface ExternalIdentity {
  /** The identity provider (OIDC issuer, the ALB's issuer, or `berth-dev`). */
  issuer: string;
  subject: string;
  email?: string;
  displayName?: string;
  preferredUsername?: string;
  groups: string[];
  /** Whether the identity provider's groups make the user an admin (or a dev user is one). */
  admin?: boolean;
}

/** The development sign-in's issuer: its users are local and named by config. */
export const DEV_ISSUER = 'berth-dev';

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
 * `base`, then `base-2`, `base-3`...: slugs to try, each a DNS label, none
 * reserved. A base under a reserved prefix (`berth-…`) is prefixed with `u-`,
 * since no number would free it.
 */
function* candidateSlugs(slug: string): Generator<string> {
  const base = isReservedUserName(`${slug}-2`) ? `u-${slug}`.slice(0, MAX_LABEL) : slug;
  for (let n = 1; n < 1000; n++) {
    const suffix = n === 1 ? '' : `-${n}`;
    const candidate = `${base.slice(0, MAX_LABEL - suffix.length).replace(/-+$/, '')}${suffix}`;
    if (!isReservedUserName(candidate)) yield candidate;
  }
}

/** A new users row with a free slug, claimed in the same statement that checks it is free. */
async function claimNewUser(client: PoolClient, base: string): Promise<string> {
  for (const candidate of candidateSlugs(base)) {
    const { rowCount } = await client.query(
      'insert into users (name) values ($1) on conflict (name) do nothing',
      [candidate],
    );
    if (rowCount === 1) return candidate;
  }
  throw new Error('no free user name');
}

/**
 * The user for an identity: the remembered one, or a new one with a free slug.
 * Email, display name and groups are refreshed on every sign-in, and so is admin
 * for an identity provider's users: it is exactly "in one of BERTH_ADMIN_GROUPS"
 * (removed from the group, not admin from the next sign-in). The development
 * sign-in grants the admin role its list names and takes nothing away.
 */
export async function upsertUserFor(
  pool: Pool,
  identity: Identity,
  id: ExternalIdentity,
): Promise<Principal> {
  const dev = id.issuer === DEV_ISSUER;
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
      name = dev ? candidateSlugs(base).next().value : await claimNewUser(client, base);
      if (!name) throw new Error('no free user name');
    }
    const user = await identity.upsertUser(
      {
        name,
        ...(id.email ? { email: id.email.slice(0, 320) } : {}),
        ...(id.displayName ? { displayName: id.displayName.slice(0, 256) } : {}),
        groups: id.groups.filter((g) => g.length > 0 && g.length <= 256).slice(0, 256),
        ...(dev ? (id.admin ? { admin: true } : {}) : { admin: id.admin === true }),
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
