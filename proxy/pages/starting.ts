// The starting page (202): the tool's phase, conditions and recent events, kept
// live by /_berth/assets/starting.js polling /_berth/status; it reloads into the
// tool once Ready. A failed launch shows the reason and a "Try again" button
// (a same-origin POST to /_berth/launch with the launch token). A visit that may
// not launch by itself (launch-gate.ts) gets the Launch page: one such button.
// Both say why the culler stopped the tool last (idle, its time limit), and the
// starting page shows a culler's warning of a coming stop with "Keep it running"
// (a same-origin POST to /_berth/keep-running with the launch token).
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
  /** The culler's warning of a coming stop (status.stopWarning). */
  stopWarning?: {
    reason: 'Idle' | 'MaxLifetime';
    stopAt: string;
    warnedAt: string;
    message: string;
  };
  /** Why the culler stopped it last ("stopped because it was idle for 30 min"). */
  stoppedBecause?: string;
}

/** The POST form that launches (or relaunches) the tool; `csrf` is the launch token, if any. */
function launchForm(label: string, csrf: string | undefined): string {
  const token = csrf ? `<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">` : '';
  return `<form method="post" action="/_berth/launch">${token}<button type="submit">${escapeHtml(label)}</button></form>`;
}

/** The warning's sentence: "demo stops at <time>: <the culler's message>". */
function warningText(tool: string, w: LaunchStatus['stopWarning']): string {
  if (!w) return '';
  const at = `<time id="stop-at" datetime="${escapeHtml(w.stopAt)}">${escapeHtml(w.stopAt)}</time>`;
  return `${escapeHtml(tool)} ${w.reason === 'MaxLifetime' ? 'reaches its time limit and stops' : 'stops'} at ${at}: <span id="stop-message">${escapeHtml(w.message)}</span>`;
}

/** The culler's warning, with "Keep it running" unless the stop is a MaxLifetime one. */
function stopWarningBlock(s: LaunchStatus, csrf: string | undefined): string {
  const w = s.stopWarning;
  const token = csrf ? `<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">` : '';
  return `<div id="stop-warning" class="warning" role="status"${w ? '' : ' hidden'}><p id="stop-text">${warningText(s.tool, w)}</p>
<form id="keep-running" method="post" action="/_berth/keep-running"${w?.reason === 'Idle' ? '' : ' hidden'}>${token}<button type="submit">Keep it running</button></form></div>`;
}

/** A stopped tool reached by a visit that may not launch it by itself. */
export function renderLaunch(
  tool: string,
  namespace: string,
  csrf: string | undefined,
  stoppedBecause?: string,
): string {
  const why = stoppedBecause
    ? `<p id="stopped-because">${escapeHtml(`${tool} was ${stoppedBecause}.`)}</p>`
    : '';
  return renderPage({
    title: `Launch ${tool}`,
    body: `<h1>${escapeHtml(tool)} is not running</h1>
${why}<p>Start it? It will open here once it is ready.</p>
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
<p id="stopped-because"${s.stoppedBecause ? '' : ' hidden'}>${escapeHtml(s.stoppedBecause ? `${s.tool} was ${s.stoppedBecause}.` : '')}</p>
${stopWarningBlock(s, csrf)}
<div id="failure" class="failed"${s.failed ? '' : ' hidden'}><p><strong>The tool could not start.</strong> <span id="reason">${escapeHtml(s.reason ?? '')}</span></p>
${launchForm('Try again', csrf)}</div>
<h2>Conditions</h2><ul id="conditions">${conds}</ul>
<h2>Events</h2><ul id="events">${events}</ul>
<p class="muted">Instance ${escapeHtml(s.namespace)}/${escapeHtml(s.tool)}</p>`,
  });
}
