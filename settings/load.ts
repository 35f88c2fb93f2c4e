// The one loader: a zod object whose fields are settings (settings/meta.ts) in,
// the typed settings out, or one ConfigError naming every bad variable, what it
// was given (never a secret's value) and what was expected.
import type { z } from 'zod';
import { type SettingMeta, settingMeta } from './meta.ts';

export type Env = Record<string, string | undefined>;

export interface LoadOptions {
  /** Names the settings in the error, e.g. `API` -> "invalid API settings". */
  component: string;
  /** Values from code (tests, bin/), over the environment; undefined ones are skipped. */
  values?: Record<string, unknown>;
}

/** Bad settings: `issues` holds one line per problem, each starting with the variable's name. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly issues: readonly string[];
  constructor(what: string, issues: readonly string[]) {
    super(`invalid ${what}:\n  ${issues.join('\n  ')}`);
    this.issues = issues;
  }
}

// Variables whose values must never appear in an error, a log line or a table.
const SECRET_NAME =
  /(SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIALS?|COOKIE|PRIVATE_KEY|DATABASE_URL|DSN)$/;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** A setting's value is never shown when its record says so, or its name looks secret. */
export function isSecret(meta: SettingMeta): boolean {
  return meta.secret ?? isSecretName(meta.env);
}

/** Parses the settings `schema` describes from `env` (and `options.values`); throws ConfigError. */
export function loadSettings<S extends z.ZodObject>(
  schema: S,
  env: Env,
  options: LoadOptions,
): z.output<S> {
  const raw: Record<string, unknown> = {};
  const issues: string[] = [];
  const secrets: string[] = [];
  for (const [key, field] of Object.entries(schema.shape)) {
    const meta = settingMeta(field as z.ZodType);
    if (!meta) continue;
    const secret = isSecret(meta);
    const value = env[meta.env];
    if (value !== undefined && value !== '') {
      raw[key] = value;
      if (secret) secrets.push(value);
    }
    for (const old of meta.replaces ?? []) {
      const was = env[old];
      if (was !== undefined && was !== '')
        issues.push(renamed(old, meta.env, secret ? undefined : was));
    }
  }
  for (const [key, value] of Object.entries(options.values ?? {})) {
    if (value === undefined) continue;
    raw[key] = value;
    const field = schema.shape[key];
    const meta = field ? settingMeta(field as z.ZodType) : undefined;
    if (meta && isSecret(meta) && typeof value === 'string') secrets.push(value);
  }
  const parsed = schema.safeParse(raw, { error: expectation, reportInput: true });
  if (!parsed.success) {
    for (const issue of parsed.error.issues) issues.push(describeIssue(schema, issue, raw));
  }
  if (issues.length > 0) {
    throw new ConfigError(
      `${options.component} settings`,
      issues.map((line) => hide(line, secrets)),
    );
  }
  return parsed.data as z.output<S>;
}

function renamed(old: string, now: string, value: string | undefined): string {
  const seconds = old.endsWith('_SECONDS') && now.endsWith('_MS');
  const n = value === undefined ? Number.NaN : Number(value);
  const hint = seconds && Number.isFinite(n) ? ` (${old}=${value} is ${now}=${n * 1000})` : '';
  return `${old}: renamed ${now}${seconds ? ', in milliseconds' : ''}; set that instead${hint}`;
}

function describeIssue(
  schema: z.ZodObject,
  issue: z.core.$ZodIssue,
  raw: Record<string, unknown>,
): string {
  const [key, ...rest] = issue.path;
  const field = typeof key === 'string' ? schema.shape[key] : undefined;
  const meta = field ? settingMeta(field as z.ZodType) : undefined;
  const name = meta?.env ?? (typeof key === 'string' ? key : '(settings)');
  const item = rest.find((p) => typeof p === 'number');
  const where = item === undefined ? name : `${name} (item ${item + 1})`;
  // What was given as written (a list's failing item rather than the whole list).
  const input = 'input' in issue && isPrimitive(issue.input) ? issue.input : undefined;
  const value =
    item !== undefined && input !== undefined
      ? input
      : typeof key === 'string'
        ? raw[key]
        : undefined;
  const text = value === undefined ? '' : JSON.stringify(value);
  const secret = meta !== undefined && isSecret(meta);
  const given = text === '' || secret || issue.message.includes(text) ? '' : `, got ${text}`;
  return `${where}: ${issue.message}${given}`;
}

function isPrimitive(v: unknown): v is string | number | boolean {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

// A secret's value is cut out of every line, whatever a custom message quoted.
function hide(line: string, secrets: string[]): string {
  let out = line;
  // Short values would cut ordinary words; every message quoting a value is ours.
  for (const s of secrets) if (s.length >= 4) out = out.replaceAll(s, '(hidden)');
  return out;
}

/** What was expected, in plain words; zod's own message where a schema gives none of its own. */
function expectation(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'required, not set';
      if (issue.expected === 'int') return 'expected a whole number';
      if (issue.expected === 'number') return 'expected a number';
      return `expected ${issue.expected}`;
    case 'too_small':
      return `expected at least ${issue.minimum}${unit(issue.origin)}`;
    case 'too_big':
      return `expected at most ${issue.maximum}${unit(issue.origin)}`;
    case 'not_multiple_of':
      return `expected a multiple of ${issue.divisor}`;
    case 'invalid_value':
      if ((issue as { expected?: string }).expected === 'stringbool')
        return 'expected true or false';
      return `expected one of ${issue.values.map((v) => String(v)).join(', ')}`;
    case 'invalid_format':
      if (issue.format === 'url') return 'expected a URL';
      return undefined;
    default:
      return undefined;
  }
}

function unit(origin: string): string {
  if (origin === 'string') return ' characters';
  if (origin === 'array' || origin === 'set') return ' items';
  return '';
}
