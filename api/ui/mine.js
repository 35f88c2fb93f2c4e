// The person's own view: the tools they may use (description, sizes, Launch with
// a size remembered per tool) and "Your tools" (live phase, progress while
// starting, the reason of a failed launch, the culler's warning with Keep it
// running, why the culler stopped it, Open, Stop, Restart). The instances come
// from the stop-warning banner's live collection (stop-warnings.js), one watch.
import { BASE, liveCollection } from './api.js';
import { describeSize, h, PHASE_WORDS } from './format.js';
import { culledSentence, warningSentence } from './stop-warnings.js';

const SIZE_KEY = (tool) => `berth.size.${tool}`;

export function startMine(client, session, say, warnings) {
  const user = session.user.name;
  const nsPath = `${BASE}/namespaces/${encodeURIComponent(user)}`;
  let definitions = new Map();
  let instances = new Map();
  let events = new Map();
  /** Instances being restarted: launched again once they reach Stopped. */
  const restarting = new Set();
  /** The instance the notice ("Launching lab…") is about: cleared once berth has acted on it. */
  let noticeFor;

  function tell(tool, text) {
    noticeFor = tool;
    say(text);
  }

  /** True once the controller has seen the latest spec and the instance rests in a phase. */
  function settled(ti) {
    return (
      (ti.status?.observedGeneration ?? 0) >= (ti.metadata.generation ?? 0) &&
      ['Ready', 'Stopped', 'Failed'].includes(ti.status?.phase)
    );
  }

  const toolUrl = (name) => session.toolUrlTemplate.replace('{tool}', name).replace('{user}', user);
  const instancePath = (name) => `${nsPath}/toolinstances/${encodeURIComponent(name)}`;

  function chosenSize(def) {
    const saved = localStorage.getItem(SIZE_KEY(def.metadata.name));
    return saved && def.spec.sizes?.[saved] ? saved : def.spec.defaultSize;
  }

  async function launch(tool, size) {
    try {
      await client.apply(instancePath(tool), {
        apiVersion: 'berth/v1alpha1',
        kind: 'ToolInstance',
        metadata: { name: tool, namespace: user },
        // launchRequestedAt: a Stopped or Failed instance gets a new attempt (one write).
        spec: {
          toolRef: tool,
          state: 'Running',
          launchRequestedAt: new Date().toISOString(),
          ...(size ? { size } : {}),
        },
      });
      tell(tool, `Launching ${tool}…`);
    } catch (err) {
      say(`Could not launch ${tool}: ${err.message}`);
    }
  }

  async function setState(tool, state) {
    try {
      const spec =
        state === 'Running' ? { state, launchRequestedAt: new Date().toISOString() } : { state };
      await client.mergePatch(instancePath(tool), { spec });
      tell(tool, state === 'Stopped' ? `Stopping ${tool}…` : `Starting ${tool}…`);
    } catch (err) {
      say(`Could not change ${tool}: ${err.message}`);
    }
  }

  function renderCatalogue() {
    const root = document.getElementById('catalogue');
    const defs = [...definitions.values()].sort((a, b) =>
      a.metadata.name.localeCompare(b.metadata.name),
    );
    if (defs.length === 0) {
      root.replaceChildren(h('p', { class: 'muted' }, 'No tools are available to you yet.'));
      return;
    }
    root.replaceChildren(
      ...defs.map((def) => {
        const name = def.metadata.name;
        const selectId = `size-${name}`;
        const select = h(
          'select',
          {
            id: selectId,
            onchange: (e) => localStorage.setItem(SIZE_KEY(name), e.target.value),
          },
          Object.entries(def.spec.sizes ?? {}).map(([size, spec]) =>
            h(
              'option',
              { value: size, selected: size === chosenSize(def) },
              `${size} (${describeSize(spec)})`,
            ),
          ),
        );
        return h(
          'article',
          { class: 'card', 'data-tool': name },
          h('h3', {}, def.spec.displayName ?? name),
          def.spec.description ? h('p', {}, def.spec.description) : null,
          h(
            'div',
            { class: 'actions' },
            h('label', { for: selectId }, 'Size'),
            select,
            h(
              'button',
              {
                type: 'button',
                'aria-label': `Launch ${def.spec.displayName ?? name}`,
                onclick: () => {
                  localStorage.setItem(SIZE_KEY(name), select.value);
                  launch(name, select.value);
                },
              },
              'Launch',
            ),
          ),
        );
      }),
    );
  }

  function eventsOf(name) {
    return [...events.values()]
      .filter((e) => e.involvedObject?.kind === 'ToolInstance' && e.involvedObject.name === name)
      .sort((a, b) => (a.lastTimestamp ?? '').localeCompare(b.lastTimestamp ?? ''))
      .slice(-5);
  }

  function progress(ti) {
    const conditions = (ti.status?.conditions ?? []).map((c) =>
      h(
        'li',
        {},
        `${c.type}: ${c.status}${c.reason ? ` (${c.reason})` : ''}${c.message ? ` — ${c.message}` : ''}`,
      ),
    );
    const evs = eventsOf(ti.metadata.name).map((e) =>
      h('li', {}, `${e.reason}: ${e.message}${e.count > 1 ? ` (×${e.count})` : ''}`),
    );
    return h(
      'ul',
      { class: 'progress', 'aria-label': `Progress of ${ti.metadata.name}` },
      conditions,
      evs,
    );
  }

  function renderInstances() {
    const root = document.getElementById('instances');
    const list = [...instances.values()].sort((a, b) =>
      a.metadata.name.localeCompare(b.metadata.name),
    );
    if (list.length === 0) {
      root.replaceChildren(h('p', { class: 'muted' }, 'You have no tools yet. Launch one below.'));
      return;
    }
    root.replaceChildren(
      h(
        'div',
        { class: 'grid' },
        list.map((ti) => {
          const name = ti.metadata.name;
          const phase = ti.status?.phase ?? 'Pending';
          const running = ti.spec.state === 'Running';
          const def = definitions.get(`/${ti.spec.toolRef}`);
          const size = ti.spec.size ?? def?.spec.defaultSize ?? '';
          // Stopped or Failed while the spec says Running: the attempt ended; Launch asks again.
          const ended = phase === 'Stopped' || phase === 'Failed';
          const starting = running && (phase === 'Pending' || phase === 'Starting');
          return h(
            'article',
            { class: 'card', 'data-instance': name, 'data-phase': phase },
            h('h3', {}, def?.spec.displayName ?? name),
            h(
              'p',
              {},
              h('span', { class: `phase phase-${phase}` }, PHASE_WORDS[phase] ?? phase),
              size ? h('span', { class: 'muted' }, ` · ${size}`) : null,
            ),
            phase === 'Failed' || (running && phase === 'Stopped')
              ? h('p', { class: 'reason' }, ti.status?.message || 'The tool failed to start.')
              : null,
            culledSentence(ti, def) ? h('p', { class: 'culled' }, culledSentence(ti, def)) : null,
            ti.status?.stopWarning
              ? h(
                  'p',
                  { class: 'stop-warning' },
                  warningSentence(ti, def),
                  ti.status.stopWarning.reason === 'Idle'
                    ? h(
                        'button',
                        {
                          type: 'button',
                          class: 'secondary',
                          'aria-label': `Keep ${name} running`,
                          onclick: () => warnings.keepRunning(name),
                        },
                        'Keep it running',
                      )
                    : null,
                )
              : null,
            starting ? progress(ti) : null,
            h(
              'div',
              { class: 'actions' },
              phase === 'Ready'
                ? h(
                    'a',
                    { class: 'button', href: toolUrl(name), 'aria-label': `Open ${name}` },
                    'Open',
                  )
                : null,
              running && !ended
                ? h(
                    'button',
                    {
                      type: 'button',
                      class: 'danger',
                      'aria-label': `Stop ${name}`,
                      onclick: () => setState(name, 'Stopped'),
                    },
                    'Stop',
                  )
                : h(
                    'button',
                    {
                      type: 'button',
                      'aria-label': `${phase === 'Failed' ? 'Try again' : 'Launch'} ${name}`,
                      onclick: () => launch(name, ti.spec.size),
                    },
                    phase === 'Failed' ? 'Try again' : 'Launch',
                  ),
              running
                ? h(
                    'button',
                    {
                      type: 'button',
                      class: 'secondary',
                      'aria-label': `Restart ${name}`,
                      onclick: () => {
                        restarting.add(name);
                        setState(name, 'Stopped');
                      },
                    },
                    'Restart',
                  )
                : null,
            ),
          );
        }),
      ),
    );
  }

  liveCollection(client, `${BASE}/tooldefinitions`, (m) => {
    definitions = m;
    renderCatalogue();
    renderInstances();
  });
  warnings.onInstances((m) => {
    instances = m;
    for (const name of restarting) {
      const ti = m.get(`${user}/${name}`);
      if (ti?.spec.state === 'Stopped' && ['Stopped', 'Failed'].includes(ti.status?.phase)) {
        restarting.delete(name);
        setState(name, 'Running');
      }
    }
    const told = noticeFor === undefined ? undefined : m.get(`${user}/${noticeFor}`);
    if (told && !restarting.has(noticeFor) && settled(told)) {
      noticeFor = undefined;
      say('');
    }
    renderInstances();
  });
  liveCollection(client, `${nsPath}/events`, (m) => {
    events = m;
    renderInstances();
  });
}
