// GET /apis/berth/v1alpha1/datasetaccess: the caller's access to every Dataset
// (dataset-summary.ts), for the web UI's Data page and `berth get datasets`.
// Every signed-in user may ask, about themselves only.
import type { FastifyInstance } from 'fastify';
import { type AccessRequest, ApiError, type Dataset } from '../../crds/index.ts';
import { type ApiDeps, principalOf, withTimeout } from '../context.ts';
import { datasetAccessSummary } from '../dataset-summary.ts';
import { emptyQuery, parseQuery } from '../query.ts';
import { API_BASE } from './resources.ts';

export function registerDatasetAccessRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.route({
    method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    url: `${API_BASE}/datasetaccess`,
    handler: async (req, reply) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        reply.header('Allow', 'GET, HEAD');
        throw new ApiError(
          'MethodNotAllowed',
          `method ${req.method} is not allowed here; allowed: GET`,
        );
      }
      parseQuery(emptyQuery, req.query);
      const p = principalOf(req);
      const read = async () => {
        const [datasets, mine] = await Promise.all([
          deps.store.list('Dataset', {}),
          deps.store.list('AccessRequest', { namespace: p.name }),
        ]);
        return datasetAccessSummary(
          datasets.items as unknown as Dataset[],
          mine.items as unknown as AccessRequest[],
          p,
        );
      };
      return await withTimeout(read(), deps.config.requestTimeoutMs, 'GET datasetaccess');
    },
  });
}
