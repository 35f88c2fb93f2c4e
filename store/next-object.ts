// The next stored object of a write, as pure functions of the kind, the stored object
// and what the client sent (kine's line: these decide, the transaction only stores).
// Preconditions, server-owned metadata, the generation rule, the status subresource,
// finalizers and deletion; every failure is the ApiError the client gets.
import { ApiError, type BerthObject, type KindInfo } from '../crds/index.ts';
import { deepEqual, isPlainObject } from './merge-patch.ts';
import {
  checkScope,
  conflictError,
  incomingObject,
  invalidField,
  normaliseOwnerUids,
  specOf,
  stripServerFields,
  validate,
} from './object-rules.ts';
import type { DeleteOptions, WriteOptions } from './types.ts';

/** What the server sets on a new object. */
interface ServerFields {
  uid: string;
  creationTimestamp: string;
}

/** The object a create stores (without resourceVersion: the commit assigns it). */
export function newObject(info: KindInfo, body: unknown, server: ServerFields): BerthObject {
  const obj = incomingObject(info, body);
  checkScope(info, obj);
  stripServerFields(obj);
  if (info.statusSubresource) delete obj.status;
  normaliseOwnerUids(obj);
  const fields = { ...server, generation: 1 };
  Object.assign(obj.metadata, fields);
  const valid = validate(info, obj);
  // The schema may not keep every field it was given; the server's win either way.
  Object.assign(valid.metadata, fields);
  delete valid.metadata.resourceVersion;
  delete valid.metadata.deletionTimestamp;
  return valid;
}

/** 409 unless the resourceVersion and uid the client names (body or options) are the stored ones. */
export function checkPreconditions(
  info: KindInfo,
  current: BerthObject,
  desired: unknown,
  opts: Pick<WriteOptions, 'resourceVersion'>,
): void {
  const meta = isPlainObject(desired) && isPlainObject(desired.metadata) ? desired.metadata : {};
  const name = current.metadata.name;
  for (const rv of [opts.resourceVersion, meta.resourceVersion]) {
    if (rv !== undefined && rv !== '' && String(rv) !== current.metadata.resourceVersion)
      throw conflictError(info, name);
  }
  if (meta.uid !== undefined && meta.uid !== '' && meta.uid !== current.metadata.uid) {
    throw conflictError(
      info,
      name,
      `Precondition failed: UID in precondition: ${String(meta.uid)}, UID in object meta: ${current.metadata.uid}`,
    );
  }
}

/** Server-owned metadata always comes from the stored object (in place). */
function keepServerFields(target: BerthObject, current: BerthObject): void {
  const m = target.metadata;
  const c = current.metadata;
  m.uid = c.uid;
  m.creationTimestamp = c.creationTimestamp;
  m.generation = c.generation;
  m.resourceVersion = c.resourceVersion;
  if (c.deletionTimestamp) m.deletionTimestamp = c.deletionTimestamp;
  else delete m.deletionTimestamp;
}

/**
 * A write to the main resource: `desired` becomes the object, except for what the
 * server owns (metadata, and status when the kind has the subresource). Generation
 * moves when the spec does.
 */
export function nextMain(
  info: KindInfo,
  current: BerthObject,
  desired: unknown,
  opts: Pick<WriteOptions, 'resourceVersion'>,
): BerthObject {
  checkPreconditions(info, current, desired, opts);
  const obj = incomingObject(info, desired);
  const name = current.metadata.name;
  if (obj.metadata.name !== name)
    throw invalidField(info, name, 'metadata.name', 'field is immutable');
  checkScope(info, obj);
  if ((obj.metadata.namespace ?? '') !== (current.metadata.namespace ?? '')) {
    throw invalidField(info, name, 'metadata.namespace', 'field is immutable');
  }
  keepServerFields(obj, current);
  if (info.statusSubresource) {
    if (current.status === undefined) delete obj.status;
    else obj.status = structuredClone(current.status);
  }
  if (current.metadata.deletionTimestamp) {
    const had = current.metadata.finalizers ?? [];
    const added = (obj.metadata.finalizers ?? []).filter((f) => !had.includes(f));
    if (added.length > 0) {
      throw invalidField(
        info,
        name,
        'metadata.finalizers',
        `no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`,
        'FieldValueForbidden',
      );
    }
  }
  normaliseOwnerUids(obj);
  const valid = validate(info, obj);
  keepServerFields(valid, current);
  const gen = current.metadata.generation ?? 1;
  valid.metadata.generation = deepEqual(specOf(valid), specOf(current)) ? gen : gen + 1;
  return valid;
}

/** A write to the status subresource: only `status` changes. */
export function nextStatus(
  info: KindInfo,
  current: BerthObject,
  desired: unknown,
  opts: Pick<WriteOptions, 'resourceVersion'>,
): BerthObject {
  if (!isPlainObject(desired))
    throw new ApiError('BadRequest', `the body must be a JSON object (a ${info.kind})`);
  checkPreconditions(info, current, desired, opts);
  const next = structuredClone(current);
  if (desired.status === undefined) delete next.status;
  else next.status = desired.status;
  const valid = validate(info, next);
  keepServerFields(valid, current);
  return valid;
}

/** True when `next` is being deleted and has no finalizer left: it goes in this write. */
export function isRemoval(next: BerthObject): boolean {
  return !!next.metadata.deletionTimestamp && !next.metadata.finalizers?.length;
}

/** 409 unless the uid and resourceVersion a delete names are the stored ones. */
export function checkDeletePreconditions(
  info: KindInfo,
  current: BerthObject,
  opts: Pick<DeleteOptions, 'preconditions' | 'resourceVersion'>,
): void {
  const meta = current.metadata;
  const name = meta.name;
  const pre = opts.preconditions ?? {};
  if (pre.uid !== undefined && pre.uid !== meta.uid) {
    throw conflictError(
      info,
      name,
      `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${meta.uid}`,
    );
  }
  for (const rv of [pre.resourceVersion, opts.resourceVersion]) {
    if (rv !== undefined && rv !== meta.resourceVersion) {
      throw conflictError(
        info,
        name,
        `Precondition failed: ResourceVersion in precondition: ${rv}, ResourceVersion in object meta: ${meta.resourceVersion}`,
      );
    }
  }
}

/**
 * What a delete does to the stored object: with finalizers, marks it (once) with
 * `deletionTimestamp` (`MODIFIED`; `unchanged` when already marked); without, removes it.
 */
export function onDelete(
  current: BerthObject,
  now: string,
):
  | { type: 'MODIFIED'; object: BerthObject }
  | { type: 'DELETED'; object: BerthObject }
  | 'unchanged' {
  if (!current.metadata.finalizers?.length)
    return { type: 'DELETED', object: structuredClone(current) };
  if (current.metadata.deletionTimestamp) return 'unchanged';
  const next = structuredClone(current);
  next.metadata.deletionTimestamp = now;
  return { type: 'MODIFIED', object: next };
}
