// Static assets of berth's pages, served from memory at /_berth/assets/ on every
// host the proxy answers (same origin as the page, as the CSP requires).
import type { ServerResponse } from 'node:http';
import { securityHeaders } from './layout.ts';

const CSS = `:root{font-family:system-ui,sans-serif;color:#1b1b1b;background:#f7f7f5}
main{max-width:42rem;margin:3rem auto;padding:0 1rem;line-height:1.5}
h1{font-size:1.5rem}.code{color:#555;font-size:.85rem}
.phase{font-weight:600}.failed{color:#a00000}.muted{color:#555}
ul{padding-left:1.2rem}li{margin:.2rem 0}
label{display:block;margin:.5rem 0 .2rem}input[type=password],input[type=text]{width:100%;padding:.4rem;font:inherit}
button{margin-top:.8rem;padding:.45rem 1rem;font:inherit;cursor:pointer}
.dev{background:#fff3c4;padding:.3rem .6rem;border-radius:4px}
.warning{background:#fff3c4;border-left:4px solid #b58900;padding:.3rem .8rem;margin:1rem 0}`;

// The starting page: polls /_berth/status on this tool host, renders progress,
// reloads into the tool when Ready, stops polling and shows "Try again" on failure.
const STARTING_JS = `(() => {
  const $ = (id) => document.getElementById(id);
  const text = (tag, s, cls) => { const e = document.createElement(tag); e.textContent = s; if (cls) e.className = cls; return e; };
  let delay = 1000;
  async function tick() {
    let s;
    try {
      const r = await fetch('/_berth/status', { cache: 'no-store', headers: { accept: 'application/json' } });
      if (r.status === 401 || r.status === 403) { location.reload(); return; }
      if (r.status === 429) { setTimeout(tick, (Number(r.headers.get('retry-after')) || 5) * 1000); return; }
      s = await r.json();
    } catch { setTimeout(tick, Math.min(delay *= 2, 10000)); return; }
    delay = 1000;
    if (s.ready) { location.reload(); return; }
    $('phase').textContent = s.phase || 'Pending';
    const conds = $('conditions'); conds.replaceChildren(...(s.conditions || []).map((c) => text('li', c.type + ': ' + c.status + (c.reason ? ' (' + c.reason + ')' : '') + (c.message ? ' ' + c.message : ''))));
    const w = s.stopWarning;
    $('stop-warning').hidden = !w;
    if (w) {
      const mins = Math.max(0, Math.round((Date.parse(w.stopAt) - Date.now()) / 60000));
      $('stop-text').textContent = s.tool + (w.reason === 'MaxLifetime' ? ' reaches its time limit and stops in ' : ' stops in ') + mins + ' min: ' + (w.message || '');
      $('keep-running').hidden = w.reason !== 'Idle';
    }
    const evs = $('events'); evs.replaceChildren(...(s.events || []).map((e) => text('li', (e.count > 1 ? e.count + '× ' : '') + e.reason + ': ' + (e.message || ''), e.type === 'Warning' ? 'failed' : '')));
    if (s.failed) {
      $('failure').hidden = false;
      $('reason').textContent = s.reason || 'The tool could not start.';
      return;
    }
    setTimeout(tick, delay);
  }
  setTimeout(tick, 500);
})();`;

const ASSETS: Record<string, { type: string; body: Buffer }> = {
  '/_berth/assets/berth.css': { type: 'text/css; charset=utf-8', body: Buffer.from(CSS) },
  '/_berth/assets/starting.js': {
    type: 'text/javascript; charset=utf-8',
    body: Buffer.from(STARTING_JS),
  },
};

/** Serves the asset at `path`; false when there is none. */
export function serveAsset(path: string, res: ServerResponse): boolean {
  const a = ASSETS[path];
  if (!a) return false;
  res.writeHead(200, {
    ...securityHeaders(),
    'content-type': a.type,
    'content-length': String(a.body.length),
    'cache-control': 'public, max-age=300',
  });
  res.end(res.req.method === 'HEAD' ? undefined : a.body);
  return true;
}
