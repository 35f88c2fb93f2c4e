// Open endpoints: liveness, readiness (the database answers) and metrics.
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../crds/index.ts';
import { type ApiDeps, withTimeout } from '../context.ts';

export function registerHealthRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const open = { public: true };
  app.get('/healthz', { config: open }, async (_req, reply) => reply.type('text/plain').send('ok'));
  app.get('/readyz', { config: open }, async (_req, reply) => {
    try {
      await withTimeout(deps.pool.query('select 1'), 2000, 'the database check');
    } catch {
      throw new ApiError('ServiceUnavailable', 'the database is not reachable', {
        retryAfterSeconds: 1,
      });
    }
    return reply.type('text/plain').send('ok');
  });
  app.get('/metrics', { config: open }, async (_req, reply) => {
    const body = await deps.metrics.registry.metrics();
    return reply.type(deps.metrics.registry.contentType).send(body);
  });
}
