// The starting page (202): the tool's phase, conditions and recent events, kept
// live by /_berth/assets/starting.js polling /_berth/status; it reloads into the
// tool once Ready. A failed launch shows the reason and a "Try again" button
// (a same-origin POST to /_berth/launch with the launch token). A visit that may
// not launch by itself (launch-gate.ts) gets the Launch page: one such button.
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

/** The POST form that launches (or relaunches) the tool; `csrf` is the launch token, if any. */
function launchForm(label: string, csrf: string | undefined): string {
  const token = csrf ? `<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">` : '';
  return `<form method="post" action="/_berth/launch">${token}<button type="submit">${escapeHtml(label)}</button></form>`;
}

/** A stopped tool reached by a visit that may not launch it by itself. */
export function renderLaunch(tool: string, namespace: string, csrf: string | undefined): string {
  return renderPage({
    title: `Launch ${tool}`,
    body: `<h1>${escapeHtml(tool)} is not running</h1>
<p>Start it? It will open here once it is ready.</p>
${launchForm(`Launch ${tool}`, csrf)}
<p class="muted">Instance ${escapeHtml(namespace)}/${escapeHtml(tool)}</p>`,
  });
}

export function renderStarting(s: LaunchStatus, csrf?: string): string {
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
${launchForm('Try again', csrf)}</div>
<h2>Conditions</h2><ul id="conditions">${conds}</ul>
<h2>Events</h2><ul id="events">${events}</ul>
<p class="muted">Instance ${escapeHtml(s.namespace)}/${escapeHtml(s.tool)}</p>`,
  });
}
