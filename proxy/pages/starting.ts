// The starting page (202): the tool's phase, conditions and recent events, kept
// live by /_berth/assets/starting.js polling /_berth/status; it reloads into the
// tool once Ready. A failed launch shows the reason and a "Try again" button
// (a same-origin POST to /_berth/launch).
import type { Condition } from '../../crds/index.ts';
import { escapeHtml, renderPage } from './layout.ts';

export interface LaunchStatus {
  tool: string;
  namespace: string;
  phase: string;
  ready: boolean;
  failed: boolean;
  reason?: string;
  conditions: Condition[];
  events: Array<{
    type: string;
    reason: string;
    message: string;
    count: number;
    lastTimestamp?: string;
  }>;
}

export function renderStarting(s: LaunchStatus): string {
  const conds = s.conditions
    .map(
      (c) =>
        `<li>${escapeHtml(`${c.type}: ${c.status}${c.reason ? ` (${c.reason})` : ''}${c.message ? ` ${c.message}` : ''}`)}</li>`,
    )
    .join('');
  const events = s.events
    .map(
      (e) =>
        `<li${e.type === 'Warning' ? ' class="failed"' : ''}>${escapeHtml(`${e.count > 1 ? `${e.count}× ` : ''}${e.reason}: ${e.message}`)}</li>`,
    )
    .join('');
  return renderPage({
    title: `Starting ${s.tool}`,
    scripts: ['/_berth/assets/starting.js'],
    body: `<h1>Starting ${escapeHtml(s.tool)}</h1>
<p aria-live="polite">Phase: <span id="phase" class="phase">${escapeHtml(s.phase)}</span>. This page opens the tool as soon as it is ready.</p>
<div id="failure" class="failed"${s.failed ? '' : ' hidden'}><p><strong>The tool could not start.</strong> <span id="reason">${escapeHtml(s.reason ?? '')}</span></p>
<form method="post" action="/_berth/launch"><button type="submit">Try again</button></form></div>
<h2>Conditions</h2><ul id="conditions">${conds}</ul>
<h2>Events</h2><ul id="events">${events}</ul>
<p class="muted">Instance ${escapeHtml(s.namespace)}/${escapeHtml(s.tool)}</p>`,
  });
}
