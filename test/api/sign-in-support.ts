// Shared set-up of the sign-in tests: an API server with sign-in configured, on a
// port chosen first so that berth's public origin (http://localhost:<port>) is
// the server itself, and a tiny browser: a cookie jar and requests sent with
// `Host: localhost:<port>` as a browser would.
import { request } from 'undici';
import { type RunningApi, type SignInConfigInput, startApi } from '../../api/index.ts';
import { freePort } from '../../store/index.ts';
import { freshDatabase, type TestDatabase } from '../support/db.ts';

export interface SignInHarness {
  db: TestDatabase;
  api: RunningApi;
  port: number;
  origin: string;
  close(): Promise<void>;
}

export async function startSignInApi(signIn: Partial<SignInConfigInput>): Promise<SignInHarness> {
  const db = await freshDatabase();
  const port = await freePort();
  const api = await startApi({
    pool: db.pool,
    port,
    config: { logLevel: 'silent', maintenanceIntervalMs: 0 },
    signIn: { baseDomain: 'localhost', publicPort: port, ...signIn },
  });
  return {
    db,
    api,
    port,
    origin: `http://localhost:${port}`,
    async close() {
      await api.close();
      await db.drop();
    },
  };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  location?: string;
  setCookies: string[];
}

/** A cookie jar and requests from berth's public origin, following no redirects. */
export class Browser {
  readonly jar = new Map<string, string>();
  readonly base: string;
  readonly hostHeader: string;

  constructor(h: { port: number }, host = 'localhost') {
    this.base = `http://127.0.0.1:${h.port}`;
    this.hostHeader = `${host}:${h.port}`;
  }

  cookieHeader(): string | undefined {
    if (this.jar.size === 0) return undefined;
    return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async send(
    method: string,
    pathOrUrl: string,
    opts: { headers?: Record<string, string>; body?: string } = {},
  ): Promise<Answer> {
    const path = pathOrUrl.startsWith('http')
      ? new URL(pathOrUrl).pathname + new URL(pathOrUrl).search
      : pathOrUrl;
    const cookie = this.cookieHeader();
    const r = await request(`${this.base}${path}`, {
      method: method as 'GET',
      headers: {
        host: this.hostHeader,
        ...(cookie ? { cookie } : {}),
        ...opts.headers,
      },
      ...(opts.body !== undefined ? { body: opts.body } : {}),
    });
    const text = await r.body.text();
    const raw = r.headers['set-cookie'];
    const setCookies = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    for (const c of setCookies) {
      const [pair = ''] = c.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (/max-age=0/i.test(c) || value === '') this.jar.delete(name);
      else this.jar.set(name, value);
    }
    const location = r.headers.location;
    return {
      status: r.statusCode,
      headers: r.headers,
      text,
      ...(typeof location === 'string' ? { location } : {}),
      setCookies,
    };
  }

  get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
    return this.send('GET', path, { headers });
  }

  /** A same-origin form POST, as the browser sends it. */
  postForm(path: string, form: Record<string, string>, origin?: string): Promise<Answer> {
    return this.send('POST', path, {
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: origin ?? `http://${this.hostHeader}`,
      },
      body: new URLSearchParams(form).toString(),
    });
  }

  /** Dev sign-in as `user`; returns the CSRF token from /auth/session. */
  async devSignIn(user: string): Promise<string> {
    const r = await this.postForm('/auth/dev-sign-in', { user, next: '/' });
    if (r.status !== 303) throw new Error(`dev sign-in answered ${r.status}: ${r.text}`);
    return this.csrf();
  }

  async csrf(): Promise<string> {
    const s = JSON.parse((await this.get('/auth/session')).text) as { csrfToken?: string };
    if (!s.csrfToken) throw new Error('not signed in');
    return s.csrfToken;
  }
}
