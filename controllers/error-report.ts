// Errors reach the object: a reconcile that fails sets the object's `Reconciled`
// condition to False with the error's class as its reason and a message in plain
// words (never a secret), and from the third failure in a row also writes a
// Warning Event (aggregated by the store: a failure that repeats bumps one
// Event's count). The next success sets the condition back to True. All of it is
// best effort: the object may be gone or written meanwhile, and the failure is
// logged and retried by the queue whatever happens here.
import { ApiError, type BerthObject, getCondition, setCondition } from '../crds/index.ts';
import type { ObjectKey } from '../store/index.ts';
import type { ReconcileContext } from './reconcile.ts';
import { RetryLater } from './reconcile.ts';

const RECONCILED = 'Reconciled';
/** From this many failures in a row on, each failure also writes (bumps) a Warning Event. */
const EVENT_FROM_FAILURE = 3;
const MAX_MESSAGE = 500;

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export interface ErrorDescription {
  /** CamelCase: the error's class (`ClientException`, `NetworkError`, `ReconcileTimeout`). */
  reason: string;
  /** One line a person can act on; secrets removed. */
  message: string;
}

/** The class and plain words of a reconcile's error. */
export function describeError(err: unknown): ErrorDescription {
  const e = err as { name?: unknown; code?: unknown; message?: unknown; $metadata?: unknown };
  const text = typeof e?.message === 'string' ? e.message : String(err);
  if (err instanceof RetryLater) return { reason: err.reason, message: clean(text) };
  if (err instanceof ApiError) return { reason: err.reason, message: clean(text) };
  if (typeof e?.code === 'string' && NETWORK_CODES.has(e.code)) {
    return { reason: 'NetworkError', message: clean(`A connection failed (${e.code}): ${text}`) };
  }
  const name = typeof e?.name === 'string' ? e.name : '';
  if (name === 'ReconcileTimeoutError') return { reason: 'ReconcileTimeout', message: clean(text) };
  if (e?.$metadata && /^[A-Z][A-Za-z0-9]+$/.test(name)) {
    // An AWS service error: its name is the class ECS documents (ClientException, ...).
    return { reason: name, message: clean(`ECS answered ${name}: ${text}`) };
  }
  const reason = /^[A-Z][A-Za-z0-9]+$/.test(name) && name !== 'Error' ? name : 'ReconcileError';
  return { reason, message: clean(text) };
}

/** Removes what could be a credential (URL user info, key=value secrets) and bounds the length. */
export function clean(text: string): string {
  const one = text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@')
    .replace(/\b(password|passwd|secret|token|key)=\S+/gi, '$1=***')
    .replace(/\s+/g, ' ')
    .trim();
  return one.length > MAX_MESSAGE ? `${one.slice(0, MAX_MESSAGE - 1)}…` : one;
}

type Ctx = Pick<ReconcileContext, 'store' | 'recordEvent' | 'now'>;

/** After failure number `failures` (1 = the first) of a reconcile of `key`. */
export async function reportFailure(
  ctx: Ctx,
  key: ObjectKey,
  err: unknown,
  failures: number,
): Promise<void> {
  const { reason, message } = describeError(err);
  const obj = await read(ctx, key);
  if (!obj) return;
  await setReconciled(ctx, key, obj, 'False', reason, message);
  if (failures >= EVENT_FROM_FAILURE) {
    await ctx
      .recordEvent({
        involvedObject: {
          kind: key.kind,
          name: key.name,
          namespace: key.namespace,
          uid: obj.metadata.uid,
        },
        type: 'Warning',
        reason,
        message: `Reconciling keeps failing: ${message}`,
      })
      .catch(() => {});
  }
}

/**
 * After a success that followed failures: the condition goes back to True. It is
 * written once, at this success, so a write that loses to another status write
 * (a 409 on the resourceVersion) reads the object again and tries again rather
 * than leave a stale False behind.
 */
export async function reportRecovery(ctx: Ctx, key: ObjectKey): Promise<void> {
  for (let tries = 0; tries < 5; tries++) {
    const obj = await read(ctx, key);
    if (!obj) return;
    const current = getCondition(conditionsOf(obj), RECONCILED);
    if (!current || current.status === 'True') return;
    const written = await setReconciled(
      ctx,
      key,
      obj,
      'True',
      'ReconcileSucceeded',
      'The last reconcile succeeded',
    );
    if (written) return;
  }
}

async function read(ctx: Ctx, key: ObjectKey): Promise<BerthObject | undefined> {
  try {
    return await ctx.store.get(key.kind, key.namespace, key.name);
  } catch {
    return undefined;
  }
}

function conditionsOf(obj: BerthObject) {
  return (obj as { status?: { conditions?: Parameters<typeof setCondition>[0] } }).status
    ?.conditions;
}

async function setReconciled(
  ctx: Ctx,
  key: ObjectKey,
  obj: BerthObject,
  status: 'True' | 'False',
  reason: string,
  message: string,
): Promise<boolean> {
  const conditions = setCondition(
    conditionsOf(obj),
    { type: RECONCILED, status, reason, message, observedGeneration: obj.metadata.generation },
    ctx.now(),
  );
  return await ctx.store
    .patchStatus(
      key.kind,
      key.namespace,
      key.name,
      { status: { conditions } },
      { resourceVersion: obj.metadata.resourceVersion },
    )
    .then(
      () => true,
      () => false,
    );
}
