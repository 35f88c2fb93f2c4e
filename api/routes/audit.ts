// GET /apis/berth/v1alpha1/audit: the audit log, newest first, for admins only.
// Filters: user (what they did, or what was done to something of theirs), action
// (an action or a prefix of one), since (a duration such as 7d, or a time), limit,
// continue (from the previous page), as a list does.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ApiError, isDuration, parseDuration } from '../../crds/index.ts';
import { listAudit } from '../../store/index.ts';
import { requireAdmin } from '../authorize.ts';
import { type ApiDeps, principalOf, withTimeout } from '../context.ts';
import { emptyQuery, parseQuery } from '../query.ts';
import { API_BASE } from './resources.ts';

const once = z.string({ error: 'must be given once, as a string' });

export const auditQuery = emptyQuery.extend({
  user: once.max(253).optional(),
  action: once
    .max(64)
    .regex(/^[a-z.]+$/, 'must be an action or a prefix of one, e.g. "instance." or "signin"')
    .optional(),
  since: once
    .max(64)
    .refine((s) => isDuration(s) || !Number.isNaN(Date.parse(s)), {
      message: 'must be a duration such as "7d" or "12h", or a time such as 2026-01-31T12:00:00Z',
    })
    .transform((s) => (isDuration(s) ? new Date(Date.now() - parseDuration(s)) : new Date(s)))
    .optional(),
  limit: once
    .regex(/^[0-9]{1,4}$/, 'must be an integer from 1 to 1000')
    .transform(Number)
    .refine((n) => n >= 1 && n <= 1000, { message: 'must be an integer from 1 to 1000' })
    .optional(),
  continue: once.max(256).optional(),
});

export function registerAuditRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.route({
    method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    url: `${API_BASE}/audit`,
    handler: async (req, reply) => {
      const p = principalOf(req);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        reply.header('Allow', 'GET, HEAD');
        throw new ApiError('MethodNotAllowed', 'the audit log is read-only; allowed: GET');
      }
      requireAdmin(p, 'read the audit log');
      const q = parseQuery(auditQuery, req.query);
      const page = await withTimeout(
        listAudit(deps.pool, {
          ...(q.user ? { user: q.user } : {}),
          ...(q.action ? { action: q.action } : {}),
          ...(q.since ? { since: q.since } : {}),
          ...(q.limit ? { limit: q.limit } : {}),
          ...(q.continue ? { continue: q.continue } : {}),
        }),
        deps.config.requestTimeoutMs,
        'reading the audit log',
      );
      return {
        apiVersion: 'v1',
        kind: 'AuditEntryList',
        metadata: page.continue ? { continue: page.continue } : {},
        items: page.items,
      };
    },
  });
}
