// Events with Kubernetes-style aggregation: one Event per (involved object, type,
// reason, message, source); repeats bump `count` and `lastTimestamp` instead of
// writing a new object, so a crash loop writes one Event, not thousands.
import { createHash } from 'node:crypto';
import { API_VERSION, type BerthObject, isApiError } from '../crds/index.ts';
import { nowTimestamp } from './object-rules.ts';
import type { ObjectStore } from './types.ts';

export const EVENT_KIND = 'Event';
const MAX_MESSAGE = 1024;

export interface RecordEventInput {
  involvedObject: {
    kind: string;
    name: string;
    namespace?: string;
    uid?: string;
    apiVersion?: string;
  };
  type: 'Normal' | 'Warning';
  /** CamelCase, e.g. `TaskStopped`. */
  reason: string;
  message: string;
  source?: { component: string };
  now?: Date;
}

/** `<object-name>.<10 hex of the aggregation key>`, a valid object name. */
export function eventName(input: RecordEventInput): string {
  const o = input.involvedObject;
  const key = JSON.stringify([
    o.uid ?? `${o.kind}/${o.namespace ?? ''}/${o.name}`,
    input.type,
    input.reason,
    truncate(input.message),
    input.source?.component ?? '',
  ]);
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 10);
  const base = o.name.slice(0, 253 - 11).replace(/[-.]+$/, '');
  return `${base}.${hash}`;
}

function truncate(message: string): string {
  return message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 3)}...` : message;
}

/**
 * A new Event for `input` (count 1, first and last seen at `ts`): the object both
 * recordEvent and a writer that creates first (controllers/event-recorder.ts) store.
 */
export function newEvent(input: RecordEventInput, ts = nowTimestamp(input.now)): BerthObject {
  const o = input.involvedObject;
  const involvedObject: Record<string, string> = {
    apiVersion: o.apiVersion ?? API_VERSION,
    kind: o.kind,
    name: o.name,
  };
  if (o.namespace) involvedObject.namespace = o.namespace;
  if (o.uid) involvedObject.uid = o.uid;
  return {
    apiVersion: API_VERSION,
    kind: EVENT_KIND,
    metadata: { name: eventName(input), namespace: o.namespace || 'default' },
    involvedObject,
    type: input.type,
    reason: input.reason,
    message: truncate(input.message),
    count: 1,
    firstTimestamp: ts,
    lastTimestamp: ts,
    ...(input.source ? { source: { component: input.source.component } } : {}),
  };
}

/**
 * Records an Event in the involved object's namespace ("default" for cluster-scoped
 * objects). Safe under concurrency: increments happen on the locked row, and a
 * create race turns into an increment.
 */
export async function recordEvent(
  store: Pick<ObjectStore, 'kindInfo' | 'create' | 'updateWith'>,
  input: RecordEventInput,
): Promise<BerthObject> {
  store.kindInfo(EVENT_KIND); // 404 when the Event kind is not served, before any retry loop
  const namespace = input.involvedObject.namespace || 'default';
  const name = eventName(input);
  const ts = nowTimestamp(input.now);
  for (let attempt = 0; ; attempt++) {
    try {
      return await store.updateWith(EVENT_KIND, namespace, name, (cur) => ({
        ...cur,
        count: (typeof cur.count === 'number' ? cur.count : 1) + 1,
        lastTimestamp: ts,
      }));
    } catch (err) {
      if (!isApiError(err, 'NotFound') || attempt >= 5) throw err;
    }
    try {
      return await store.create(EVENT_KIND, newEvent(input, ts));
    } catch (err) {
      if (!isApiError(err, 'AlreadyExists') || attempt >= 5) throw err;
    }
  }
}

/** How long an Event is kept after it was last seen, unless told otherwise (Kubernetes keeps 1 h; a day answers "why did my tool fail yesterday"). */
export const DEFAULT_EVENT_TTL_MS = 24 * 3_600_000;
