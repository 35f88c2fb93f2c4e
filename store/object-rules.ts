// The Kubernetes rules for an object written to the main resource: which metadata
// the server owns, namespace scope, schema validation, what counts as a spec change.
import {
  API_VERSION,
  ApiError,
  type BerthObject,
  invalidFromZod,
  type KindInfo,
} from '../crds/index.ts';
import { isPlainObject } from './merge-patch.ts';

/** Metadata fields only the server sets; values sent by clients are ignored. */
export const SERVER_META_FIELDS = [
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
] as const;

/** RFC 3339 in seconds, as Kubernetes writes timestamps. */
export function nowTimestamp(now = new Date()): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function invalidField(
  info: KindInfo,
  name: string | undefined,
  field: string,
  message: string,
  reason = 'FieldValueInvalid',
): ApiError {
  const what = name ? `${info.kind} "${name}"` : info.kind;
  return new ApiError('Invalid', `${what} is invalid: ${field}: ${message}`, {
    kind: info.kind,
    ...(name ? { name } : {}),
    causes: [{ field, message, reason }],
  });
}

export { invalidField };

/**
 * Checks the body is an object with a metadata object and a name, and that
 * apiVersion/kind (filled in when absent) match the kind. Returns a deep copy.
 */
export function incomingObject(info: KindInfo, body: unknown): BerthObject {
  if (!isPlainObject(body))
    throw new ApiError('BadRequest', `the body must be a JSON object (a ${info.kind})`);
  const obj = structuredClone(body) as Record<string, unknown>;
  if (obj.kind === undefined) obj.kind = info.kind;
  if (obj.apiVersion === undefined) obj.apiVersion = API_VERSION;
  if (obj.kind !== info.kind) {
    throw new ApiError(
      'BadRequest',
      `kind "${String(obj.kind)}" does not match the resource: expected "${info.kind}"`,
      {
        causes: [{ field: 'kind', message: `must be "${info.kind}"` }],
      },
    );
  }
  if (obj.apiVersion !== API_VERSION) {
    throw new ApiError(
      'BadRequest',
      `apiVersion "${String(obj.apiVersion)}" is not served: expected "${API_VERSION}"`,
      {
        causes: [{ field: 'apiVersion', message: `must be "${API_VERSION}"` }],
      },
    );
  }
  if (obj.metadata === undefined) obj.metadata = {};
  if (!isPlainObject(obj.metadata))
    throw invalidField(info, undefined, 'metadata', 'must be an object');
  const name = obj.metadata.name;
  if (name === undefined || name === '')
    throw invalidField(info, undefined, 'metadata.name', 'name is required', 'FieldValueRequired');
  if (typeof name !== 'string')
    throw invalidField(info, undefined, 'metadata.name', 'must be a string');
  return obj as BerthObject;
}

/** Namespaced kinds need metadata.namespace; cluster-scoped kinds must not have one. */
export function checkScope(info: KindInfo, obj: BerthObject): void {
  const ns = obj.metadata.namespace as unknown;
  if (info.namespaced && (ns === undefined || ns === '')) {
    throw invalidField(
      info,
      obj.metadata.name,
      'metadata.namespace',
      `namespace is required: ${info.kind} is namespaced`,
      'FieldValueRequired',
    );
  }
  if (!info.namespaced && ns !== undefined) {
    throw invalidField(
      info,
      obj.metadata.name,
      'metadata.namespace',
      `must not be set: ${info.kind} is cluster-scoped`,
      'FieldValueForbidden',
    );
  }
}

export function stripServerFields(obj: BerthObject): void {
  const meta = obj.metadata as Record<string, unknown>;
  for (const f of SERVER_META_FIELDS) delete meta[f];
}

/** Owner uids compared by value everywhere (cascade queries use JSON containment), so store them lowercase. */
export function normaliseOwnerUids(obj: BerthObject): void {
  for (const ref of obj.metadata.ownerReferences ?? []) {
    if (typeof ref.uid === 'string') ref.uid = ref.uid.toLowerCase();
  }
}

/** Parses with the kind's schema (defaults applied); failure is 422 with one cause per issue. */
export function validate(info: KindInfo, obj: BerthObject): BerthObject {
  const r = info.schema.safeParse(obj);
  if (!r.success) throw invalidFromZod(info.kind, obj.metadata?.name, r.error);
  // PostgreSQL's jsonb cannot hold U+0000; refuse it here rather than fail in SQL.
  if (JSON.stringify(r.data).includes('\\u0000')) {
    throw new ApiError(
      'Invalid',
      `${info.kind} "${obj.metadata?.name}" is invalid: strings must not contain the NUL character (U+0000)`,
      {
        kind: info.kind,
        causes: [
          {
            message: 'strings must not contain the NUL character (U+0000)',
            reason: 'FieldValueInvalid',
          },
        ],
      },
    );
  }
  return r.data as BerthObject;
}

/** What `generation` tracks: `spec`, or for kinds without one every top-level field but apiVersion/kind/metadata/status. */
export function specOf(obj: BerthObject): Record<string, unknown> {
  const { apiVersion: _a, kind: _k, metadata: _m, status: _s, ...rest } = obj;
  return rest;
}

export function conflictError(
  info: KindInfo,
  name: string,
  why = 'the object has been modified; please apply your changes to the latest version and try again',
): ApiError {
  return new ApiError(
    'Conflict',
    `Operation cannot be fulfilled on ${info.plural} "${name}": ${why}`,
    {
      kind: info.plural,
      name,
    },
  );
}

export function notFoundError(info: KindInfo, name: string): ApiError {
  return new ApiError('NotFound', `${info.plural} "${name}" not found`, {
    kind: info.plural,
    name,
  });
}
