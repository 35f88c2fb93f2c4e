// The resource endpoints, generic over the registry: every kind in KINDS gets
// its collection, item and (when it has one) status URLs, so a new kind appears
// here without a line of API code. Each URL template is one fastify route for
// every method, so a method the URL does not support is a 405, not a 404.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  API_VERSION,
  ApiError,
  type BerthObject,
  isApiError,
  type KindInfo,
} from '../../crds/index.ts';
import type { WriteOptions } from '../../store/index.ts';
import { admitNewAccessRequest, labelWithDataset } from '../access-request-admission.ts';
import {
  admissionOptions,
  checkMergePatch,
  checkToolRef,
  objectFromBody,
  type UrlScope,
} from '../admission.ts';
import { auditedWrite } from '../audit.ts';
import { authorize, forbidden, type Target } from '../authorize.ts';
import { parseBody } from '../body.ts';
import { objectBodyFormat, patchFormat } from '../content-types.ts';
import { type ApiDeps, principalOf, withTimeout } from '../context.ts';
import { readView } from '../data-access.ts';
import {
  deleteQuery,
  getQuery,
  listQuery,
  parseFieldSelector,
  parseQuery,
  type WriteQuery,
  writeQuery,
} from '../query.ts';
import type { Key } from '../store-port.ts';
import type { Call } from './call.ts';
import { deleteOptionsFromBody } from './delete-options.ts';
import { pathName, pathNamespace } from './paths.ts';
import { serveWatch } from './watch.ts';

type Shape = 'allNamespaces' | 'collection' | 'item' | 'status';

const ROUTE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

const ALLOWED: Record<Shape, string[]> = {
  allNamespaces: ['GET'],
  collection: ['GET', 'POST'],
  item: ['GET', 'PUT', 'PATCH', 'DELETE'],
  status: ['GET', 'PUT', 'PATCH'],
};

export const API_BASE = `/apis/${API_VERSION}`;

/** The URL templates of one kind. */
function kindRoutes(kind: KindInfo): { url: string; shape: Shape }[] {
  const routes: { url: string; shape: Shape }[] = [];
  const prefix = kind.namespaced
    ? `${API_BASE}/namespaces/:namespace/${kind.plural}`
    : `${API_BASE}/${kind.plural}`;
  if (kind.namespaced) routes.push({ url: `${API_BASE}/${kind.plural}`, shape: 'allNamespaces' });
  routes.push({ url: prefix, shape: 'collection' });
  routes.push({ url: `${prefix}/:name`, shape: 'item' });
  if (kind.statusSubresource) routes.push({ url: `${prefix}/:name/status`, shape: 'status' });
  return routes;
}

export function registerResourceRoutes(app: FastifyInstance, deps: ApiDeps): void {
  for (const kind of deps.kinds) {
    for (const { url, shape } of kindRoutes(kind)) {
      app.route({
        method: [...ROUTE_METHODS],
        url,
        handler: (req, reply) => handle(req, reply, deps, kind, shape),
      });
    }
  }
}

function methodNotAllowed(
  reply: FastifyReply,
  method: string,
  shape: Shape,
  kind: KindInfo,
): ApiError {
  const allowed = ALLOWED[shape];
  reply.header('Allow', [...allowed, ...(allowed.includes('GET') ? ['HEAD'] : [])].join(', '));
  const hint =
    shape === 'allNamespaces' && method === 'POST'
      ? `; create ${kind.plural} under /namespaces/NAMESPACE/${kind.plural}`
      : '';
  return new ApiError(
    'MethodNotAllowed',
    `method ${method} is not allowed here; allowed: ${allowed.join(', ')}${hint}`,
  );
}

async function handle(
  req: FastifyRequest,
  reply: FastifyReply,
  deps: ApiDeps,
  kind: KindInfo,
  shape: Shape,
): Promise<unknown> {
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  if (!ALLOWED[shape].includes(method)) throw methodNotAllowed(reply, method, shape, kind);
  const p = principalOf(req);
  const params = req.params as { namespace?: string; name?: string };
  const namespace =
    kind.namespaced && shape !== 'allNamespaces' ? pathNamespace(params.namespace) : undefined;
  const name = shape === 'item' || shape === 'status' ? pathName(params.name) : undefined;
  const scope: UrlScope = {
    kind,
    ...(namespace !== undefined ? { namespace } : {}),
    ...(name !== undefined ? { name } : {}),
  };
  const key: Key = { name: name ?? '', ...(namespace !== undefined ? { namespace } : {}) };
  const call: Call = { req, reply, deps, p, kind, scope, key };

  if (shape === 'allNamespaces' || shape === 'collection') {
    if (method === 'GET') {
      const q = parseQuery(listQuery, req.query);
      if (q.watch) {
        authorize(p, 'watch', target(call));
        return await serveWatch(call, q);
      }
      authorize(p, 'list', target(call));
      return await timed(call, list(call, q));
    }
    return await timed(call, create(call));
  }
  const status = shape === 'status';
  switch (method) {
    case 'GET':
      return await timed(call, get(call, status));
    case 'PUT':
      return await timed(call, update(call, status));
    case 'PATCH':
      return await timed(call, patch(call, status));
    default:
      return await timed(call, remove(call));
  }
}

function target(c: Call, subresource?: 'status'): Target {
  return {
    kind: c.kind,
    ...(c.scope.namespace !== undefined ? { namespace: c.scope.namespace } : {}),
    ...(c.scope.name !== undefined ? { name: c.scope.name } : {}),
    ...(subresource ? { subresource } : {}),
  };
}

function timed<T>(c: Call, work: Promise<T>): Promise<T> {
  return withTimeout(work, c.deps.config.requestTimeoutMs, `${c.req.method} ${c.kind.plural}`);
}

/** Dry run or not; with the call, a main-object write also records its audit entry (api/audit.ts). */
function writeOptions(q: WriteQuery, c?: Call): WriteOptions {
  return { ...(q.dryRun === 'All' ? { dryRun: true } : {}), ...(c ? auditedWrite(c.req) : {}) };
}

/** Options of a write to the main resource: the query's, and the launch admission (admission.ts). */
function mainWriteOptions(c: Call, q: WriteQuery): WriteOptions {
  return admissionOptions(c.kind, c.deps.config, writeOptions(q, c));
}

function body(c: Call, format: 'json' | 'yaml'): unknown {
  return parseBody(c.req.body as Buffer | undefined, format, c.deps.config.maxBodyDepth);
}

async function list(c: Call, q: ReturnType<typeof listQuery.parse>): Promise<unknown> {
  const matchesFields = parseFieldSelector(q.fieldSelector);
  const result = await c.deps.store.list(c.kind.kind, {
    ...(c.scope.namespace !== undefined ? { namespace: c.scope.namespace } : {}),
    ...(q.labelSelector ? { labelSelector: q.labelSelector } : {}),
    ...(q.limit ? { limit: q.limit } : {}),
    ...(q.continue ? { continue: q.continue } : {}),
  });
  const view = await readView(c.deps.store, c.p, c.kind, c.scope.namespace);
  const filtered = result.items
    .filter((o) => view.visible(o) && (!matchesFields || matchesFields(o)))
    .map(view.shape);
  if (filtered.length === result.items.length) return { ...result, items: filtered };
  // Filtering makes the store's count of remaining items meaningless.
  const { remainingItemCount: _, ...metadata } = result.metadata;
  return { ...result, metadata, items: filtered };
}

/** Why a get of an object the caller may not see is refused. */
function hiddenReason(kind: KindInfo): string {
  return kind.kind === 'AccessRequest'
    ? 'you may read your own requests and those for datasets you approve'
    : 'not in its access list';
}

async function get(c: Call, status: boolean): Promise<BerthObject> {
  parseQuery(getQuery, c.req.query);
  authorize(c.p, 'get', target(c));
  const view = await readView(c.deps.store, c.p, c.kind, c.scope.namespace);
  const refuse = () =>
    forbidden(c.p, 'get', target(c, status ? 'status' : undefined), hiddenReason(c.kind));
  let obj: BerthObject;
  try {
    obj = await c.deps.store.get(c.kind.kind, c.key);
  } catch (err) {
    // Where only some objects are visible, a missing one is refused like a hidden one:
    // the answer does not tell whether it exists.
    if (view.filtering && c.kind.kind === 'AccessRequest' && isApiError(err, 'NotFound'))
      throw refuse();
    throw err;
  }
  if (!view.visible(obj)) throw refuse();
  return view.shape(obj);
}

async function create(c: Call): Promise<BerthObject> {
  const q = parseQuery(writeQuery, c.req.query);
  authorize(c.p, 'create', target(c));
  const obj = objectFromBody(
    body(c, objectBodyFormat(c.req.headers['content-type'])),
    c.scope,
    `create ${c.kind.kind}`,
  );
  await checkToolRef(c.deps.store, c.p, c.kind, obj);
  if (c.kind.kind === 'AccessRequest')
    await admitNewAccessRequest(c.deps.store, c.deps.identity, c.p, obj, c.scope.namespace ?? '');
  const created = await c.deps.store.create(c.kind.kind, obj, mainWriteOptions(c, q));
  c.reply.code(201);
  return created;
}

async function update(c: Call, status: boolean): Promise<BerthObject> {
  const q = parseQuery(writeQuery, c.req.query);
  authorize(c.p, 'update', target(c, status ? 'status' : undefined));
  const obj = objectFromBody(
    body(c, objectBodyFormat(c.req.headers['content-type'])),
    c.scope,
    `update ${c.kind.kind}`,
  );
  if (status) return await c.deps.store.updateStatus(c.kind.kind, obj, writeOptions(q));
  await checkToolRef(c.deps.store, c.p, c.kind, obj);
  if (c.kind.kind === 'AccessRequest') labelWithDataset(obj);
  return await c.deps.store.update(c.kind.kind, obj, mainWriteOptions(c, q));
}

async function patch(c: Call, status: boolean): Promise<BerthObject> {
  const q = parseQuery(writeQuery, c.req.query);
  const how = patchFormat(c.req.headers['content-type']);
  authorize(c.p, 'patch', target(c, status ? 'status' : undefined));
  const value = body(c, how.format);
  if (how.kind === 'apply') {
    if (status) {
      throw new ApiError(
        'UnsupportedMediaType',
        'apply is not supported on the status subresource; send application/merge-patch+json',
      );
    }
    if (!q.fieldManager) {
      throw new ApiError(
        'BadRequest',
        'query parameter "fieldManager" is required for apply (application/apply-patch+yaml)',
        {
          causes: [
            { field: 'fieldManager', message: 'required for apply', reason: 'FieldValueRequired' },
          ],
        },
      );
    }
    const manifest = objectFromBody(value, c.scope, `apply ${c.kind.kind}`);
    await checkToolRef(c.deps.store, c.p, c.kind, manifest);
    if (c.kind.kind === 'AccessRequest') await admitAppliedAccessRequest(c, manifest);
    const { object, result } = await c.deps.store.apply(c.kind.kind, manifest, {
      ...mainWriteOptions(c, q),
      fieldManager: q.fieldManager,
    });
    c.reply.code(result === 'created' ? 201 : 200);
    return object;
  }
  const mergePatch = checkMergePatch(value, c.scope);
  // As in Kubernetes, metadata.resourceVersion in a patch is a precondition.
  const opts: WriteOptions = writeOptions(q, status ? undefined : c);
  const md = mergePatch.metadata as Record<string, unknown> | undefined;
  if (md && typeof md.resourceVersion === 'string') {
    opts.resourceVersion = md.resourceVersion;
    delete md.resourceVersion;
  }
  if (status) return await c.deps.store.patchStatus(c.kind.kind, c.key, mergePatch, opts);
  await checkToolRef(c.deps.store, c.p, c.kind, mergePatch, {
    name: c.key.name,
    current: () => c.deps.store.get(c.kind.kind, c.key),
  });
  return await c.deps.store.patch(c.kind.kind, c.key, mergePatch, {
    ...opts,
    ...mainWriteOptions(c, q),
  });
}

/** An apply that creates a request is admitted as a create; one that updates it keeps its label. */
async function admitAppliedAccessRequest(c: Call, manifest: BerthObject): Promise<void> {
  try {
    await c.deps.store.get(c.kind.kind, {
      namespace: c.scope.namespace ?? '',
      name: manifest.metadata.name,
    });
  } catch (err) {
    if (!isApiError(err, 'NotFound')) throw err;
    const ns = c.scope.namespace ?? '';
    return await admitNewAccessRequest(c.deps.store, c.deps.identity, c.p, manifest, ns);
  }
  labelWithDataset(manifest);
}

async function remove(c: Call): Promise<unknown> {
  const q = parseQuery(deleteQuery, c.req.query);
  authorize(c.p, 'delete', target(c));
  const raw = c.req.body as Buffer | undefined;
  const options =
    raw && raw.length > 0
      ? deleteOptionsFromBody(body(c, objectBodyFormat(c.req.headers['content-type'])))
      : {};
  const deleted = await c.deps.store.delete(c.kind.kind, c.key, {
    ...writeOptions(q, c),
    ...(options.dryRun ? { dryRun: true } : {}),
    ...(options.preconditions ? { preconditions: options.preconditions } : {}),
  });
  if (deleted) return deleted;
  return {
    apiVersion: 'v1',
    kind: 'Status',
    metadata: {},
    status: 'Success',
    details: { name: c.key.name, kind: c.kind.plural },
  };
}
