// Small formatting helpers: sizes, ages, element building without innerHTML.

/** `h('button', {class: 'x', onclick}, 'text', child)`; strings become text nodes. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === false || v === null) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** `0.25 vCPU, 0.5 GB` from ECS units (1024 per vCPU) and MiB. */
export function describeSize(size) {
  if (!size) return '';
  const cpu = size.cpu / 1024;
  const gb = size.memory / 1024;
  return `${cpu} vCPU, ${Number.isInteger(gb) ? gb : gb.toFixed(1)} GB`;
}

export function age(iso, now = Date.now()) {
  if (!iso) return '';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

export function ago(iso) {
  return iso ? `${age(iso)} ago` : 'never';
}

/** Plain words for a phase. */
export const PHASE_WORDS = {
  Pending: 'Waiting to start',
  Starting: 'Starting',
  Ready: 'Ready',
  Stopping: 'Stopping',
  Stopped: 'Stopped',
  Failed: 'Failed',
};
