// Serves the web UI: `/` (index.html, only to a signed-in person; others go to
// the sign-in page) and its static modules under `/ui/`. The UI talks only to the
// public API (fetch, and server-sent events for watches). Pages carry a strict CSP
// (no inline script or style) and, with the development sign-in, its banner,
// written into the HTML on the server so it shows even without JavaScript. The
// Files page uploads straight to S3, so the page's connect-src also names the
// files endpoint's origins (`connectSources`).
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { DEV_BANNER, publicOrigin, type SignInDeps, securityHeaders } from '../sign-in/index.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

interface Asset {
  body: Buffer;
  type: string;
}

function loadAssets(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const name of readdirSync(dir)) {
    const type = TYPES[extname(name)];
    if (!type || name === 'index.html') continue;
    assets.set(name, { body: readFileSync(join(dir, name)), type });
  }
  return assets;
}

/** The S3 origins the Files page's uploads go to, for connect-src. */
export function filesConnectSources(files: {
  bucket?: string;
  endpoint?: string;
  region: string;
}): string[] {
  if (!files.bucket) return [];
  if (files.endpoint) return [new URL(files.endpoint).origin];
  // The SDK presigns virtual-hosted URLs for AWS; path-style is the fallback.
  return [
    `https://${files.bucket}.s3.${files.region}.amazonaws.com`,
    `https://s3.${files.region}.amazonaws.com`,
  ];
}

export function registerUiRoutes(
  app: FastifyInstance,
  signIn: SignInDeps,
  opts: { connectSources?: string[] } = {},
): void {
  const dir = import.meta.dirname;
  const assets = loadAssets(dir);
  const dev = signIn.config.mode === 'dev';
  const index = readFileSync(join(dir, 'index.html'), 'utf8').replace(
    '<!--dev-banner-->',
    dev ? DEV_BANNER : '',
  );
  const open = { public: true };

  app.get('/', { config: open }, async (req, reply) => {
    if (!signIn.auth.onBerthHost(req))
      return reply
        .code(302)
        .header('location', `${publicOrigin(signIn.config)}/`)
        .send();
    if (!(await signIn.auth.session(req)))
      return reply
        .code(302)
        .header('location', '/auth/sign-in?next=%2F')
        .header('cache-control', 'no-store')
        .send();
    securityHeaders(reply);
    const extra = opts.connectSources ?? [];
    if (extra.length) {
      const csp = String(reply.getHeader('content-security-policy'));
      reply.header(
        'content-security-policy',
        csp.replace("connect-src 'self'", `connect-src 'self' ${extra.join(' ')}`),
      );
    }
    return reply.type(TYPES['.html']!).send(index);
  });

  app.get('/ui/:file', { config: open }, async (req, reply) => {
    const asset = assets.get((req.params as { file: string }).file);
    if (!asset) return reply.code(404).type('text/plain').send('not found');
    return reply
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'no-cache')
      .type(asset.type)
      .send(asset.body);
  });
}
