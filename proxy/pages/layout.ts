// berth's own pages: one layout, HTML-escaped content, strict security headers.
// Scripts and styles come only from /_berth/assets/ on the same host (no inline
// code), so the CSP needs no nonce.
import type { ServerResponse } from 'node:http';

export function escapeHtml(s: string): string {
  return s
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/**
 * `formTargets`: origins a form on this page may end up at. Browsers apply
 * form-action to the redirects after a submit, and sign-in ends on a tool host.
 */
export function securityHeaders(formTargets = ''): Record<string, string> {
  return {
    'content-security-policy': `default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'${formTargets ? ` ${formTargets}` : ''}; frame-ancestors 'none'; base-uri 'none'`,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cache-control': 'no-store',
  };
}

export interface PageOptions {
  title: string;
  body: string;
  scripts?: string[];
}

export function renderPage({ title, body, scripts = [] }: PageOptions): string {
  const js = scripts.map((s) => `<script src="${escapeHtml(s)}" defer></script>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)} · berth</title><link rel="stylesheet" href="/_berth/assets/berth.css">${js}</head><body><main>${body}</main></body></html>`;
}

export function sendPage(
  res: ServerResponse,
  status: number,
  html: string,
  extra: Record<string, string> = {},
  formTargets = '',
): void {
  const body = Buffer.from(html);
  res.writeHead(status, {
    ...securityHeaders(formTargets),
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(body.length),
    ...extra,
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(status, {
    ...securityHeaders(),
    'content-type': 'application/json',
    'content-length': String(body.length),
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
