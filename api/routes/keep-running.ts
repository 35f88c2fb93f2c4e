// "Keep it running": POST
// /apis/berth/v1alpha1/namespaces/NS/toolinstances/NAME/keep-running, by the
// instance's owner or an admin (anyone else gets the 404 a missing instance
// gets, so it learns nothing). It is a person's use of the tool: one status
// write sets status.lastActivityAt to now and removes an Idle status.stopWarning
// (the culler then starts counting idleness again). A MaxLifetime warning cannot
// be postponed: it stays, and the answer says so in a `Warning` header (as
// Kubernetes warns) besides the instance it answers. No audit entry (activity is
// not an action on the instance); a log line.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import {
  ApiError,
  type BerthObject,
  invalidFromZod,
  isApiError,
  type ToolInstance,
} from '../../crds/index.ts';
import { parseBody } from '../body.ts';
import { objectBodyFormat } from '../content-types.ts';
import { type ApiDeps, principalOf, withTimeout } from '../context.ts';
import { pathName, pathNamespace } from './paths.ts';
import { API_BASE } from './resources.ts';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
/** `{}` is the whole body; anything longer is not a keep-running request. */
const BODY_LIMIT = 1024;
const keepRunningBody = z.strictObject({});

function notFound(name: string): ApiError {
  // The store's own words for a missing instance: another user's looks the same.
  return new ApiError('NotFound', `toolinstances "${name}" not found`, {
    kind: 'toolinstances',
    name,
  });
}

/** The sentence a MaxLifetime warning answers with: the stop stays where it is. */
export function maxLifetimeNote(name: string, stopAt: string): string {
  return `${name} reaches its maxLifetime at ${stopAt}; that stop cannot be postponed`;
}

async function keepRunning(
  req: FastifyRequest,
  reply: FastifyReply,
  deps: ApiDeps,
): Promise<BerthObject> {
  const p = principalOf(req);
  const params = req.params as { namespace?: string; name?: string };
  const ns = pathNamespace(params.namespace);
  const name = pathName(params.name);
  if (!p.admin && ns !== p.name) throw notFound(name);
  const raw = req.body as Buffer | undefined;
  if (raw && raw.length > 0) {
    const parsed = keepRunningBody.safeParse(
      parseBody(raw, objectBodyFormat(req.headers['content-type']), deps.config.maxBodyDepth),
    );
    if (!parsed.success) throw invalidFromZod('KeepRunning', name, parsed.error);
  }
  const key = { namespace: ns, name };
  for (let attempt = 0; ; attempt++) {
    let current: ToolInstance;
    try {
      current = (await deps.store.get('ToolInstance', key)) as unknown as ToolInstance;
    } catch (err) {
      if (isApiError(err, 'NotFound')) throw notFound(name);
      throw err;
    }
    const warning = current.status?.stopWarning;
    const status: Record<string, unknown> = {
      lastActivityAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
    if (warning?.reason === 'Idle') status.stopWarning = null;
    try {
      // Conditional on what was read, so a warning the culler writes meanwhile is judged again.
      const updated = await deps.store.patchStatus(
        'ToolInstance',
        key,
        { status },
        { resourceVersion: current.metadata.resourceVersion ?? '' },
      );
      req.log.info(
        {
          namespace: ns,
          instance: name,
          user: p.name,
          cancelled: warning?.reason === 'Idle' ? 'Idle' : undefined,
        },
        'keep it running',
      );
      if (warning?.reason === 'MaxLifetime') {
        const note = maxLifetimeNote(name, warning.stopAt);
        reply.header('Warning', `299 berth ${JSON.stringify(note)}`);
      }
      return updated;
    } catch (err) {
      if (!isApiError(err, 'Conflict') || attempt >= 5) throw err;
    }
  }
}

export function registerKeepRunningRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.route({
    method: METHODS,
    url: `${API_BASE}/namespaces/:namespace/toolinstances/:name/keep-running`,
    bodyLimit: BODY_LIMIT,
    handler: async (req, reply) => {
      if (req.method !== 'POST') {
        reply.header('Allow', 'POST');
        throw new ApiError(
          'MethodNotAllowed',
          `method ${req.method} is not allowed here; allowed: POST`,
        );
      }
      return await withTimeout(
        keepRunning(req, reply, deps),
        deps.config.requestTimeoutMs,
        'POST toolinstances/keep-running',
      );
    },
  });
}
