// The admin's audit log: who signed in, launched, stopped, opened a tool or changed
// a definition; filtered by user, action (prefix) and since, newest first, a page
// at a time ("Older" follows the list's continue token).
import { BASE } from './api.js';
import { ago, h } from './format.js';

function targetText(t) {
  if (!t) return '';
  return [t.kind, t.namespace, t.name].filter(Boolean).join('/');
}

function detailText(d) {
  return Object.entries(d ?? {})
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(', ');
}

export function startAudit(client, say) {
  const form = document.getElementById('audit-filters');
  const root = document.getElementById('audit-entries');
  const older = document.getElementById('audit-older');
  let next;

  function row(e) {
    return h(
      'tr',
      { 'data-audit-action': e.action, class: e.outcome === 'failure' ? 'reason' : undefined },
      h('td', {}, h('time', { datetime: e.at, title: e.at }, ago(e.at))),
      h('td', {}, e.actor),
      h('td', { class: 'nowrap' }, e.action),
      h('td', {}, targetText(e.target)),
      h('td', {}, e.how),
      h('td', {}, e.client ?? ''),
      h('td', {}, e.outcome),
      h('td', {}, detailText(e.detail)),
    );
  }

  function table(items) {
    return h(
      'table',
      { 'aria-labelledby': 'audit-h' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['When', 'Who', 'Action', 'Target', 'How', 'Client', 'Outcome', 'Detail'].map((t) =>
            h('th', { scope: 'col' }, t),
          ),
        ),
      ),
      h('tbody', {}, items.map(row)),
    );
  }

  async function load(more) {
    const q = new URLSearchParams();
    for (const field of ['user', 'action', 'since']) {
      const v = form.elements[field].value.trim();
      if (v) q.set(field, v);
    }
    q.set('limit', '50');
    if (more && next) q.set('continue', next);
    try {
      const list = await client.get(`${BASE}/audit?${q}`);
      next = list.metadata?.continue;
      older.hidden = !next;
      if (more) {
        root.querySelector('tbody')?.append(...list.items.map(row));
      } else if (list.items.length === 0) {
        root.replaceChildren(h('p', { class: 'muted' }, 'No audit entries match.'));
      } else {
        root.replaceChildren(table(list.items));
      }
    } catch (err) {
      say(`Could not read the audit log: ${err.message}`);
    }
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    load(false);
  });
  older.addEventListener('click', () => load(true));
  load(false);
}
