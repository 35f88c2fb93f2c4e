// What a setting is beyond its zod type: the environment variable it is read
// from, the sentence the README tables print, and the names it replaced. Kept in
// a zod registry beside the schema, so the loader and the table generator read
// the same record.
import { z } from 'zod';

export interface SettingMeta {
  /** The environment variable, e.g. `BERTH_API_PORT`. */
  env: string;
  /** One sentence for the README table: what it does, in an operator's words. */
  description: string;
  /** Earlier names of this variable: still set, they are refused naming this one. */
  replaces?: readonly string[];
  /** Whether its value may never be echoed; by default, when its name looks secret (*_SECRET, *_TOKEN, DATABASE_URL...). */
  secret?: boolean;
  /** The default as the table shows it, when the schema's default is not what an operator sees (a fallback, a path). */
  shownDefault?: string;
  /** What a value looks like, when the schema alone does not say it well (lists, templates). */
  shownValue?: string;
}

export const settingsRegistry = z.registry<SettingMeta>();

/** Registers `schema` as the setting read from `meta.env`; returns the schema itself. */
export function setting<T extends z.ZodType>(schema: T, meta: SettingMeta): T {
  // One schema instance per setting: a shared one would carry the last name given.
  if (settingsRegistry.has(schema)) throw new Error(`${meta.env}: schema already names a setting`);
  settingsRegistry.add(schema, meta);
  return schema;
}

/** The setting's record, if `schema` is one. */
export function settingMeta(schema: z.ZodType): SettingMeta | undefined {
  return settingsRegistry.get(schema);
}
