// What the proxy writes to the audit log (store/audit.ts): token sign-ins and
// sign-outs on berth's host, tool opens (the handoff's callback) and launches on
// visit. The client's address is the socket's, or with BERTH_PROXY_TRUSTED_HOPS
// the X-Forwarded-For entry the nearest trusted hop (the load balancer) added.
import type { IncomingMessage } from 'node:http';
import { type AuditEntry, recordAudit, recordAuditAfter } from '../store/index.ts';
import type { ProxyContext } from './context.ts';

export function clientAddress(ctx: ProxyContext, req: IncomingMessage): string | undefined {
  const remote = req.socket.remoteAddress;
  const xff = req.headers['x-forwarded-for'];
  if (ctx.config.trustedHops === 0 || !xff) return remote;
  const hops = (Array.isArray(xff) ? xff.join(',') : xff)
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return (hops.at(-ctx.config.trustedHops) ?? remote)?.slice(0, 64);
}

/** An entry for something already done (a session made or revoked); a failure is logged, not thrown. */
export function auditAfter(
  ctx: ProxyContext,
  req: IncomingMessage,
  entry: Omit<AuditEntry, 'client'>,
): Promise<void> {
  const client = clientAddress(ctx, req);
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
  const client = clientAddress(ctx, req);
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
