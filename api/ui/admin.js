// The admin view: every instance across users (phase, size, age, last activity,
// Stop) and the most recent Events, both live; the users (groups, admin,
// disabled) with Disable / Enable. Disabling ends the user's sessions, tokens
// and open connections and stops their tools (api/routes/users.ts); and the
// audit log (audit.js).
import { BASE, liveCollection } from './api.js';
import { startAudit } from './audit.js';
import { age, ago, h, PHASE_WORDS } from './format.js';

export function startAdmin(client, say) {
  let instances = new Map();
  let events = new Map();

  async function stop(ti) {
    const { namespace, name } = ti.metadata;
    try {
      await client.mergePatch(
        `${BASE}/namespaces/${encodeURIComponent(namespace)}/toolinstances/${encodeURIComponent(name)}`,
        { spec: { state: 'Stopped' } },
      );
      say(`Stopping ${name} of ${namespace}…`);
    } catch (err) {
      say(`Could not stop ${name} of ${namespace}: ${err.message}`);
    }
  }

  function renderInstances() {
    const rows = [...instances.values()].sort((a, b) =>
      `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(
        `${b.metadata.namespace}/${b.metadata.name}`,
      ),
    );
    const root = document.getElementById('admin-instances');
    if (rows.length === 0) {
      root.replaceChildren(h('p', { class: 'muted' }, 'No instances.'));
      return;
    }
    root.replaceChildren(
      h(
        'table',
        { 'aria-labelledby': 'admin-h' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['User', 'Tool', 'Phase', 'Size', 'Age', 'Last activity', ''].map((t) =>
              h('th', { scope: 'col' }, t),
            ),
          ),
        ),
        h(
          'tbody',
          {},
          rows.map((ti) => {
            const phase = ti.status?.phase ?? 'Pending';
            return h(
              'tr',
              { 'data-admin-instance': `${ti.metadata.namespace}/${ti.metadata.name}` },
              h('td', {}, ti.metadata.namespace),
              h('td', {}, ti.metadata.name),
              h(
                'td',
                {},
                h('span', { class: `phase phase-${phase}` }, PHASE_WORDS[phase] ?? phase),
              ),
              h('td', {}, ti.spec.size ?? 'default'),
              h('td', {}, age(ti.metadata.creationTimestamp)),
              h('td', {}, ago(ti.status?.lastActivityAt)),
              h(
                'td',
                {},
                ti.spec.state === 'Running'
                  ? h(
                      'button',
                      {
                        type: 'button',
                        class: 'danger',
                        'aria-label': `Stop ${ti.metadata.name} of ${ti.metadata.namespace}`,
                        onclick: () => stop(ti),
                      },
                      'Stop',
                    )
                  : null,
              ),
            );
          }),
        ),
      ),
    );
  }

  let users = [];

  async function loadUsers() {
    try {
      users = (await client.get(`${BASE}/users`)).items;
      renderUsers();
    } catch (err) {
      say(`Could not list users: ${err.message}`);
    }
  }

  async function setDisabled(user, disabled) {
    try {
      await client.mergePatch(`${BASE}/users/${encodeURIComponent(user.name)}`, { disabled });
      say(disabled ? `Disabled ${user.name}; their tools are stopping.` : `Enabled ${user.name}.`);
    } catch (err) {
      say(`Could not ${disabled ? 'disable' : 'enable'} ${user.name}: ${err.message}`);
    }
    await loadUsers();
  }

  function renderUsers() {
    const root = document.getElementById('admin-users');
    root.replaceChildren(
      h(
        'table',
        { 'aria-labelledby': 'users-h' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['User', 'Email', 'Groups', 'Admin', 'Disabled', 'Created', ''].map((t) =>
              h('th', { scope: 'col' }, t),
            ),
          ),
        ),
        h(
          'tbody',
          {},
          users.map((u) =>
            h(
              'tr',
              { 'data-admin-user': u.name, 'data-disabled': String(u.disabled) },
              h('td', {}, u.name),
              h('td', {}, u.email ?? ''),
              h('td', {}, u.groups.join(', ')),
              h('td', {}, u.admin ? 'yes' : 'no'),
              h('td', {}, u.disabled ? 'yes' : 'no'),
              h('td', {}, age(u.createdAt)),
              h(
                'td',
                {},
                // The server refuses an admin disabling themselves: no button for it.
                u.name === client.session.user?.name
                  ? null
                  : h(
                      'button',
                      {
                        type: 'button',
                        class: u.disabled ? undefined : 'danger',
                        'aria-label': `${u.disabled ? 'Enable' : 'Disable'} ${u.name}`,
                        onclick: () => setDisabled(u, !u.disabled),
                      },
                      u.disabled ? 'Enable' : 'Disable',
                    ),
              ),
            ),
          ),
        ),
      ),
    );
  }

  function renderEvents() {
    const recent = [...events.values()]
      .sort((a, b) => (b.lastTimestamp ?? '').localeCompare(a.lastTimestamp ?? ''))
      .slice(0, 20);
    const root = document.getElementById('admin-events');
    if (recent.length === 0) {
      root.replaceChildren(h('p', { class: 'muted' }, 'No events.'));
      return;
    }
    root.replaceChildren(
      h(
        'table',
        { 'aria-labelledby': 'events-h' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['When', 'Object', 'Reason', 'Message'].map((t) => h('th', { scope: 'col' }, t)),
          ),
        ),
        h(
          'tbody',
          {},
          recent.map((e) =>
            h(
              'tr',
              { class: e.type === 'Warning' ? 'reason' : undefined },
              h('td', {}, ago(e.lastTimestamp)),
              h('td', {}, `${e.involvedObject.namespace ?? ''}/${e.involvedObject.name}`),
              h('td', {}, e.reason),
              h('td', {}, e.message),
            ),
          ),
        ),
      ),
    );
  }

  liveCollection(client, `${BASE}/toolinstances`, (m) => {
    instances = m;
    renderInstances();
  });
  liveCollection(client, `${BASE}/events`, (m) => {
    events = m;
    renderEvents();
  });
  void loadUsers();
  // Ages move on even when nothing changes; users have no watch, so they are listed again.
  setInterval(renderInstances, 30_000);
  startAudit(client, say);
  setInterval(loadUsers, 30_000);
}
