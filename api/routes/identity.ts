// Who am I, and token management (admin only). Token secrets appear exactly once,
// in the response to their creation.
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

const createTokenBody = z.strictObject({
  user: namespaceName,
  admin: z.boolean().optional(),
  description: z.string().max(1024).optional(),
  /** A duration such as "30d" or "12h"; absent: the token does not expire. */
  expiresIn: z
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
    )
    .optional(),
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
      parseQuery(emptyQuery.extend({ user: z.string().max(63).optional() }), req.query);
      if (req.method === 'GET' || req.method === 'HEAD') {
        requireAdmin(p, 'list tokens');
        const user = (req.query as { user?: string }).user;
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
      const { id, token } = await timed(
        withTransaction(deps.pool, async (db) => {
          const t = await deps.identity.createToken(
            {
              user: b.user,
              ...(b.admin !== undefined ? { admin: b.admin } : {}),
              ...(b.description !== undefined ? { description: b.description } : {}),
              ...(b.expiresIn !== undefined ? { expiresInMs: parseDuration(b.expiresIn) } : {}),
            },
            db,
          );
          const target = { kind: 'Token', name: t.id, user: b.user };
          const detail = {
            admin: b.admin ?? false,
            ...(b.expiresIn ? { expiresIn: b.expiresIn } : {}),
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
      return { id, token, user: b.user };
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
      requireAdmin(p, 'revoke tokens');
      const r = tokenId.safeParse((req.params as { id: string }).id);
      if (!r.success)
        throw new ApiError('BadRequest', `token id in the URL: ${r.error.issues[0]!.message}`);
      if (!(await timed(deps.identity.revokeToken(r.data)))) {
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
