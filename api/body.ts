// Request bodies: decode UTF-8, parse JSON or YAML, then walk the result once
// (iteratively, so hostile nesting cannot overflow the stack) to refuse what
// would break later layers: too-deep nesting, NUL characters and lone
// surrogates (PostgreSQL's jsonb refuses both), and `__proto__` keys.
import { parseAllDocuments } from 'yaml';
import { ApiError } from '../crds/index.ts';
import type { BodyFormat } from './content-types.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

function bad(message: string): ApiError {
  return new ApiError('BadRequest', message);
}

/** Where a JSON.parse error happened, as "line L, column C" when the engine says. */
function jsonErrorMessage(err: Error, text: string): string {
  const m = /position (\d+)/.exec(err.message);
  const detail = err.message.replace(/^JSON\.parse: /, '');
  if (/end of JSON input/.test(detail))
    return `${detail} (the body ends at position ${text.length})`;
  if (!m) return detail;
  const pos = Number(m[1]);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  return `${detail.replace(/ in JSON at position \d+.*$/, '')} at line ${line}, column ${column} (position ${pos})`;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw bad(`request body is not valid JSON: ${jsonErrorMessage(err as Error, text)}`);
  }
}

function parseYaml(text: string): unknown {
  let docs: ReturnType<typeof parseAllDocuments>;
  try {
    docs = parseAllDocuments(text, { uniqueKeys: true, strict: true, prettyErrors: true });
  } catch (err) {
    // The parser itself can throw on pathological input (e.g. a stack overflow).
    throw bad(`request body is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const list = Array.isArray(docs) ? docs : [docs];
  if (list.length !== 1) {
    throw bad(`request body must hold exactly one YAML document, found ${list.length}`);
  }
  const doc = list[0]!;
  const problem = doc.errors[0];
  if (problem) throw bad(`request body is not valid YAML: ${problem.message.split('\n')[0]}`);
  try {
    // maxAliasCount refuses alias bombs ("billion laughs").
    return doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw bad(`request body is not usable YAML: ${(err as Error).message.split('\n')[0]}`);
  }
}

function describePath(path: (string | number)[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out || '(root)';
}

function checkString(s: string, path: (string | number)[], what: string): void {
  if (s.includes('\u0000')) throw bad(`${what} at ${describePath(path)} contains a NUL character`);
  if (!s.isWellFormed()) {
    throw bad(`${what} at ${describePath(path)} contains an unpaired UTF-16 surrogate`);
  }
}

/** Refuses values the rest of berth cannot hold safely. */
function inspectValue(value: unknown, maxDepth: number): void {
  const stack: { v: unknown; depth: number; path: (string | number)[] }[] = [
    { v: value, depth: 0, path: [] },
  ];
  while (stack.length) {
    const { v, depth, path } = stack.pop()!;
    if (typeof v === 'string') {
      checkString(v, path, 'string');
      continue;
    }
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) throw bad(`number at ${describePath(path)} is not finite`);
      continue;
    }
    if (v === null || typeof v === 'boolean') continue;
    if (typeof v !== 'object') {
      throw bad(`value at ${describePath(path)} is not plain JSON data`);
    }
    if (depth >= maxDepth) {
      throw bad(
        `request body nests deeper than ${maxDepth} levels (at ${describePath(path.slice(0, 8))}...)`,
      );
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++)
        stack.push({ v: v[i], depth: depth + 1, path: [...path, i] });
      continue;
    }
    if (v instanceof Date || v instanceof Map || v instanceof Set || ArrayBuffer.isView(v)) {
      throw bad(
        `value at ${describePath(path)} is not plain JSON data (YAML tags are not supported)`,
      );
    }
    for (const [k, child] of Object.entries(v)) {
      if (k === '__proto__')
        throw bad(`field name "__proto__" at ${describePath(path)} is not allowed`);
      checkString(k, path, 'field name');
      stack.push({ v: child, depth: depth + 1, path: [...path, k] });
    }
  }
}

/** Decodes and parses a request body; undefined when there is none. */
export function parseBody(raw: Buffer | undefined, format: BodyFormat, maxDepth: number): unknown {
  if (!raw || raw.length === 0) return undefined;
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw bad('request body is not valid UTF-8');
  }
  if (!text.trim()) return undefined;
  const value = format === 'json' ? parseJson(text) : parseYaml(text);
  inspectValue(value, maxDepth);
  return value;
}

/** The body as an object, or a 400 naming what arrived instead. */
export function requireObject(value: unknown, what: string): Record<string, unknown> {
  if (value === undefined) throw bad(`${what}: request body is empty`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const got = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    throw bad(`${what}: request body must be a JSON object, got ${got}`);
  }
  return value as Record<string, unknown>;
}
