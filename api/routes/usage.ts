// GET /apis/berth/v1alpha1/usage: what the tools cost, for admins only. Sums of
// the task usage rows (store/usage.ts) over [since, until): vCPU-hours, GiB-hours,
// running hours and tasks, by user, tool, UTC day, or day × tool (`by=day-tool`,
// the web UI's plot: each row's key is the day and `tool` the tool).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ApiError, isDuration, parseDuration } from '../../crds/index.ts';
import { USAGE_GROUPINGS, usageSums } from '../../store/index.ts';
import { requireAdmin } from '../authorize.ts';
import { type ApiDeps, principalOf, withTimeout } from '../context.ts';
import { emptyQuery, parseQuery } from '../query.ts';
import { API_BASE } from './resources.ts';

/** The longest window one request may ask for (the audit log's retention, too). */
export const MAX_USAGE_WINDOW_DAYS = 400;
const DAY_MS = 86_400_000;

const WHEN_HINT =
  'a duration such as "7d" or "12h", an RFC 3339 time such as 2026-01-31T12:00:00Z, or a date such as 2026-01-31';
const once = z.string({
  error: (issue) =>
    issue.input === undefined ? `is required: ${WHEN_HINT}` : 'must be given once, as a string',
});
const rfc3339 = z.iso.datetime({ offset: true });
const isoDate = z.iso.date();

/** A duration back from now (`7d`, `12h`), an RFC 3339 time, or a date (midnight UTC). */
function when(now: number) {
  return once
    .max(64)
    .refine((s) => isDuration(s) || rfc3339.safeParse(s).success || isoDate.safeParse(s).success, {
      message: `must be ${WHEN_HINT}`,
    })
    .transform((s) =>
      isDuration(s)
        ? new Date(now - parseDuration(s))
        : new Date(isoDate.safeParse(s).success ? `${s}T00:00:00Z` : s),
    );
}

export function usageQuery(now = Date.now()) {
  return emptyQuery
    .extend({
      since: when(now),
      until: when(now).optional(),
      by: z
        .enum(USAGE_GROUPINGS, { error: `must be one of ${USAGE_GROUPINGS.join(', ')}` })
        .default('user'),
    })
    .superRefine((q, ctx) => {
      // zod runs this even when a field failed (and kept its input): only for real times.
      if (!(q.since instanceof Date) || (q.until !== undefined && !(q.until instanceof Date)))
        return;
      const until = q.until ?? new Date(now);
      if (q.since.getTime() >= until.getTime()) {
        ctx.addIssue({
          code: 'custom',
          path: ['since'],
          message: `must be before until (${until.toISOString()})`,
        });
      } else if (until.getTime() - q.since.getTime() > MAX_USAGE_WINDOW_DAYS * DAY_MS) {
        ctx.addIssue({
          code: 'custom',
          path: ['since'],
          message: `the window from since to until must be at most ${MAX_USAGE_WINDOW_DAYS} days`,
        });
      }
    });
}

export function registerUsageRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.route({
    method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    url: `${API_BASE}/usage`,
    handler: async (req, reply) => {
      const p = principalOf(req);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        reply.header('Allow', 'GET, HEAD');
        throw new ApiError('MethodNotAllowed', 'usage is read-only; allowed: GET');
      }
      requireAdmin(p, 'read usage');
      const now = new Date();
      const q = parseQuery(usageQuery(now.getTime()), req.query);
      return withTimeout(
        usageSums(deps.pool, { since: q.since, until: q.until ?? now, by: q.by, now }),
        deps.config.requestTimeoutMs,
        'summing usage',
      );
    },
  });
}
