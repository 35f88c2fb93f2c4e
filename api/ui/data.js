// The Data page: the datasets you can use (tables and how to connect), those
// you can ask for (a request form), your own requests (withdraw), and for
// approvers the requests to decide (Approve / Deny with a comment); admins and
// approvers also see who has access to each dataset. Datasets, databases and
// requests are live (watches); "what can I use" is the API's summary
// (GET …/datasetaccess), asked again whenever one of those changes.
import { BASE, liveCollection } from './api.js';
import { datasetCard, howToConnect, tablesOf, whoHasAccess } from './dataset-views.js';
import { Drafts } from './drafts.js';
import { age, h } from './format.js';

const VIA_WORDS = {
  everyone: 'open to everyone signed in',
  user: 'granted to you by name',
  group: 'granted to a group you are in',
  request: 'your request was approved',
};

export function startData(client, session, say) {
  const user = session.user.name;
  const admin = session.user.admin;
  const nsPath = `${BASE}/namespaces/${encodeURIComponent(user)}`;
  const requestPath = (ns, name) =>
    `${BASE}/namespaces/${encodeURIComponent(ns)}/accessrequests/${encodeURIComponent(name)}`;
  let datasets = new Map();
  let databases = new Map();
  let mine = new Map();
  let toDecide = new Map();
  /** datasetaccess items by dataset name; undefined until the first answer. */
  let summary;
  let summaryError = '';
  let decidingStarted = false;
  const drafts = new Drafts(document.getElementById('page-data'));
  /** The "how to connect" panels a person opened: they stay open across redraws. */
  const opened = new Set();

  const titleOf = (name) => datasets.get(`/${name}`)?.spec.title ?? name;

  // --- the summary, asked again (at most one at a time) whenever something changes
  let asking = false;
  let askAgain = false;
  async function refreshSummary() {
    if (asking) {
      askAgain = true;
      return;
    }
    asking = true;
    try {
      const answer = await client.get(`${BASE}/datasetaccess`);
      summary = new Map((answer.items ?? []).map((i) => [i.dataset, i]));
      summaryError = '';
      if (!decidingStarted && (admin || [...summary.values()].some((i) => i.approver)))
        startDeciding();
    } catch (err) {
      summaryError = err.message;
    } finally {
      asking = false;
    }
    render();
    if (askAgain) {
      askAgain = false;
      refreshSummary();
    }
  }

  // --- actions
  function freeName(dataset) {
    for (let n = 1; ; n++) {
      const name = n === 1 ? dataset : `${dataset}-${n}`;
      if (!mine.has(`${user}/${name}`)) return name;
    }
  }

  async function requestAccess(dataset, reason) {
    const name = freeName(dataset);
    try {
      await client.request('POST', `${nsPath}/accessrequests`, {
        apiVersion: 'berth/v1alpha1',
        kind: 'AccessRequest',
        metadata: { name, namespace: user },
        spec: { dataset, reason },
      });
      drafts.forget(`reason-${dataset}`);
      say(`Asked for ${titleOf(dataset)}: waiting for approval.`);
      refreshSummary();
    } catch (err) {
      say(`Could not ask for ${titleOf(dataset)}: ${err.message}`);
    }
  }

  async function withdraw(r) {
    try {
      await client.request('DELETE', requestPath(user, r.metadata.name));
      say(`Withdrew your request for ${titleOf(r.spec.dataset)}.`);
      refreshSummary();
    } catch (err) {
      say(`Could not withdraw ${r.metadata.name}: ${err.message}`);
    }
  }

  async function decide(r, decision) {
    const { namespace, name } = r.metadata;
    const commentId = `comment-${namespace}-${name}`;
    const comment = drafts.value(commentId).trim();
    try {
      await client.request('POST', `${requestPath(namespace, name)}/approval`, {
        decision,
        ...(comment ? { comment } : {}),
      });
      drafts.forget(commentId);
      say(
        `${decision === 'Approved' ? 'Approved' : 'Denied'} ${namespace}'s request for ${titleOf(r.spec.dataset)}.`,
      );
    } catch (err) {
      say(`Could not decide ${namespace}'s request ${name}: ${err.message}`);
    }
  }

  // --- rendering
  function requestForm(ds) {
    const name = ds.metadata.name;
    const id = `reason-${name}`;
    return h(
      'form',
      {
        class: 'request',
        'aria-label': `Request access to ${ds.spec.title}`,
        onsubmit: (e) => {
          e.preventDefault();
          const reason = drafts.value(id).trim();
          if (!reason) {
            say('Say why you need it: the approvers read this.');
            return;
          }
          requestAccess(name, reason);
        },
      },
      h('label', { for: id }, 'Why you need it'),
      drafts.field(h('textarea', { id, name: 'reason', rows: 3, required: true, maxlength: 2000 })),
      h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Request access')),
    );
  }

  function latestRequest(dataset) {
    return [...mine.values()]
      .filter((r) => r.spec.dataset === dataset)
      .sort((a, b) =>
        (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''),
      )[0];
  }

  function renderCatalogue() {
    const granted = document.getElementById('data-granted');
    const requestable = document.getElementById('data-requestable');
    if (!summary) {
      const text = summaryError ? `Could not load your datasets: ${summaryError}` : 'Loading…';
      granted.replaceChildren(h('p', { class: 'muted' }, text));
      requestable.replaceChildren();
      return;
    }
    const all = [...datasets.values()].sort((a, b) => a.spec.title.localeCompare(b.spec.title));
    const usable = all.filter((ds) => summary.get(ds.metadata.name)?.access === 'granted');
    const others = all.filter((ds) => {
      const a = summary.get(ds.metadata.name)?.access;
      return a && a !== 'granted';
    });
    granted.replaceChildren(
      usable.length === 0
        ? h('p', { class: 'muted' }, 'No datasets yet: ask for one below.')
        : h(
            'div',
            { class: 'stack' },
            usable.map((ds) => {
              const via = summary.get(ds.metadata.name)?.via;
              return datasetCard(
                ds,
                via
                  ? h('p', { class: 'muted' }, `Why you can use it: ${VIA_WORDS[via] ?? via}.`)
                  : null,
                tablesOf(ds),
                howToConnect(ds, databases, opened),
              );
            }),
          ),
    );
    requestable.replaceChildren(
      others.length === 0
        ? h('p', { class: 'muted' }, 'There is nothing more to ask for.')
        : h(
            'div',
            { class: 'stack' },
            others.map((ds) => {
              const item = summary.get(ds.metadata.name);
              const last = latestRequest(ds.metadata.name);
              if (item.access === 'pending')
                return datasetCard(
                  ds,
                  tablesOf(ds),
                  h('p', { class: 'phase phase-Pending' }, 'Requested: waiting for approval'),
                );
              const denied =
                item.access === 'denied'
                  ? h(
                      'p',
                      { class: 'reason' },
                      `Your last request was denied${last?.status?.decidedBy ? ` by ${last.status.decidedBy}` : ''}${last?.status?.comment ? `: ${last.status.comment}` : '.'} You may ask again.`,
                    )
                  : null;
              return datasetCard(ds, tablesOf(ds), denied, requestForm(ds));
            }),
          ),
    );
  }

  function renderMine() {
    const root = document.getElementById('data-mine');
    const list = [...mine.values()].sort((a, b) =>
      (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? ''),
    );
    if (list.length === 0) {
      root.replaceChildren(h('p', { class: 'muted' }, 'You have not asked for any dataset.'));
      return;
    }
    root.replaceChildren(
      h(
        'ul',
        { class: 'plain requests' },
        list.map((r) => {
          const phase = r.status?.phase ?? 'Pending';
          const s = r.status ?? {};
          return h(
            'li',
            { class: 'card', 'data-request': r.metadata.name, 'data-phase': phase },
            h('strong', {}, titleOf(r.spec.dataset)),
            ' ',
            h('span', { class: `phase phase-${phase}` }, phase),
            h(
              'p',
              { class: 'muted' },
              `Asked ${age(r.metadata.creationTimestamp)} ago`,
              s.decidedBy ? ` · decided by ${s.decidedBy}` : '',
              s.comment ? ` · “${s.comment}”` : '',
            ),
            h('p', {}, `Reason: ${r.spec.reason}`),
            phase === 'Approved'
              ? null
              : h(
                  'div',
                  { class: 'actions' },
                  h(
                    'button',
                    {
                      type: 'button',
                      class: 'secondary',
                      'aria-label': `Withdraw request ${r.metadata.name}`,
                      onclick: () => withdraw(r),
                    },
                    'Withdraw',
                  ),
                ),
          );
        }),
      ),
    );
  }

  function renderDecide() {
    const section = document.getElementById('data-decide-section');
    const root = document.getElementById('data-decide');
    section.hidden = !decidingStarted;
    if (!decidingStarted) return;
    // Admins may decide their own requests; approvers never do (the API refuses too).
    const list = [...toDecide.values()]
      .filter((r) => admin || r.metadata.namespace !== user)
      .sort((a, b) => {
        const p = (r) => ((r.status?.phase ?? 'Pending') === 'Pending' ? 0 : 1);
        return (
          p(a) - p(b) ||
          (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '')
        );
      });
    if (list.length === 0) {
      root.replaceChildren(h('p', { class: 'muted' }, 'No requests for the datasets you approve.'));
      return;
    }
    root.replaceChildren(
      h(
        'ul',
        { class: 'plain requests' },
        list.map((r) => {
          const { namespace, name } = r.metadata;
          const phase = r.status?.phase ?? 'Pending';
          const title = titleOf(r.spec.dataset);
          const commentId = `comment-${namespace}-${name}`;
          const whose = `${namespace}'s request for ${title}`;
          const button = (decision, text, cls) =>
            h(
              'button',
              {
                type: 'button',
                class: cls,
                'aria-label': `${text} ${whose}`,
                onclick: () => decide(r, decision),
              },
              text,
            );
          return h(
            'li',
            { class: 'card', 'data-decide': `${namespace}/${name}`, 'data-phase': phase },
            h('strong', {}, `${namespace} asks for ${title}`),
            ' ',
            h('span', { class: `phase phase-${phase}` }, phase),
            h('p', {}, `Reason: ${r.spec.reason}`),
            h(
              'p',
              { class: 'muted' },
              `Asked ${age(r.metadata.creationTimestamp)} ago`,
              r.status?.decidedBy ? ` · decided by ${r.status.decidedBy}` : '',
            ),
            h('label', { for: commentId }, 'Comment (optional)'),
            drafts.field(
              h('input', { id: commentId, type: 'text', maxlength: 2000, autocomplete: 'off' }),
            ),
            h(
              'div',
              { class: 'actions' },
              phase !== 'Approved' ? button('Approved', 'Approve') : null,
              phase !== 'Denied'
                ? button('Denied', phase === 'Approved' ? 'Revoke' : 'Deny', 'danger')
                : null,
            ),
          );
        }),
      ),
    );
  }

  function renderWho() {
    const section = document.getElementById('data-who-section');
    const shown = [...datasets.values()].filter((ds) => ds.status?.access);
    section.hidden = !admin && shown.length === 0;
    if (!section.hidden) document.getElementById('data-who').replaceChildren(whoHasAccess(shown));
  }

  function render() {
    drafts.around(() => {
      renderCatalogue();
      renderMine();
      renderDecide();
      renderWho();
    });
  }

  function startDeciding() {
    decidingStarted = true;
    liveCollection(
      client,
      `${BASE}/accessrequests`,
      (m) => {
        toDecide = m;
        render();
      },
      'data',
    );
  }

  liveCollection(
    client,
    `${BASE}/datasets`,
    (m) => {
      datasets = m;
      refreshSummary();
    },
    'data',
  );
  liveCollection(
    client,
    `${BASE}/databases`,
    (m) => {
      databases = m;
      render();
    },
    'data',
  );
  liveCollection(
    client,
    `${nsPath}/accessrequests`,
    (m) => {
      mine = m;
      refreshSummary();
    },
    'data',
  );
}
