// Checks between the URL and the body, before the store sees a write: the body's
// apiVersion, kind, namespace and name must agree with the URL (400 naming the
// field); a ToolInstance must name a ToolDefinition that exists and one of its
// sizes (422, naming the choices), which a non-admin must be allowed to use (403);
// a write that asks for a launch must fit the owner's Quotas (403 naming the
// quota) and the launch rate (429 with Retry-After), checked in its transaction.
import {
  API_VERSION,
  ApiError,
  type BerthObject,
  isApiError,
  type KindInfo,
} from '../crds/index.ts';
import { launchAdmission, type Principal, type WriteOptions } from '../store/index.ts';
import { accessRequestGuard } from './access-request-admission.ts';
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

/** What a ToolInstance write says about its tool: the fields it sets, when it sets them. */
interface ToolChoice {
  name?: string;
  toolRef?: string;
  size?: string;
}

function toolChoiceOf(obj: unknown): ToolChoice {
  if (!isRecord(obj)) return {};
  const md = isRecord(obj.metadata) ? obj.metadata : {};
  const spec = isRecord(obj.spec) ? obj.spec : {};
  return {
    ...(typeof md.name === 'string' ? { name: md.name } : {}),
    ...(typeof spec.toolRef === 'string' ? { toolRef: spec.toolRef } : {}),
    ...(typeof spec.size === 'string' ? { size: spec.size } : {}),
  };
}

function invalid(c: ToolChoice, field: string, message: string, reason: string): ApiError {
  const what = c.name ? `ToolInstance "${c.name}"` : 'ToolInstance';
  return new ApiError('Invalid', `${what} is invalid: ${field}: ${message}`, {
    kind: 'ToolInstance',
    ...(c.name ? { name: c.name } : {}),
    causes: [{ field, message, reason }],
  });
}

/** Names, at most `max` of them, as a sentence's end. */
function choices(names: string[], max = 20): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown} and ${names.length - max} more` : shown;
}

/** The ToolDefinitions `p` may use, by name, for the message that names the choices. */
async function usableTools(store: StorePort, p: Principal): Promise<string[]> {
  const { items } = await store.list('ToolDefinition', {});
  return items
    .filter((td) => canUseToolDefinition(p, td))
    .map((td) => td.metadata.name)
    .sort();
}

/** A ToolDefinition's sizes, smallest first. */
function sizesOf(td: BerthObject): string[] {
  const sizes = (td.spec as { sizes?: Record<string, { cpu?: number; memory?: number }> }).sizes;
  return Object.entries(sizes ?? {})
    .sort(([, a], [, b]) => (a.cpu ?? 0) - (b.cpu ?? 0) || (a.memory ?? 0) - (b.memory ?? 0))
    .map(([name]) => name);
}

/**
 * A ToolInstance write must name a ToolDefinition that exists (422 on
 * spec.toolRef, naming those the user may choose) and, when it sets a size, one
 * of that tool's sizes (422 on spec.size, naming them). A non-admin may only name
 * a ToolDefinition they may use (403). Only what the write sets is checked:
 * `merge.current` gives the stored object for a merge patch that sets a size alone,
 * and a write that leaves both fields out (stop, for one) is never refused here,
 * even when its tool is gone. The controllers and the proxy write through the
 * store, not through here.
 */
export async function checkToolRef(
  store: StorePort,
  p: Principal,
  kind: KindInfo,
  body: unknown,
  merge?: { name: string; current: () => Promise<BerthObject> },
): Promise<void> {
  if (kind.kind !== 'ToolInstance') return;
  const choice = { ...(merge ? { name: merge.name } : {}), ...toolChoiceOf(body) };
  if (choice.toolRef === undefined && choice.size === undefined) return;
  let ref = choice.toolRef;
  if (ref === undefined) {
    if (!merge) return;
    ref = toolChoiceOf(await merge.current()).toolRef;
    if (ref === undefined) return;
  }
  let td: BerthObject;
  try {
    td = await store.get('ToolDefinition', { name: ref });
  } catch (err) {
    if (
      isApiError(err, 'NotFound') ||
      isApiError(err, 'BadRequest') ||
      isApiError(err, 'Invalid')
    ) {
      const usable = await usableTools(store, p);
      const message = `ToolDefinition "${ref}" does not exist; ${
        usable.length
          ? `choose one of: ${choices(usable)}`
          : 'there are none you may use yet (an admin adds them, e.g. berth apply -f examples/)'
      }`;
      throw invalid(choice, 'spec.toolRef', message, 'FieldValueNotFound');
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
  if (choice.size !== undefined) {
    const sizes = sizesOf(td);
    if (!sizes.includes(choice.size)) {
      const message = `size "${choice.size}" is not one of the sizes of tool "${ref}": ${choices(sizes)}`;
      throw invalid(choice, 'spec.size', message, 'FieldValueNotSupported');
    }
  }
}

/**
 * The write options of a main-resource write (create, update, patch, apply): for
 * a ToolInstance, the in-transaction launch admission (store/launch-guard.ts:
 * the owner's Quotas under their lock, then the launch rate), so two launches at
 * once cannot both slip under a limit. A dry run is not checked against them.
 */
export function admissionOptions(
  kind: KindInfo,
  rate: { launchRateLimit: number; launchRateWindowMs: number },
  opts: WriteOptions,
): WriteOptions {
  if (kind.kind === 'AccessRequest') return guardedBy(accessRequestGuard, opts);
  if (kind.kind !== 'ToolInstance') return opts;
  const admit = launchAdmission({
    limit: rate.launchRateLimit,
    windowMs: rate.launchRateWindowMs,
  });
  const then = opts.inTransaction;
  return {
    ...opts,
    // Admission first: a refused launch throws and nothing after it (the audit entry) runs.
    inTransaction: async (client, change) => {
      await admit(client, change);
      if (then) await then(client, change);
    },
  };
}

/** `guard` first in the write's transaction: when it throws, nothing after it (the audit entry) runs. */
function guardedBy(
  guard: NonNullable<WriteOptions['inTransaction']>,
  opts: WriteOptions,
): WriteOptions {
  const then = opts.inTransaction;
  return {
    ...opts,
    inTransaction: async (client, change) => {
      await guard(client, change);
      if (then) await then(client, change);
    },
  };
}
