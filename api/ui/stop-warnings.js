// Stop warnings: a banner at the top of every page for each of the signed-in
// user's instances that the culler is about to stop ("Demo stops in 8 min: idle
// for 22 min (no use, CPU under 5 %). [Keep it running]"; a maxLifetime stop has
// no button: it cannot be postponed). The user's instances are one live
// collection watched on every page; the Tools page ("Your tools", mine.js) reads
// the same one rather than opening a second watch. The words are shared with it.
import { BASE, liveCollection } from './api.js';
import { h } from './format.js';

/** `8 min`, `1 h`, `1 h 30 min`, `45 s`: a duration as the banner says it. */
export function humanDuration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const hours = Math.floor(m / 60);
  const mins = m % 60;
  if (hours < 24) return mins ? `${hours} h ${mins} min` : `${hours} h`;
  const days = Math.floor(hours / 24);
  return hours % 24 ? `${days} d ${hours % 24} h` : `${days} d`;
}

/** Milliseconds in a spec duration (`90s`, `1h30m`); undefined when unreadable. */
export function durationMs(text) {
  if (typeof text !== 'string' || !/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(text)) return undefined;
  const unit = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000 };
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(m[1]) * unit[m[2]];
  return total;
}

function clock(iso) {
  const t = new Date(iso);
  return `${String(t.getHours()).padStart(2, '0')}:${String(t.getMinutes()).padStart(2, '0')}`;
}

/** Rounded up to whole minutes, so "stops in 1 min" lasts until it stops. */
function minutesUntil(iso, now) {
  return humanDuration(Math.ceil(Math.max(0, Date.parse(iso) - now) / 60000) * 60000);
}

/** The warning's sentence for instance `ti` of definition `def` (may be undefined). */
export function warningSentence(ti, def, now = Date.now()) {
  const w = ti.status?.stopWarning;
  if (!w) return undefined;
  const name = def?.spec.displayName ?? ti.metadata.name;
  if (w.reason === 'MaxLifetime') {
    const limit = durationMs(def?.spec.maxLifetime);
    return `${name} reaches its ${limit ? `${humanDuration(limit)} ` : 'time '}limit at ${clock(w.stopAt)}.`;
  }
  const since = ti.status?.idleSince ?? ti.status?.lastActivityAt ?? ti.status?.readyAt;
  const idle = since ? `: idle for ${humanDuration(now - Date.parse(since))}` : '';
  const cpu = def?.spec.idle?.cpuThreshold;
  return `${name} stops in ${minutesUntil(w.stopAt, now)}${idle} (no use${cpu === undefined ? '' : `, CPU under ${cpu} %`}).`;
}

/** "Stopped after 1 h idle" / "Stopped at its 8 h limit" for an instance the culler stopped. */
export function culledSentence(ti, def) {
  if (ti.spec.state !== 'Stopped' || !['Stopped', 'Stopping'].includes(ti.status?.phase))
    return undefined;
  if (ti.status?.stopReason === 'Idle') {
    const idle = durationMs(def?.spec.idle?.idleAfter);
    return idle ? `Stopped after ${humanDuration(idle)} idle` : 'Stopped because it was idle';
  }
  if (ti.status?.stopReason === 'MaxLifetime') {
    const limit = durationMs(def?.spec.maxLifetime);
    return limit ? `Stopped at its ${humanDuration(limit)} limit` : 'Stopped at its time limit';
  }
  return undefined;
}

/**
 * Starts the banner and the user's live instances. Returns `{ onInstances(fn),
 * keepRunning(name), definition(ti) }`: fn gets the Map of instances on every change.
 */
export function startStopWarnings(client, session, say) {
  const user = session.user.name;
  const nsPath = `${BASE}/namespaces/${encodeURIComponent(user)}`;
  const listeners = new Set();
  let instances = new Map();
  /** Definitions by name, read (not watched: one watch fewer) when an instance names a new one. */
  const definitions = new Map();
  let reading;

  const banner = h('div', { id: 'stop-warnings', class: 'stop-warnings', 'aria-live': 'polite' });
  document.querySelector('header.top')?.after(banner);

  function definition(ti) {
    return definitions.get(ti.spec.toolRef);
  }

  function readDefinitions() {
    if (reading) return;
    reading = client
      .get(`${BASE}/tooldefinitions`)
      .then((list) => {
        for (const d of list.items ?? []) definitions.set(d.metadata.name, d);
      })
      .catch(() => {})
      .finally(() => {
        reading = undefined;
        render();
      });
  }

  async function keepRunning(name) {
    try {
      await client.request(
        'POST',
        `${nsPath}/toolinstances/${encodeURIComponent(name)}/keep-running`,
      );
    } catch (err) {
      say(`Could not keep ${name} running: ${err.message}`);
    }
  }

  function render() {
    const now = Date.now();
    const warned = [...instances.values()]
      .filter((ti) => ti.status?.stopWarning)
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    banner.replaceChildren(
      ...warned.map((ti) => {
        const name = ti.metadata.name;
        const idle = ti.status.stopWarning.reason === 'Idle';
        return h(
          'p',
          { class: 'stop-warning', role: 'status', 'data-instance': name },
          h('span', {}, warningSentence(ti, definition(ti), now)),
          idle
            ? h(
                'button',
                {
                  type: 'button',
                  'aria-label': `Keep ${name} running`,
                  onclick: () => keepRunning(name),
                },
                'Keep it running',
              )
            : null,
        );
      }),
    );
  }

  liveCollection(
    client,
    `${nsPath}/toolinstances`,
    (m) => {
      instances = m;
      if ([...m.values()].some((ti) => !definitions.has(ti.spec.toolRef))) readDefinitions();
      render();
      for (const fn of listeners) fn(m);
    },
    '*',
  );
  // "stops in 8 min" moves on by itself.
  setInterval(render, 30_000);

  return {
    onInstances(fn) {
      listeners.add(fn);
      fn(instances);
    },
    keepRunning,
    definition,
  };
}
