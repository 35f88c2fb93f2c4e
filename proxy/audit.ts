// What the proxy writes to the audit log (store/audit.ts): token sign-ins and
// sign-outs on berth's host, tool opens (the handoff's callback) and launches on
// visit. The client's address is the socket's, or with BERTH_PROXY_TRUSTED_HOPS
// the X-Forwarded-For entry the nearest trusted hop (the load balancer) added.
import type { IncomingMessage } from 'node:http';
import { clientAddress } from '../crds/index.ts';
import { type AuditEntry, recordAudit, recordAuditAfter } from '../store/index.ts';
import type { ProxyContext } from './context.ts';

function clientOf(ctx: ProxyContext, req: IncomingMessage): string {
  return clientAddress(req, ctx.config.trustedHops);
}

/** An entry for something already done (a session made or revoked); a failure is logged, not thrown. */
export function auditAfter(
  ctx: ProxyContext,
  req: IncomingMessage,
  entry: Omit<AuditEntry, 'client'>,
): Promise<void> {
  const client = clientOf(ctx, req);
  return recordAuditAfter(ctx.store.pool, { ...entry, ...(client ? { client } : {}) }, ctx.log);
}

/** Write options that record a launch on visit in the launch's own transaction. */
export function auditedLaunch(
  ctx: ProxyContext,
  req: IncomingMessage,
  actor: string,
  namespace: string,
  name: string,
  tool: string,
) {
  const client = clientOf(ctx, req);
  return {
    inTransaction: async (db: Parameters<typeof recordAudit>[0]) => {
      await recordAudit(
        db,
        {
          actor,
          action: 'instance.launched',
          how: 'visit',
          target: { kind: 'ToolInstance', namespace, name },
          ...(client ? { client } : {}),
          detail: { tool },
        },
        ctx.log,
      );
    },
  };
}
