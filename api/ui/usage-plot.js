// The Usage page's plot: daily vCPU-hours by tool as stacked bars, drawn as inline
// SVG by hand (no library, no network: the page works offline). One `<g>` per day
// (`data-day`), one `<rect>` per tool with usage that day (`data-tool`, filled with
// the tool's colour, a `<title>` as its tooltip), axes with labels, and a legend.
// Colours are set as SVG attributes, not styles: the page's CSP allows no inline style.

const SVG = 'http://www.w3.org/2000/svg';

/** Okabe and Ito's palette: told apart with every common colour blindness. */
export const PALETTE = [
  '#0072b2',
  '#e69f00',
  '#009e73',
  '#cc79a7',
  '#56b4e9',
  '#d55e00',
  '#f0e442',
  '#000000',
];

/** A colour per tool, by the tools' order (sorted by name, so stable between ranges). */
export function toolColours(tools) {
  return new Map([...tools].sort().map((t, i) => [t, PALETTE[i % PALETTE.length]]));
}

/** An SVG element; attributes set as given, strings as text. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, String(v));
  for (const c of children.flat()) {
    if (c === undefined || c === null) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Every UTC day from `first` to `last` (YYYY-MM-DD), inclusive. */
export function daysBetween(first, last) {
  const out = [];
  for (
    let t = Date.parse(`${first}T00:00:00Z`);
    t <= Date.parse(`${last}T00:00:00Z`);
    t += 86_400_000
  )
    out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}

/** A round top for the y axis and its step: 0.5, 1, 2, 5 × 10^n. */
function niceScale(max) {
  if (!(max > 0)) return { top: 1, step: 0.25 };
  const rough = max / 4;
  const mag = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= rough);
  return { top: Math.ceil(max / step) * step, step };
}

const dayLabel = (day) =>
  new Date(`${day}T00:00:00Z`).toLocaleDateString('en-GB', {
    day: 'numeric',
    month: 'short',
    timeZone: 'UTC',
  });

const hours = (n) => (Math.round(n * 100) / 100).toFixed(2);

/**
 * The plot for `rows` ({key: day, tool, vcpuHours} from `by=day-tool`) over `days`,
 * with `colours` (tool -> colour). Returns the `<figure>` to put on the page.
 */
export function usagePlot(rows, days, colours) {
  const W = 760;
  const H = 300;
  const m = { top: 12, right: 12, bottom: 52, left: 64 };
  const plotW = W - m.left - m.right;
  const plotH = H - m.top - m.bottom;
  const byDay = new Map(days.map((d) => [d, []]));
  for (const r of rows) byDay.get(r.key)?.push(r);
  const totals = days.map((d) => byDay.get(d).reduce((s, r) => s + r.vcpuHours, 0));
  const { top, step } = niceScale(Math.max(0, ...totals));
  const y = (v) => m.top + plotH - (v / top) * plotH;
  const slot = plotW / days.length;
  const barW = Math.max(1, slot * 0.7);
  const labelEvery = Math.ceil(days.length / 10);

  const grid = [];
  for (let v = 0; v <= top + step / 2; v += step) {
    grid.push(
      svg('line', { x1: m.left, x2: W - m.right, y1: y(v), y2: y(v), stroke: '#c9d0d8' }),
      svg(
        'text',
        { x: m.left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'tick' },
        String(+v.toFixed(2)),
      ),
    );
  }
  const bars = days.map((day, i) => {
    const x = m.left + i * slot + (slot - barW) / 2;
    let base = 0;
    const parts = byDay
      .get(day)
      .filter((r) => r.vcpuHours > 0)
      .sort((a, b) => a.tool.localeCompare(b.tool))
      .map((r) => {
        const rect = svg(
          'rect',
          {
            x,
            width: barW,
            y: y(base + r.vcpuHours),
            height: Math.max(0.5, y(base) - y(base + r.vcpuHours)),
            fill: colours.get(r.tool),
            'data-tool': r.tool,
            'data-vcpu-hours': r.vcpuHours,
          },
          svg('title', {}, `${day} · ${r.tool}: ${hours(r.vcpuHours)} vCPU-hours`),
        );
        base += r.vcpuHours;
        return rect;
      });
    const label =
      i % labelEvery === 0
        ? svg(
            'text',
            { x: x + barW / 2, y: H - m.bottom + 16, 'text-anchor': 'middle', class: 'tick' },
            dayLabel(day),
          )
        : undefined;
    return svg('g', { class: 'bar', 'data-day': day, 'data-total': totals[i] }, parts, label);
  });
  const axes = [
    svg('line', { x1: m.left, x2: m.left, y1: m.top, y2: m.top + plotH, stroke: '#1b1f24' }),
    svg('line', {
      x1: m.left,
      x2: W - m.right,
      y1: m.top + plotH,
      y2: m.top + plotH,
      stroke: '#1b1f24',
    }),
    svg(
      'text',
      {
        x: 14,
        y: m.top + plotH / 2,
        'text-anchor': 'middle',
        transform: `rotate(-90 14 ${m.top + plotH / 2})`,
        class: 'axis-label',
      },
      'vCPU-hours',
    ),
    svg(
      'text',
      { x: m.left + plotW / 2, y: H - 6, 'text-anchor': 'middle', class: 'axis-label' },
      'Day (UTC)',
    ),
  ];
  const chart = svg(
    'svg',
    {
      viewBox: `0 0 ${W} ${H}`,
      role: 'img',
      'aria-labelledby': 'usage-plot-h',
      class: 'usage-plot',
      id: 'usage-svg',
    },
    grid,
    axes,
    bars,
  );
  const legend = document.createElement('ul');
  legend.className = 'legend';
  legend.setAttribute('aria-label', 'Tools');
  for (const [tool, colour] of colours) {
    const li = document.createElement('li');
    li.dataset.tool = tool;
    li.append(
      svg(
        'svg',
        { viewBox: '0 0 12 12', width: 12, height: 12, 'aria-hidden': 'true' },
        svg('rect', { width: 12, height: 12, fill: colour }),
      ),
      document.createTextNode(` ${tool}`),
    );
    legend.append(li);
  }
  const figure = document.createElement('figure');
  figure.className = 'usage-figure';
  figure.append(chart, legend);
  return figure;
}
