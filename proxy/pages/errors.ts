// Error pages: 400, 401, 403, 404, 429, 502, 504. Plain words, no internals.
import type { ServerResponse } from 'node:http';
import { escapeHtml, renderPage, sendPage } from './layout.ts';

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Sign-in needed',
  403: 'Not allowed',
  404: 'No such tool',
  405: 'Method not allowed',
  413: 'Too large',
  429: 'Too many requests',
  502: 'The tool did not answer',
  503: 'Not ready',
  504: 'The tool took too long',
};

export function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  extraHtml = '',
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const title = TITLES[status] ?? 'Error';
  const wantsJson =
    /\bapplication\/json\b/.test(res.req.headers.accept ?? '') &&
    !/\btext\/html\b/.test(res.req.headers.accept ?? '');
  if (wantsJson) {
    const body = Buffer.from(JSON.stringify({ error: title, message, status }));
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': String(body.length),
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
      ...headers,
    });
    res.end(res.req.method === 'HEAD' ? undefined : body);
    return;
  }
  sendPage(
    res,
    status,
    renderPage({
      title,
      body: `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>${extraHtml}<p class="code">HTTP ${status}</p>`,
    }),
    headers,
  );
}
