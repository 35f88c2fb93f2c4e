// Wall: the sign-in handoff is bound to the browser that started it (login CSRF).
// An attacker can always get a valid handoff code for their own session and tool
// host; sent to a victim's browser, that code must sign the victim in as nobody
// (and never as the attacker). The normal flow, followed hop by hop as a browser
// would (real HTTP through the proxy, a cookie jar per host), still works, also
// for two tabs opening the same tool at once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { request } from 'undici';
import {
  addDefinition,
  echoHandler,
  type Harness,
  makeReady,
  startHarness,
  startUpstream,
  type Upstream,
  waitForRoute,
} from '../proxy/support.ts';

let h: Harness;
let echo: Upstream;

before(async () => {
  h = await startHarness();
  echo = await startUpstream(echoHandler);
  await addDefinition(h, 'demo');
  await makeReady(h.store, 'alice', 'demo', echo.url);
  await makeReady(h.store, 'bob', 'demo', echo.url);
  await waitForRoute(h.proxy, 'demo--alice.localhost');
  await waitForRoute(h.proxy, 'demo--bob.localhost');
});

after(async () => {
  await h?.close();
  await echo?.close();
});

interface Hop {
  status: number;
  location?: string;
  setCookies: string[];
  text: string;
}

/** A browser without JavaScript: host-only cookies per host, redirects followed by hand. */
class Browser {
  readonly jars = new Map<string, Map<string, string>>();

  jar(host: string): Map<string, string> {
    let j = this.jars.get(host);
    if (!j) {
      j = new Map();
      this.jars.set(host, j);
    }
    return j;
  }

  /** One request to `url` (its host is sent as Host, the proxy is what answers). */
  async get(url: string): Promise<Hop> {
    const u = new URL(url);
    const jar = this.jar(u.hostname);
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const r = await request(`${h.proxy.url}${u.pathname}${u.search}`, {
      headers: {
        host: u.host,
        accept: 'text/html',
        'sec-fetch-mode': 'navigate',
        'sec-fetch-site': 'none',
        ...(cookie ? { cookie } : {}),
      },
    });
    const text = await r.body.text();
    const raw = r.headers['set-cookie'];
    const setCookies = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
    for (const c of setCookies) {
      assert.doesNotMatch(c, /;\s*domain=/i, 'cookies are host-only');
      const [pair = ''] = c.split(';');
      const eq = pair.indexOf('=');
      if (/max-age=0\b/i.test(c)) jar.delete(pair.slice(0, eq));
      else jar.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    const location = r.headers.location;
    return {
      status: r.statusCode,
      ...(typeof location === 'string' ? { location: new URL(location, url).href } : {}),
      setCookies,
      text,
    };
  }

  /** Follows redirects from `url` until `stopAt` (a path) or a non-redirect; every hop. */
  async navigate(url: string, stopAt?: string): Promise<{ hops: Hop[]; url: string }> {
    const hops: Hop[] = [];
    let at = url;
    for (let i = 0; i < 10; i++) {
      if (stopAt && i > 0 && new URL(at).pathname === stopAt) return { hops, url: at };
      const hop = await this.get(at);
      hops.push(hop);
      if (hop.status < 300 || hop.status >= 400 || !hop.location) return { hops, url: at };
      at = hop.location;
    }
    throw new Error(`too many redirects from ${url}`);
  }

  /** Signs in on berth's host with an API token (the proxy's token form). */
  async signIn(token: string): Promise<void> {
    const origin = `http://localhost:${h.proxy.port}`;
    const r = await request(`${h.proxy.url}/_berth/sign-in`, {
      method: 'POST',
      headers: {
        host: `localhost:${h.proxy.port}`,
        origin,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token, next: '/' }).toString(),
    });
    await r.body.dump();
    assert.equal(r.statusCode, 303);
    const [pair = ''] = String(r.headers['set-cookie']).split(';');
    const eq = pair.indexOf('=');
    this.jar('localhost').set(pair.slice(0, eq), pair.slice(eq + 1));
  }
}

const tool = (user: string, path = '/') => `http://demo--${user}.localhost:${h.proxy.port}${path}`;

/** The attacker's own valid callback URL: their browser, their session, their tool host. */
async function attackersCallback(): Promise<string> {
  const attacker = new Browser();
  await attacker.signIn(h.tokens.bob!);
  const { url } = await attacker.navigate(tool('bob', '/steal'), '/_berth/callback');
  assert.equal(new URL(url).pathname, '/_berth/callback', 'the attacker got a code');
  return url;
}

test("login CSRF: the attacker's code, sent to the victim's browser, signs nobody in", async () => {
  const callback = await attackersCallback();
  // The victim is signed in to berth as alice and has no state for this flow.
  const victim = new Browser();
  await victim.signIn(h.tokens.alice!);
  const r = await victim.get(callback);
  assert.equal(r.status, 403, 'refused');
  assert.match(r.text, /not started in this browser/);
  assert.equal(r.location, undefined, 'a page, not a redirect');
  assert.ok(
    !r.setCookies.some((c) => /^(__Host-)?berth_session=[^;]/.test(c)),
    'no session cookie was set',
  );
  assert.equal(victim.jar('demo--bob.localhost').size, 0, 'no cookie on the tool host');
  // Nothing there would let the victim in as bob.
  const later = await victim.get(tool('bob', '/'));
  assert.equal(later.status, 302, 'still not signed in on that host: sent to the handoff');
});

test('a victim with a handoff of its own in flight on that host is refused too', async () => {
  const callback = await attackersCallback();
  const victim = new Browser();
  await victim.signIn(h.tokens.alice!);
  // The victim's own visit left a state cookie for the attacker's host (a state, not the attacker's).
  const first = await victim.get(tool('bob', '/'));
  assert.equal(first.status, 302);
  assert.equal(victim.jar('demo--bob.localhost').size, 1);
  const r = await victim.get(callback);
  assert.equal(r.status, 403);
  assert.ok(!r.setCookies.some((c) => /^(__Host-)?berth_session=[^;]/.test(c)));
});

test('the normal flow works, hop by hop, and leaves no state cookie behind', async () => {
  const b = new Browser();
  await b.signIn(h.tokens.alice!);
  const { hops, url } = await b.navigate(tool('alice', '/lab?x=1'));
  assert.deepEqual(
    hops.map((x) => x.status),
    [302, 302, 302, 200],
  );
  assert.equal(url, tool('alice', '/lab?x=1'));
  const seen = JSON.parse(hops.at(-1)!.text) as { url: string; headers: Record<string, string> };
  assert.equal(seen.url, '/lab?x=1');
  assert.equal(seen.headers.cookie, undefined, "berth's cookies never reach the tool");
  assert.deepEqual([...b.jar('demo--alice.localhost').keys()], ['berth_session']);
});

test('two tabs opening the same tool at once each finish their own handoff', async () => {
  const b = new Browser();
  await b.signIn(h.tokens.alice!);
  // Two fresh visits (no tool-host session yet), interleaved: both states are set before either returns.
  const one = await b.navigate(tool('alice', '/one'), '/_berth/callback');
  const two = await b.navigate(tool('alice', '/two'), '/_berth/callback');
  assert.equal(b.jar('demo--alice.localhost').size, 2, 'one state cookie per flow');
  const second = await b.get(two.url);
  assert.equal(second.status, 302);
  assert.equal(second.location, tool('alice', '/two'));
  b.jar('demo--alice.localhost').delete('berth_session');
  const first = await b.get(one.url);
  assert.equal(first.status, 302);
  assert.equal(first.location, tool('alice', '/one'));
  assert.deepEqual([...b.jar('demo--alice.localhost').keys()], ['berth_session']);
});
