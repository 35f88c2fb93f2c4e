// Discovery routes: GET only; 405 otherwise.
import type { FastifyInstance } from 'fastify';
import { ApiError } from '../../crds/index.ts';
import type { ApiDeps } from '../context.ts';
import { apiGroupList, apiResourceList } from '../discovery.ts';
import { emptyQuery, parseQuery } from '../query.ts';
import { API_BASE } from './resources.ts';

export function registerDiscoveryRoutes(app: FastifyInstance, deps: ApiDeps): void {
  const documents: [string, () => unknown][] = [
    ['/apis', apiGroupList],
    [API_BASE, () => apiResourceList(deps.kinds)],
  ];
  for (const [url, document] of documents) {
    app.route({
      method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
      url,
      handler: async (req, reply) => {
        if (req.method !== 'GET' && req.method !== 'HEAD') {
          reply.header('Allow', 'GET, HEAD');
          throw new ApiError(
            'MethodNotAllowed',
            `method ${req.method} is not allowed here; allowed: GET`,
          );
        }
        parseQuery(emptyQuery, req.query);
        return document();
      },
    });
  }
}
