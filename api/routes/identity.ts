// Who am I, and API tokens: admins create them; everyone lists and revokes their
// own, admins anyone's. Token secrets appear exactly once, in the response to
// their creation. Every token expires: `ttl` (or its older name `expiresIn`),
// else the default lifetime; more than the maximum is refused (422, field ttl).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ApiError, invalidFromZod, namespaceName, parseDuration } from '../../crds/index.ts';
import { recordAudit, recordAuditAfter, withTransaction } from '../../store/index.ts';
import { auditFrom } from '../audit.ts';
import { requireAdmin } from '../authorize.ts';
import { parseBody } from '../body.ts';
import { objectBodyFormat } from '../content-types.ts';
import { type ApiDeps, principalOf, withTimeout } from '../context.ts';
import { emptyQuery, parseQuery } from '../query.ts';
import { API_BASE } from './resources.ts';

const duration = z
  .string()
  .max(32)
  .refine(
    (s) => {
      try {
        return parseDuration(s) > 0;
      } catch {
        return false;
      }
    },
    { message: 'must be a duration such as "12h" or "30d"' },
  );

const createTokenBody = z.strictObject({
  user: namespaceName,
  admin: z.boolean().optional(),
  description: z.string().max(1024).optional(),
  /** A duration such as "30d" or "12h"; absent: the default lifetime. */
  ttl: duration.optional(),
  /** The older name of `ttl`. */
  expiresIn: duration.optional(),
});

const listTokensQuery = emptyQuery.extend({
  user: z.string({ error: 'must be given once, as a string' }).max(63).optional(),
  allUsers: z.enum(['true', 'false'], { error: 'must be true or false' }).optional(),
});

const tokenId = z.string().regex(/^[0-9a-f]{16}$/, 'must be a token id: 16 hexadecimal digits');

function methodNotAllowed(allowed: string[]): ApiError {
  return new ApiError(
    'MethodNotAllowed',
    `method not allowed here; allowed: ${allowed.join(', ')}`,
  );
}

export function registerIdentityRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
  const timed = <T>(work: Promise<T>) =>
    withTimeout(work, deps.config.requestTimeoutMs, 'the request');

  app.route({
    method: methods,
    url: `${API_BASE}/whoami`,
    handler: async (req, reply) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        reply.header('Allow', 'GET, HEAD');
        throw methodNotAllowed(['GET']);
      }
      parseQuery(emptyQuery, req.query);
      const p = principalOf(req);
      return {
        user: p.name,
        namespace: p.name,
        admin: p.admin,
        groups: p.groups,
        ...(p.email ? { email: p.email } : {}),
        ...(p.displayName ? { displayName: p.displayName } : {}),
      };
    },
  });

  app.route({
    method: methods,
    url: `${API_BASE}/tokens`,
    handler: async (req, reply) => {
      const p = principalOf(req);
      const q = parseQuery(listTokensQuery, req.query);
      if (req.method === 'GET' || req.method === 'HEAD') {
        // Your own by default; someone else's (?user=) or everyone's (?allUsers=true): admins.
        const all = q.allUsers === 'true';
        const user = all ? undefined : (q.user ?? p.name);
        if (all || user !== p.name) requireAdmin(p, "list other users' tokens");
        const items = await timed(deps.identity.listTokens(user));
        return { apiVersion: 'v1', kind: 'TokenList', items };
      }
      if (req.method !== 'POST') {
        reply.header('Allow', 'GET, HEAD, POST');
        throw methodNotAllowed(['GET', 'POST']);
      }
      requireAdmin(p, 'create tokens');
      const raw = parseBody(
        req.body as Buffer | undefined,
        objectBodyFormat(req.headers['content-type']),
        deps.config.maxBodyDepth,
      );
      const parsed = createTokenBody.safeParse(raw ?? {});
      if (!parsed.success) throw invalidFromZod('Token', undefined, parsed.error);
      const b = parsed.data;
      if (b.ttl !== undefined && b.expiresIn !== undefined)
        throw new ApiError('Invalid', 'Token is invalid: give ttl or expiresIn, not both', {
          kind: 'Token',
          causes: [{ field: 'expiresIn', message: 'give ttl or expiresIn, not both' }],
        });
      const ttl = b.ttl ?? b.expiresIn;
      const { id, token, expiresAt } = await timed(
        withTransaction(deps.pool, async (db) => {
          const t = await deps.identity.createToken(
            {
              user: b.user,
              ...(b.admin !== undefined ? { admin: b.admin } : {}),
              ...(b.description !== undefined ? { description: b.description } : {}),
              ...(ttl !== undefined ? { expiresInMs: parseDuration(ttl) } : {}),
            },
            db,
          );
          const target = { kind: 'Token', name: t.id, user: b.user };
          const detail = {
            admin: b.admin ?? false,
            ...(ttl ? { ttl } : {}),
            expiresAt: t.expiresAt,
          };
          await recordAudit(
            db,
            { ...auditFrom(req), action: 'token.created', target, detail },
            req.log,
          );
          return t;
        }),
      );
      req.log.info(
        { tokenId: id, user: b.user, admin: b.admin ?? false, by: p.name },
        'token created',
      );
      reply.code(201);
      return { id, token, user: b.user, expiresAt };
    },
  });

  app.route({
    method: methods,
    url: `${API_BASE}/tokens/:id`,
    handler: async (req, reply) => {
      const p = principalOf(req);
      parseQuery(emptyQuery, req.query);
      if (req.method !== 'DELETE') {
        reply.header('Allow', 'DELETE');
        throw methodNotAllowed(['DELETE']);
      }
      const r = tokenId.safeParse((req.params as { id: string }).id);
      if (!r.success)
        throw new ApiError('BadRequest', `token id in the URL: ${r.error.issues[0]!.message}`);
      // Your own, or (admins) anyone's; another user's token is "not found", not "forbidden".
      if (!(await timed(deps.identity.revokeToken(r.data, p.admin ? undefined : p.name)))) {
        throw new ApiError('NotFound', `token "${r.data}" not found`, {
          kind: 'tokens',
          name: r.data,
        });
      }
      req.log.info({ tokenId: r.data, by: p.name }, 'token revoked');
      const target = { kind: 'Token', name: r.data };
      await recordAuditAfter(
        deps.pool,
        { ...auditFrom(req), action: 'token.revoked', target },
        req.log,
      );
      return {
        apiVersion: 'v1',
        kind: 'Status',
        metadata: {},
        status: 'Success',
        details: { name: r.data, kind: 'tokens' },
      };
    },
  });
}
