// The JSONPath subset kubectl uses for printer columns and `wait --for=jsonpath`:
// `.a.b`, `.a[0]`, `.a[-1]`, `.a[*].b`, `.a..b` is NOT supported, `['dotted.key']`,
// and filters `[?(@.type=="Ready")]` with == and !=. Templates wrap expressions in
// braces (`{.status.phase}`); printer columns give them bare. Written here because
// the common JSONPath libraries speak the `$.a.b` dialect, not kubectl's.

type Segment =
  | { kind: 'field'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'wildcard' }
  | { kind: 'filter'; path: Segment[]; op: '==' | '!=' | 'exists'; value: unknown };

export class JsonPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonPathError';
  }
}

/** Parses a bare path such as `.status.conditions[?(@.type=="Ready")].status`. */
export function parsePath(expr: string): Segment[] {
  const src = expr.trim();
  const segments: Segment[] = [];
  let i = 0;
  if (src === '' || src === '.' || src === '@' || src === '$') return segments;
  if (src[0] === '$' || src[0] === '@') i = 1;
  while (i < src.length) {
    const c = src[i];
    if (c === '.') {
      i++;
      if (src[i] === '.')
        throw new JsonPathError(`recursive descent ".." is not supported in "${expr}"`);
      const start = i;
      while (i < src.length && /[^.[\]]/.test(src[i]!)) i++;
      const name = src.slice(start, i);
      if (name === '*') segments.push({ kind: 'wildcard' });
      else if (name) segments.push({ kind: 'field', name });
      else if (i < src.length && src[i] !== '[')
        throw new JsonPathError(`empty field name in "${expr}"`);
    } else if (c === '[') {
      const close = findClose(src, i, expr);
      const inner = src.slice(i + 1, close).trim();
      i = close + 1;
      segments.push(parseBracket(inner, expr));
    } else if (/[A-Za-z_]/.test(c!) && segments.length === 0 && i === 0) {
      // `status.phase` without the leading dot: accept it, as kubectl does.
      const start = i;
      while (i < src.length && /[^.[\]]/.test(src[i]!)) i++;
      segments.push({ kind: 'field', name: src.slice(start, i) });
    } else {
      throw new JsonPathError(`unexpected "${c}" at position ${i} in "${expr}"`);
    }
  }
  return segments;
}

function findClose(src: string, open: number, expr: string): number {
  let depth = 0;
  let quote: string | undefined;
  for (let j = open; j < src.length; j++) {
    const ch = src[j]!;
    if (quote) {
      if (ch === '\\') j++;
      else if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '[') depth++;
    else if (ch === ']') {
      depth--;
      if (depth === 0) return j;
    }
  }
  throw new JsonPathError(`unclosed "[" in "${expr}"`);
}

function parseBracket(inner: string, expr: string): Segment {
  if (inner === '*') return { kind: 'wildcard' };
  if (/^-?\d+$/.test(inner)) return { kind: 'index', index: Number(inner) };
  const quoted = /^(['"])(.*)\1$/s.exec(inner);
  if (quoted) return { kind: 'field', name: quoted[2]! };
  const filter = /^\?\((.*)\)$/s.exec(inner);
  if (filter) {
    const body = filter[1]!.trim();
    const m = /^(@[^=!]*?)\s*(==|!=)\s*(.+)$/s.exec(body);
    if (m) {
      return {
        kind: 'filter',
        path: parsePath(m[1]!),
        op: m[2] as '==' | '!=',
        value: parseLiteral(m[3]!, expr),
      };
    }
    if (body.startsWith('@'))
      return { kind: 'filter', path: parsePath(body), op: 'exists', value: undefined };
  }
  throw new JsonPathError(`unsupported "[${inner}]" in "${expr}"`);
}

function parseLiteral(text: string, expr: string): unknown {
  const t = text.trim();
  const quoted = /^(['"])(.*)\1$/s.exec(t);
  if (quoted) return quoted[2];
  if (t === 'true') return true;
  if (t === 'false') return false;
  if (t === 'null') return null;
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  throw new JsonPathError(`unsupported literal ${t} in "${expr}"`);
}

/** Every value the path selects (none when a field is missing). */
export function evaluate(segments: Segment[], root: unknown): unknown[] {
  let current: unknown[] = [root];
  for (const seg of segments) {
    const next: unknown[] = [];
    for (const value of current) {
      if (seg.kind === 'field') {
        if (isRecord(value) && seg.name in value && value[seg.name] !== undefined)
          next.push(value[seg.name]);
      } else if (seg.kind === 'index') {
        if (Array.isArray(value)) {
          const i = seg.index < 0 ? value.length + seg.index : seg.index;
          if (i >= 0 && i < value.length) next.push(value[i]);
        }
      } else if (seg.kind === 'wildcard') {
        if (Array.isArray(value)) next.push(...value);
        else if (isRecord(value)) next.push(...Object.values(value));
      } else {
        const items = Array.isArray(value) ? value : isRecord(value) ? Object.values(value) : [];
        for (const item of items) if (matches(seg, item)) next.push(item);
      }
    }
    current = next;
  }
  return current;
}

function matches(seg: Extract<Segment, { kind: 'filter' }>, item: unknown): boolean {
  const found = evaluate(seg.path, item);
  if (seg.op === 'exists') return found.length > 0;
  const equal = found.some((v) => v === seg.value || String(v) === String(seg.value));
  return seg.op === '==' ? equal : !equal && found.length > 0;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** How kubectl prints a selected value: strings bare, everything else as JSON. */
export function formatValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  return JSON.stringify(value);
}

/** Evaluates a bare path and joins the results with spaces, as kubectl does. */
export function query(expr: string, root: unknown): string[] {
  return evaluate(parsePath(expr), root).map(formatValue);
}

/**
 * Renders a template: text outside `{...}` is literal, each `{expr}` is replaced
 * by its values joined with spaces. `{.status.phase}` -> `Ready`.
 */
export function renderTemplate(template: string, root: unknown): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    if (open < 0) {
      out += template.slice(i);
      break;
    }
    out += template.slice(i, open);
    const close = template.indexOf('}', open);
    if (close < 0) throw new JsonPathError(`unclosed "{" in "${template}"`);
    out += query(template.slice(open + 1, close), root).join(' ');
    i = close + 1;
  }
  return out;
}

/**
 * Splits `{.status.phase}=Ready` (the argument of `--for=jsonpath=`) into the
 * path and the expected value (absent: the path only has to exist).
 */
export function splitJsonPathCondition(arg: string): { path: string; value: string | undefined } {
  let s = arg.trim();
  if (s.startsWith("'") || s.startsWith('"')) s = s.replace(/^(['"])(.*?)\1/, '$2');
  if (s.startsWith('{')) {
    const close = s.indexOf('}');
    if (close < 0) throw new JsonPathError(`unclosed "{" in "${arg}"`);
    const path = s.slice(1, close);
    const rest = s.slice(close + 1);
    if (rest === '') return { path, value: undefined };
    if (!rest.startsWith('='))
      throw new JsonPathError(`expected "=" after "{${path}}" in "${arg}"`);
    return { path, value: rest.slice(1).replace(/^(['"])(.*)\1$/, '$2') };
  }
  const eq = s.indexOf('=');
  if (eq < 0) return { path: s, value: undefined };
  return { path: s.slice(0, eq), value: s.slice(eq + 1).replace(/^(['"])(.*)\1$/, '$2') };
}
