// Client-side-apply style 3-way merge: the manifest a field manager applied last
// time is kept in one annotation, so that fields it dropped since are removed
// while fields other writers set are kept.
import { ApiError, type BerthObject } from '../crds/index.ts';
import { applyMergePatch, canonicalJson, isPlainObject } from './merge-patch.ts';
import { SERVER_META_FIELDS } from './object-rules.ts';

export const LAST_APPLIED_ANNOTATION = 'berth/last-applied-configuration';

/** The manifest as remembered: without server-owned metadata and without the annotation itself. */
export function cleanManifest(manifest: BerthObject): BerthObject {
  const m = structuredClone(manifest);
  const meta = m.metadata as Record<string, unknown>;
  for (const f of SERVER_META_FIELDS) delete meta[f];
  if (m.metadata.annotations) {
    delete m.metadata.annotations[LAST_APPLIED_ANNOTATION];
    if (Object.keys(m.metadata.annotations).length === 0) delete m.metadata.annotations;
  }
  return m;
}

/** Manifests per field manager, from the annotation; a damaged annotation counts as none. */
function lastApplied(obj: BerthObject): Record<string, unknown> {
  const raw = obj.metadata.annotations?.[LAST_APPLIED_ANNOTATION];
  if (!raw) return {};
  try {
    const parsed: unknown = JSON.parse(raw);
    return isPlainObject(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

function lastAppliedValue(map: Record<string, unknown>): string {
  return canonicalJson(map);
}

/** null for every key of `prev` (recursively through objects) that `next` no longer has. */
function removals(prev: unknown, next: unknown): Record<string, unknown> | undefined {
  if (!isPlainObject(prev) || !isPlainObject(next)) return undefined;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(prev)) {
    if (next[k] === undefined) out[k] = null;
    else {
      const sub = removals(prev[k], next[k]);
      if (sub && Object.keys(sub).length > 0) out[k] = sub;
    }
  }
  return out;
}

function mergeInto(
  base: Record<string, unknown>,
  extra: Record<string, unknown>,
): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(extra)) {
    out[k] = isPlainObject(out[k]) && isPlainObject(v) ? mergeInto(out[k], v) : v;
  }
  return out;
}

/** The merge patch that applies `manifest` given the one applied before: the manifest plus deletions. */
function applyPatch(previous: unknown, manifest: BerthObject): Record<string, unknown> {
  const patch = structuredClone(manifest) as Record<string, unknown>;
  const del = removals(previous, manifest);
  return del ? mergeInto(patch, del) : patch;
}

/**
 * The object `manager` wants when it applies `manifest` (cleaned) onto `current`:
 * its merge patch applied, and the annotation updated. `resourceVersion` is the
 * manifest's when it named one (a precondition), else the current one.
 */
export function appliedObject(
  current: BerthObject,
  manager: string,
  manifest: BerthObject,
  resourceVersion: string | undefined,
): BerthObject {
  const managers = lastApplied(current);
  const merged = applyMergePatch(current, applyPatch(managers[manager], manifest)) as BerthObject;
  merged.metadata.annotations = {
    ...merged.metadata.annotations,
    [LAST_APPLIED_ANNOTATION]: lastAppliedValue({ ...managers, [manager]: manifest }),
  };
  merged.metadata.resourceVersion = resourceVersion ?? current.metadata.resourceVersion;
  return merged;
}

/** The object a first apply creates: the manifest, remembered as `manager`'s. */
export function firstApplied(manager: string, manifest: BerthObject): BerthObject {
  const fresh = structuredClone(manifest);
  fresh.metadata.annotations = {
    ...fresh.metadata.annotations,
    [LAST_APPLIED_ANNOTATION]: lastAppliedValue({ [manager]: manifest }),
  };
  return fresh;
}

/** 400 unless the field manager is 1 to 128 printable characters without spaces. */
export function checkFieldManager(manager: unknown): asserts manager is string {
  if (typeof manager !== 'string' || !/^[\x21-\x7e]{1,128}$/.test(manager)) {
    throw new ApiError(
      'BadRequest',
      'fieldManager is required: 1 to 128 printable characters without spaces',
      {
        causes: [
          {
            field: 'fieldManager',
            message: 'must be 1 to 128 printable characters without spaces',
          },
        ],
      },
    );
  }
}
