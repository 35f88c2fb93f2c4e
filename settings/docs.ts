// The README tables of settings, written from the schemas: one row per variable
// with its default, what a value looks like and what it does. A README holds
// each table between `<!-- settings:NAME -->` and `<!-- /settings -->`; the
// generator (bin/settings-docs.ts) rewrites what is between them.
import { z } from 'zod';
import { isSecret } from './load.ts';
import { type SettingMeta, settingMeta } from './meta.ts';

export interface SettingRow extends SettingMeta {
  key: string;
  default?: unknown;
  /** Reads true and false. */
  flag: boolean;
  json: Record<string, unknown>;
}

/** Every setting of a schema, in the schema's order. */
export function settingRows(schema: z.ZodObject): SettingRow[] {
  const rows: SettingRow[] = [];
  for (const [key, field] of Object.entries(schema.shape)) {
    const meta = settingMeta(field as z.ZodType);
    if (!meta) continue;
    const json = z.toJSONSchema(field as z.ZodType, { io: 'input', unrepresentable: 'any' });
    // Parsing nothing gives the default as the component sees it (JSON Schema
    // cannot say it for transformed fields such as lists and flags).
    const unset = (field as z.ZodType).safeParse(undefined);
    const isFlag = [true, false].every((b) => (field as z.ZodType).safeParse(String(b)).data === b);
    rows.push({
      ...meta,
      key,
      default: unset.success ? unset.data : undefined,
      flag: isFlag,
      json: json as Record<string, unknown>,
    });
  }
  return rows;
}

/** A Markdown table of a schema's settings. */
export function settingsTable(schema: z.ZodObject): string {
  const lines = ['| variable | default | value | what it does |', '| --- | --- | --- | --- |'];
  for (const row of settingRows(schema)) {
    lines.push(
      `| \`${row.env}\` | ${cell(defaultText(row))} | ${cell(valueText(row))} | ${cell(row.description)} |`,
    );
  }
  return lines.join('\n');
}

const BLOCK = /(<!-- settings:([a-z0-9-]+) -->\n)[\s\S]*?(<!-- \/settings -->)/g;

/** `text` with each marked block replaced by `tables[NAME]`; throws naming a block with no table. */
export function fillSettingsBlocks(text: string, tables: Record<string, string>): string {
  return text.replace(BLOCK, (_all, open: string, name: string, close: string) => {
    const table = tables[name];
    if (table === undefined) throw new Error(`no settings table named "${name}"`);
    return `${open}${table}\n${close}`;
  });
}

/** The names of the blocks `text` holds, in order. */
export function settingsBlockNames(text: string): string[] {
  return [...text.matchAll(BLOCK)].map((m) => m[2]!);
}

function defaultText(row: SettingRow): string {
  if (row.shownDefault !== undefined) return row.shownDefault;
  if (row.default === undefined) return '(none)';
  if (isSecret(row)) return '(hidden)';
  const d = row.default;
  if (Array.isArray(d))
    return d.length === 0 ? '(none)' : d.map((x) => `\`${String(x)}\``).join(', ');
  if (typeof d === 'number' && row.env.endsWith('_MS')) return `${d}${humanMs(d)}`;
  if (typeof d === 'string') return `\`${d}\``;
  if (typeof d === 'boolean') return `\`${d}\``;
  return String(d);
}

function valueText(row: SettingRow): string {
  if (row.shownValue !== undefined) return row.shownValue;
  const j = row.json;
  if (Array.isArray(j.enum)) return j.enum.map((x) => `\`${String(x)}\``).join(', ');
  if (row.flag) return '`true` or `false`';
  if (j.type === 'integer' || j.type === 'number') {
    const unit = row.env.endsWith('_MS') ? ' ms' : row.env.endsWith('_BYTES') ? ' bytes' : '';
    const min = typeof j.minimum === 'number' ? j.minimum : undefined;
    const max = typeof j.maximum === 'number' ? j.maximum : undefined;
    if (min !== undefined && max !== undefined && max < Number.MAX_SAFE_INTEGER)
      return `${min} to ${max}${unit}`;
    if (min !== undefined) return `at least ${min}${unit}`;
    return `a number${unit}`;
  }
  if (j.format === 'uri') return 'a URL';
  return 'text';
}

/** ` (10 min)` for 600000: what a millisecond default means, at a glance. */
function humanMs(ms: number): string {
  if (ms < 1000) return '';
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'min'],
    [1000, 's'],
  ];
  for (const [size, name] of units) {
    if (ms % size === 0) return ` (${ms / size} ${name})`;
  }
  return '';
}

// A table cell cannot hold a pipe or a line break.
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
}
