// The admin's Usage page (#usage): what the tools cost over the last 7, 30 or 90
// UTC days (today included): a stacked bar plot of daily vCPU-hours by tool
// (usage-plot.js) and the totals by user and by tool, from
// GET /apis/berth/v1alpha1/usage (admins only; the server refuses anyone else).
import { BASE } from './api.js';
import { h } from './format.js';
import { daysBetween, svg, toolColours, usagePlot } from './usage-plot.js';

const RANGES = [7, 30, 90];
const two = (n) => n.toFixed(2);

/** The first UTC day of a range of `days` days ending today. */
function firstDay(days, now = Date.now()) {
  const today = Date.parse(`${new Date(now).toISOString().slice(0, 10)}T00:00:00Z`);
  return new Date(today - (days - 1) * 86_400_000).toISOString().slice(0, 10);
}

function figuresTable(labelledBy, title, report, colours) {
  const cells = (f) => [
    h('td', { class: 'num' }, two(f.vcpuHours)),
    h('td', { class: 'num' }, two(f.gibHours)),
    h('td', { class: 'num' }, two(f.runningHours)),
    h('td', { class: 'num' }, String(f.tasks)),
  ];
  const swatch = (key) =>
    colours?.has(key)
      ? svg(
          'svg',
          { viewBox: '0 0 12 12', width: 12, height: 12, 'aria-hidden': 'true' },
          svg('rect', { width: 12, height: 12, fill: colours.get(key) }),
        )
      : undefined;
  return h(
    'table',
    { 'aria-labelledby': labelledBy, class: 'usage' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        [title, 'vCPU-hours', 'GiB-hours', 'Running (hours)', 'Tasks'].map((t, i) =>
          h('th', { scope: 'col', class: i ? 'num' : undefined }, t),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      report.rows.map((r) =>
        h(
          'tr',
          { 'data-usage-key': r.key },
          h('th', { scope: 'row' }, swatch(r.key), ` ${r.key}`),
          cells(r),
        ),
      ),
    ),
    h(
      'tfoot',
      {},
      h(
        'tr',
        { 'data-usage-key': 'total' },
        h('th', { scope: 'row' }, 'Total'),
        cells(report.total),
      ),
    ),
  );
}

export function startUsage(client, say) {
  const picker = document.getElementById('usage-range');
  const plot = document.getElementById('usage-plot');
  const users = document.getElementById('usage-users');
  const tools = document.getElementById('usage-tools');
  const windowText = document.getElementById('usage-window');
  let days = 7;
  let loading = 0;

  for (const n of RANGES) {
    picker.append(
      h(
        'button',
        {
          type: 'button',
          class: 'secondary',
          'data-range': n,
          'aria-pressed': String(n === days),
          onclick: () => {
            days = n;
            for (const b of picker.querySelectorAll('button'))
              b.setAttribute('aria-pressed', String(Number(b.dataset.range) === n));
            load();
          },
        },
        `${n} days`,
      ),
    );
  }

  async function load() {
    const mine = ++loading;
    const since = firstDay(days);
    const get = (by) => client.get(`${BASE}/usage?since=${since}&by=${by}`);
    try {
      const [byUser, byTool, daily] = await Promise.all([
        get('user'),
        get('tool'),
        get('day-tool'),
      ]);
      if (mine !== loading) return; // a newer range was picked meanwhile
      const colours = toolColours(byTool.rows.map((r) => r.key));
      const today = byUser.until.slice(0, 10);
      windowText.textContent = `From ${since} to now (${byUser.until.slice(0, 16).replace('T', ' ')} UTC), in UTC days: ${two(byUser.total.vcpuHours)} vCPU-hours, ${two(byUser.total.gibHours)} GiB-hours over ${byUser.total.tasks} tasks.`;
      plot.replaceChildren(usagePlot(daily.rows, daysBetween(since, today), colours));
      users.replaceChildren(
        byUser.rows.length
          ? figuresTable('usage-users-h', 'User', byUser)
          : h('p', { class: 'muted' }, 'No tool ran in this range.'),
      );
      tools.replaceChildren(
        byTool.rows.length
          ? figuresTable('usage-tools-h', 'Tool', byTool, colours)
          : h('p', { class: 'muted' }, 'No tool ran in this range.'),
      );
    } catch (err) {
      say(`Could not read usage: ${err.message}`);
    }
  }

  return { show: load };
}
