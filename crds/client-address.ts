// Who the client is, for rate limits and the audit log: the socket's peer, or with
// `trustedHops` proxies in front (BERTH_PROXY_TRUSTED_HOPS, BERTH_API_TRUSTED_HOPS),
// the X-Forwarded-For entry that the outermost of them wrote. Entries further left
// were written by the client itself and are never believed. Here, beside the host
// name rules, because the API and the proxy (which never import each other) both
// read it.
import type { IncomingMessage } from 'node:http';

export function clientAddress(req: IncomingMessage, trustedHops: number): string {
  const peer = req.socket.remoteAddress ?? '';
  if (trustedHops === 0) return peer;
  const xff = req.headers['x-forwarded-for'];
  const list = (Array.isArray(xff) ? xff.join(',') : (xff ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  list.push(peer);
  return list[Math.max(0, list.length - 1 - trustedHops)]!.slice(0, 64);
}
