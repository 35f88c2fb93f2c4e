// What the API writes to the audit log (store/audit.ts): how a request reached
// berth (the web UI's session, the berth CLI, any other API client), the client's
// address, and which audit action a resource write is. A write's entry is made by
// the write's own transaction hook, so the entry and the change commit together.
import type { FastifyRequest } from 'fastify';
import { type BerthObject, clientAddress } from '../crds/index.ts';
import {
  type AuditAction,
  type AuditEntry,
  type AuditHow,
  type Principal,
  recordAudit,
  type WriteChange,
  type WriteOptions,
} from '../store/index.ts';

/** The berth CLI's User-Agent (cli/client.ts). */
const CLI_AGENT = /^berth-cli(\/|\s|$)/;

/** ui: a browser session; cli: the berth CLI; api: any other bearer-token client. */
export function howOf(req: FastifyRequest, p: Principal | undefined = req.principal): AuditHow {
  if (p && 'sessionId' in p && p.sessionId) return 'ui';
  return CLI_AGENT.test(req.headers['user-agent'] ?? '') ? 'cli' : 'api';
}

/**
 * The client's address: the nearest proxy's view (the last X-Forwarded-For entry,
 * which berth's proxy sets from its socket) when there is one, else the socket's.
 */
export function clientOf(req: FastifyRequest): string | undefined {
  // One trusted hop: berth's proxy, the API's only way in (BERTH_API_TRUSTED_HOPS' default).
  return clientAddress(req.raw, 1) || undefined;
}

/** The fields every entry of this request shares. */
export function auditFrom(
  req: FastifyRequest,
  p: Principal | undefined = req.principal,
): Pick<AuditEntry, 'actor' | 'how' | 'client'> {
  const client = clientOf(req);
  return { actor: p?.name ?? 'anonymous', how: howOf(req, p), ...(client ? { client } : {}) };
}

type Spec = { state?: string; launchRequestedAt?: string; toolRef?: string; size?: string };

function specOf(o: BerthObject | null): Spec {
  return ((o as { spec?: Spec } | null)?.spec ?? {}) as Spec;
}

function deleting(change: WriteChange): boolean {
  if (change.type === 'DELETED') return !change.previous?.metadata.deletionTimestamp;
  return Boolean(
    change.object.metadata.deletionTimestamp && !change.previous?.metadata.deletionTimestamp,
  );
}

/** The created/updated/deleted actions of the kinds whose every change is an entry. */
const CHANGE_ACTIONS: Record<string, readonly [AuditAction, AuditAction, AuditAction]> = {
  ToolDefinition: ['tooldefinition.created', 'tooldefinition.updated', 'tooldefinition.deleted'],
  Database: ['database.created', 'database.updated', 'database.deleted'],
  Dataset: ['dataset.created', 'dataset.updated', 'dataset.deleted'],
};

/**
 * The audit action a main-object write through the API is, if any: launches and
 * stops of ToolInstances (spec.state, or a new launchRequestedAt while Running),
 * their deletion; every change to a ToolDefinition, Database or Dataset; an
 * AccessRequest's creation and deletion (its decisions are entries of the
 * approval subresource, routes/approval.ts).
 */
export function auditActionFor(change: WriteChange): AuditAction | undefined {
  const kind = change.object.kind;
  const actions = CHANGE_ACTIONS[kind];
  if (actions) {
    if (change.type === 'ADDED') return actions[0];
    if (deleting(change)) return actions[2];
    return change.type === 'MODIFIED' && !change.object.metadata.deletionTimestamp
      ? actions[1]
      : undefined;
  }
  if (kind === 'AccessRequest') {
    if (change.type === 'ADDED') return 'accessrequest.created';
    return deleting(change) ? 'accessrequest.deleted' : undefined;
  }
  if (kind !== 'ToolInstance') return undefined;
  if (deleting(change)) return 'instance.deleted';
  if (change.type === 'DELETED') return undefined;
  const now = specOf(change.object);
  const before = specOf(change.previous);
  const running = (now.state ?? 'Running') === 'Running';
  if (change.type === 'ADDED') return running ? 'instance.launched' : undefined;
  const wasRunning = (before.state ?? 'Running') === 'Running';
  if (running && (!wasRunning || now.launchRequestedAt !== before.launchRequestedAt))
    return 'instance.launched';
  if (!running && wasRunning) return 'instance.stopped';
  return undefined;
}

/**
 * What an entry says about the object: a ToolInstance's tool and size; the Dataset
 * an AccessRequest asks for (never its reason, the requester's free text, which
 * stays on the object).
 */
function detailOf(obj: BerthObject): Record<string, unknown> {
  if (obj.kind === 'ToolInstance') {
    const spec = specOf(obj);
    return { tool: spec.toolRef, ...(spec.size ? { size: spec.size } : {}) };
  }
  if (obj.kind === 'AccessRequest') {
    const dataset = (obj as { spec?: { dataset?: unknown } }).spec?.dataset;
    return typeof dataset === 'string' ? { dataset } : {};
  }
  return {};
}

/** Write options that record the write's audit entry (if it is one) in its own transaction. */
export function auditedWrite(
  req: FastifyRequest,
  log = req.log,
): Pick<WriteOptions, 'inTransaction'> {
  const who = auditFrom(req);
  return {
    inTransaction: async (client, change) => {
      const action = auditActionFor(change);
      if (!action) return;
      const md = change.object.metadata;
      await recordAudit(
        client,
        {
          ...who,
          action,
          target: {
            kind: change.object.kind,
            ...(md.namespace ? { namespace: md.namespace } : {}),
            name: md.name,
            // A request belongs to its requester: `?user=` finds it.
            ...(change.object.kind === 'AccessRequest' && md.namespace
              ? { user: md.namespace }
              : {}),
          },
          detail: detailOf(change.object),
        },
        log,
      );
    },
  };
}
