// The approval subresource: POST
// /apis/berth/v1alpha1/namespaces/NS/accessrequests/NAME/approval with
// `{"decision": "Approved"|"Denied", "comment"?}`. Admins and the Dataset's
// approvers decide (never their own request: crds `mayDecide`); the decision is
// the request's status, written through the store's status write with its audit
// entry (`accessrequest.approved|denied`) in the same transaction. A decision may
// be changed later: Denied after Approved revokes.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import {
  type AccessRequest,
  ApiError,
  approvalBody,
  type BerthObject,
  type Dataset,
  invalidFromZod,
  isApiError,
  isApprover,
  mayDecide,
} from '../../crds/index.ts';
import { type Principal, recordAudit } from '../../store/index.ts';
import { auditFrom } from '../audit.ts';
import { parseBody } from '../body.ts';
import { objectBodyFormat } from '../content-types.ts';
import { type ApiDeps, principalOf, withTimeout } from '../context.ts';
import { approvedDatasets } from '../data-access.ts';
import { parseQuery, type WriteQuery, writeQuery } from '../query.ts';
import { pathName, pathNamespace } from './paths.ts';
import { API_BASE } from './resources.ts';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

function refused(p: Principal, ns: string, name: string, why: string): ApiError {
  return new ApiError(
    'Forbidden',
    `user "${p.name}" cannot create accessrequests/approval "${name}" in namespace "${ns}": ${why}`,
    { kind: 'accessrequests', name },
  );
}

/** The request, or 404; someone who approves nothing learns nothing about other namespaces. */
async function requestToDecide(
  deps: ApiDeps,
  p: Principal,
  ns: string,
  name: string,
): Promise<AccessRequest> {
  if (!p.admin && ns !== p.name && (await approvedDatasets(deps.store, p)).size === 0)
    throw refused(p, ns, name, 'not an approver of any Dataset');
  return (await deps.store.get('AccessRequest', {
    namespace: ns,
    name,
  })) as unknown as AccessRequest;
}

async function datasetOf(deps: ApiDeps, name: string): Promise<Dataset | undefined> {
  try {
    return (await deps.store.get('Dataset', { name })) as unknown as Dataset;
  } catch (err) {
    if (isApiError(err, 'NotFound')) return undefined;
    throw err;
  }
}

async function decide(req: FastifyRequest, deps: ApiDeps): Promise<BerthObject> {
  const p = principalOf(req);
  const params = req.params as { namespace?: string; name?: string };
  const ns = pathNamespace(params.namespace);
  const name = pathName(params.name);
  const q: WriteQuery = parseQuery(writeQuery, req.query);
  const raw = parseBody(
    req.body as Buffer | undefined,
    objectBodyFormat(req.headers['content-type']),
    deps.config.maxBodyDepth,
  );
  const parsed = approvalBody.safeParse(raw ?? {});
  if (!parsed.success) throw invalidFromZod('Approval', name, parsed.error);
  const body = parsed.data;

  const request = await requestToDecide(deps, p, ns, name);
  const dataset = request.spec.dataset;
  const ds = await datasetOf(deps, dataset);
  if (!ds && !p.admin)
    throw refused(p, ns, name, `Dataset "${dataset}" does not exist; only an admin may decide`);
  if (ds && !mayDecide(ds, p, ns)) {
    throw refused(
      p,
      ns,
      name,
      isApprover(ds, p)
        ? 'you cannot decide your own request; another approver or an admin must'
        : `not an approver of Dataset "${dataset}"`,
    );
  }
  const status = {
    phase: body.decision,
    decidedBy: p.name,
    // RFC 3339 in seconds, as every timestamp berth writes.
    decidedAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    // null removes an earlier decision's comment (merge patch).
    comment: body.comment ?? null,
  };
  const who = auditFrom(req, p);
  return await deps.store.patchStatus(
    'AccessRequest',
    { namespace: ns, name },
    { status },
    {
      ...(q.dryRun === 'All' ? { dryRun: true } : {}),
      inTransaction: async (client) => {
        await recordAudit(
          client,
          {
            ...who,
            action:
              body.decision === 'Approved' ? 'accessrequest.approved' : 'accessrequest.denied',
            target: { kind: 'AccessRequest', namespace: ns, name, user: ns },
            detail: {
              dataset,
              ...(body.comment !== undefined ? { commentLength: body.comment.length } : {}),
            },
          },
          req.log,
        );
      },
    },
  );
}

export function registerApprovalRoutes(app: FastifyInstance, deps: ApiDeps): void {
  app.route({
    method: METHODS,
    url: `${API_BASE}/namespaces/:namespace/accessrequests/:name/approval`,
    handler: async (req, reply) => {
      if (req.method !== 'POST') {
        reply.header('Allow', 'POST');
        throw new ApiError(
          'MethodNotAllowed',
          `method ${req.method} is not allowed here; allowed: POST`,
        );
      }
      return await withTimeout(
        decide(req, deps),
        deps.config.requestTimeoutMs,
        'POST accessrequests/approval',
      );
    },
  });
}
