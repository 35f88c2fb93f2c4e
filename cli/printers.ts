// Output as kubectl prints it: aligned tables with uppercase headers (NAMESPACE
// first with -A), ages like 5s / 3m / 2h / 4d, and -o yaml|json|name.

import { stringify } from 'yaml';
import type { BerthObject, KindInfo, PrinterColumn } from '../crds/index.ts';
import { query } from './jsonpath.ts';

export type OutputFormat = 'table' | 'wide' | 'yaml' | 'json' | 'name';

export const OUTPUT_FORMATS: readonly string[] = ['wide', 'yaml', 'json', 'name'];

/**
 * kubectl's duration.HumanDuration: short, and more precise the younger the
 * object is (`90s`, `3m20s`, `2h5m`, `4d3h`, `400d`, `3y20d`).
 */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const d = Math.floor(hours / 24) % 365;
    return d === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${d}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** Age of an RFC 3339 timestamp, `<unknown>` when it is missing or unparsable. */
export function age(timestamp: unknown, now = Date.now()): string {
  if (typeof timestamp !== 'string') return '<unknown>';
  const t = Date.parse(timestamp);
  if (Number.isNaN(t)) return '<unknown>';
  // A time ahead (an instance's scheduled stop) reads "in 5m", not a negative age.
  return t > now ? `in ${humanDuration(t - now)}` : humanDuration(now - t);
}

/** The columns `get` prints for a kind: NAME, then its printer columns (wide adds priority 1). */
function columnsFor(info: KindInfo, wide: boolean): PrinterColumn[] {
  const cols = info.printerColumns.filter((c) => wide || (c.priority ?? 0) === 0);
  const hasAge = cols.some((c) => c.name.toUpperCase() === 'AGE');
  const name: PrinterColumn = { name: 'NAME', type: 'string', jsonPath: '.metadata.name' };
  // Events name themselves by what they are about; every other kind shows NAME first.
  const out = info.kind === 'Event' ? cols : [name, ...cols];
  if (!hasAge && info.kind !== 'Event') {
    out.push({ name: 'AGE', type: 'date', jsonPath: '.metadata.creationTimestamp' });
  }
  return out;
}

function cell(col: PrinterColumn, obj: unknown, now: number): string {
  const values = query(col.jsonPath, obj);
  if (values.length === 0 || values.every((v) => v === '')) return '<none>';
  if (col.type === 'date') return values.map((v) => age(v, now)).join(',');
  return values.join(',');
}

export interface TableOptions {
  wide?: boolean;
  allNamespaces?: boolean;
  now?: number;
}

export interface Table {
  header: string[];
  rows: string[][];
}

export function buildTable(info: KindInfo, objects: BerthObject[], opts: TableOptions = {}): Table {
  const now = opts.now ?? Date.now();
  const cols = columnsFor(info, opts.wide ?? false);
  const header = cols.map((c) => c.name.toUpperCase());
  const ns = opts.allNamespaces && info.namespaced;
  if (ns) header.unshift('NAMESPACE');
  const rows = objects.map((o) => {
    const r = cols.map((c) => cell(c, o, now));
    if (ns) r.unshift(o.metadata.namespace ?? '');
    return r;
  });
  return { header, rows };
}

/** Column widths for a table, so that later watch rows can line up with it. */
export function columnWidths(table: Table): number[] {
  const widths = table.header.map((h) => h.length);
  for (const row of table.rows) {
    row.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, c.length);
    });
  }
  return widths;
}

/** One line, each cell padded to its width plus three spaces, as kubectl's tabwriter does. */
export function formatRow(row: string[], widths: number[]): string {
  return row
    .map((c, i) => (i === row.length - 1 ? c : c.padEnd((widths[i] ?? c.length) + 3)))
    .join('')
    .trimEnd();
}

export function renderTable(table: Table, opts: { noHeaders?: boolean } = {}): string {
  const widths = columnWidths(table);
  const lines = opts.noHeaders ? [] : [formatRow(table.header, widths)];
  for (const row of table.rows) lines.push(formatRow(row, widths));
  return lines.join('\n') + '\n';
}

/**
 * Object keys sorted alphabetically at every level, as kubectl prints objects
 * (Go marshals maps sorted). The API's own key order is whatever PostgreSQL's
 * jsonb keeps, which reads oddly.
 */
export function sortKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map(sortKeys) as T;
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort())
    out[k] = sortKeys((value as Record<string, unknown>)[k]);
  return out as T;
}

/** `tooldefinition/jupyterlab`: kubectl's `-o name` and apply output, without the group. */
export function objectRef(info: KindInfo, name: string): string {
  return `${info.singular}/${name}`;
}

export function renderObjects(
  info: KindInfo,
  objects: BerthObject[],
  format: Exclude<OutputFormat, 'table' | 'wide'>,
  single: boolean,
): string {
  if (format === 'name')
    return objects.map((o) => objectRef(info, o.metadata.name) + '\n').join('');
  const sorted = objects.map(sortKeys);
  const value = single
    ? sorted[0]
    : { apiVersion: 'v1', kind: 'List', items: sorted, metadata: { resourceVersion: '' } };
  if (format === 'json') return JSON.stringify(value, null, 4) + '\n';
  return stringify(value, { lineWidth: 0 });
}
