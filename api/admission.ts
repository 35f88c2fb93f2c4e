// Checks between the URL and the body, before the store sees a write: the body's
// apiVersion, kind, namespace and name must agree with the URL (400 naming the
// field), and a non-admin may only point a ToolInstance at a ToolDefinition
// they may use (403), which must exist (422).
import {
  API_VERSION,
  ApiError,
  type BerthObject,
  isApiError,
  type KindInfo,
} from '../crds/index.ts';
import type { Principal } from '../store/index.ts';
import { canUseToolDefinition, forbidden } from './authorize.ts';
import { requireObject } from './body.ts';
import type { StorePort } from './store-port.ts';

export interface UrlScope {
  kind: KindInfo;
  namespace?: string;
  /** Set for item URLs (PUT, apply, status). */
  name?: string;
}

function bad(field: string, message: string): ApiError {
  return new ApiError('BadRequest', `${field}: ${message}`, {
    causes: [{ field, message, reason: 'FieldValueInvalid' }],
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A full object body (POST, PUT, apply): checked against the URL and completed from it. */
export function objectFromBody(body: unknown, scope: UrlScope, what: string): BerthObject {
  const obj = requireObject(body, what);
  const { kind } = scope;
  if (obj.apiVersion === undefined) obj.apiVersion = API_VERSION;
  else if (obj.apiVersion !== API_VERSION) {
    throw bad('apiVersion', `must be "${API_VERSION}", got ${JSON.stringify(obj.apiVersion)}`);
  }
  if (obj.kind === undefined) obj.kind = kind.kind;
  else if (obj.kind !== kind.kind) {
    throw bad('kind', `must be "${kind.kind}" at this URL, got ${JSON.stringify(obj.kind)}`);
  }
  if (obj.metadata === undefined) obj.metadata = {};
  // A metadata that is not an object is left to the schema, which says so (422).
  if (isRecord(obj.metadata)) checkMetadata(obj.metadata, scope, true);
  return obj as unknown as BerthObject;
}

function checkMetadata(md: Record<string, unknown>, scope: UrlScope, fill: boolean): void {
  const { kind } = scope;
  if (kind.namespaced) {
    if (md.namespace === undefined) {
      if (fill) md.namespace = scope.namespace;
    } else if (md.namespace !== scope.namespace) {
      throw bad(
        'metadata.namespace',
        `${JSON.stringify(md.namespace)} does not match the namespace in the URL ("${scope.namespace}")`,
      );
    }
  } else if (md.namespace !== undefined && md.namespace !== '') {
    throw bad('metadata.namespace', `must be empty: ${kind.plural} are cluster-scoped`);
  }
  if (scope.name !== undefined) {
    if (md.name === undefined) {
      if (fill) md.name = scope.name;
    } else if (md.name !== scope.name) {
      throw bad(
        'metadata.name',
        `${JSON.stringify(md.name)} does not match the name in the URL ("${scope.name}")`,
      );
    }
  }
}

/** A merge patch may not rename or move the object, nor change its kind. */
export function checkMergePatch(body: unknown, scope: UrlScope): Record<string, unknown> {
  const patch = requireObject(body, 'merge patch');
  if (patch.apiVersion !== undefined && patch.apiVersion !== API_VERSION) {
    throw bad(
      'apiVersion',
      `must be "${API_VERSION}" or absent, got ${JSON.stringify(patch.apiVersion)}`,
    );
  }
  if (patch.kind !== undefined && patch.kind !== scope.kind.kind) {
    throw bad('kind', `must be "${scope.kind.kind}" or absent, got ${JSON.stringify(patch.kind)}`);
  }
  if (patch.metadata === null) throw bad('metadata', 'cannot be removed');
  if (isRecord(patch.metadata)) checkMetadata(patch.metadata, scope, false);
  return patch;
}

/** The ToolDefinition name a ToolInstance body refers to, when it names one. */
function toolRefOf(obj: unknown): string | undefined {
  if (!isRecord(obj) || !isRecord(obj.spec)) return undefined;
  const ref = obj.spec.toolRef;
  return typeof ref === 'string' ? ref : undefined;
}

/**
 * A non-admin's ToolInstance may only name a ToolDefinition they may use.
 * Unknown: 422 on spec.toolRef. Not theirs to use: 403. Admins are not checked,
 * so that `apply -f dir/` works in any file order.
 */
export async function checkToolRef(
  store: StorePort,
  p: Principal,
  kind: KindInfo,
  body: unknown,
): Promise<void> {
  if (p.admin || kind.kind !== 'ToolInstance') return;
  const ref = toolRefOf(body);
  if (ref === undefined) return;
  let td: BerthObject;
  try {
    td = await store.get('ToolDefinition', { name: ref });
  } catch (err) {
    if (
      isApiError(err, 'NotFound') ||
      isApiError(err, 'BadRequest') ||
      isApiError(err, 'Invalid')
    ) {
      const message = `ToolDefinition "${ref}" does not exist`;
      throw new ApiError('Invalid', `ToolInstance is invalid: spec.toolRef: ${message}`, {
        kind: 'ToolInstance',
        causes: [{ field: 'spec.toolRef', message, reason: 'FieldValueNotFound' }],
      });
    }
    throw err;
  }
  if (!canUseToolDefinition(p, td)) {
    const tdKind = {
      ...kind,
      kind: 'ToolDefinition',
      plural: 'tooldefinitions',
      namespaced: false,
    };
    throw forbidden(p, 'use', { kind: tdKind, name: ref }, 'not in its access list');
  }
}
