// The text `berth describe` prints, kept apart from the command so it can be
// tested without a server: kubectl's layout (Title Case keys, aligned values,
// a Conditions table and the object's recent Events).
import type { BerthObject, Condition } from '../crds/index.ts';
import { age, formatRow, sortKeys } from './printers.ts';

/** `toolRef` -> `Tool Ref`, `observedGeneration` -> `Observed Generation`, as kubectl does. */
export function titleCase(key: string): string {
  const spaced = key
    // A capital after a lowercase letter starts a word when a lowercase letter or
    // another capital follows: `toolRef` -> `tool Ref`, `taskID` -> `task ID`, but
    // a unit stays whole: `ephemeralStorageGiB` -> `ephemeral Storage GiB`.
    .replace(/([a-z0-9])([A-Z])(?=[A-Za-z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ');
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

function scalar(v: unknown): string {
  if (v === null || v === undefined) return '<none>';
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A nested value as an indented block, keys Title Cased and scalar values aligned per block. */
function describeBlock(value: unknown, indent: number, out: string[]): void {
  const pad = ' '.repeat(indent);
  if (Array.isArray(value)) {
    for (const item of value) {
      if (isRecord(item) || Array.isArray(item)) describeBlock(item, indent, out);
      else out.push(`${pad}${scalar(item)}`);
    }
    return;
  }
  if (!isRecord(value)) {
    out.push(`${pad}${scalar(value)}`);
    return;
  }
  const keys = Object.keys(value);
  const width = Math.max(0, ...keys.map((k) => titleCase(k).length + 1));
  for (const k of keys) {
    const v = value[k];
    const label = `${titleCase(k)}:`;
    const empty =
      (Array.isArray(v) && v.length === 0) || (isRecord(v) && Object.keys(v).length === 0);
    if ((isRecord(v) || Array.isArray(v)) && !empty) {
      out.push(`${pad}${label}`);
      describeBlock(v, indent + 2, out);
    } else {
      out.push(`${pad}${label.padEnd(width)}  ${empty ? '<none>' : scalar(v)}`);
    }
  }
}

export function mapLines(
  label: string,
  map: Record<string, string> | undefined,
  width: number,
): string[] {
  const entries = Object.entries(map ?? {});
  if (entries.length === 0) return [`${label.padEnd(width)}<none>`];
  return entries.map(([k, v], i) => `${(i === 0 ? label : '').padEnd(width)}${k}=${v}`);
}

export function table(header: string[], rows: string[][], indent: string): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const lines = [
    formatRow(header, widths),
    formatRow(
      header.map((h) => '-'.repeat(h.length)),
      widths,
    ),
  ];
  for (const r of rows) lines.push(formatRow(r, widths));
  return lines.map((l) => indent + l);
}

export interface DescribeInput {
  object: BerthObject;
  events: BerthObject[] | undefined;
  /** Why events could not be listed, when they could not. */
  eventsError?: string;
  now?: number;
}

export function renderDescribe({
  object: unsorted,
  events,
  eventsError,
  now = Date.now(),
}: DescribeInput): string {
  const object = sortKeys(unsorted);
  const m = object.metadata;
  const W = 14;
  const line = (label: string, value: string) => `${label.padEnd(W)}${value}`;
  const out: string[] = [line('Name:', m.name)];
  if (m.namespace) out.push(line('Namespace:', m.namespace));
  out.push(...mapLines('Labels:', m.labels, W));
  out.push(...mapLines('Annotations:', m.annotations, W));
  out.push(line('API Version:', object.apiVersion));
  out.push(line('Kind:', object.kind));
  const metaBits: Record<string, unknown> = {};
  for (const k of [
    'creationTimestamp',
    'deletionTimestamp',
    'generation',
    'resourceVersion',
    'uid',
    'finalizers',
    'ownerReferences',
  ] as const) {
    if (m[k] !== undefined) metaBits[k] = m[k];
  }
  out.push('Metadata:');
  describeBlock(metaBits, 2, out);

  // Kinds like Event keep their fields at the top level rather than in spec/status.
  const skip = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'status']);
  for (const [k, v] of Object.entries(object)) {
    if (skip.has(k)) continue;
    describeBlock({ [k]: v }, 0, out);
  }
  if (object.spec !== undefined) {
    out.push('Spec:');
    describeBlock(object.spec, 2, out);
  }
  const status = isRecord(object.status) ? { ...object.status } : undefined;
  const conditions = (status?.conditions as Condition[] | undefined) ?? [];
  if (status) {
    delete status.conditions;
    out.push('Status:');
    if (Object.keys(status).length > 0) describeBlock(status, 2, out);
  }
  if (object.kind !== 'Event') {
    out.push(...renderConditions(conditions));
    out.push(...renderEvents(events, eventsError, now));
  }
  return out.join('\n') + '\n';
}

/** The Conditions block: a table, or `<none>`. */
export function renderConditions(conditions: readonly Condition[]): string[] {
  if (conditions.length === 0) return ['Conditions:', '  <none>'];
  return [
    'Conditions:',
    ...table(
      ['Type', 'Status', 'Reason', 'Message', 'Last Transition'],
      conditions.map((c) => [
        c.type,
        c.status,
        c.reason ?? '',
        c.message ?? '',
        c.lastTransitionTime ?? '',
      ]),
      '  ',
    ),
  ];
}

export function renderEvents(
  events: BerthObject[] | undefined,
  error: string | undefined,
  now: number,
): string[] {
  if (error) return [`Events:       <unable to list events: ${error}>`];
  if (!events || events.length === 0) return ['Events:       <none>'];
  const rows = events.map((e) => {
    const count = typeof e.count === 'number' ? e.count : 1;
    const last = age(e.lastTimestamp ?? e.metadata.creationTimestamp, now);
    const when = count > 1 ? `${last} (x${count} over ${age(e.firstTimestamp, now)})` : last;
    const from =
      isRecord(e.source) && typeof e.source.component === 'string' ? e.source.component : '';
    return [String(e.type ?? ''), String(e.reason ?? ''), when, from, String(e.message ?? '')];
  });
  return ['Events:', ...table(['Type', 'Reason', 'Age', 'From', 'Message'], rows, '  ')];
}

/** The events about one object, oldest first, as kubectl shows them. */
export function eventsFor(object: BerthObject, events: BerthObject[], max = 50): BerthObject[] {
  const mine = events.filter((e) => {
    const io = e.involvedObject as { name?: string; uid?: string; kind?: string } | undefined;
    if (!io) return false;
    if (io.uid && object.metadata.uid) return io.uid === object.metadata.uid;
    return io.name === object.metadata.name && (!io.kind || io.kind === object.kind);
  });
  const when = (e: BerthObject) =>
    Date.parse(String(e.lastTimestamp ?? e.metadata.creationTimestamp ?? '')) || 0;
  return mine.sort((a, b) => when(a) - when(b)).slice(-max);
}
