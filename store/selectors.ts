// Kubernetes label selectors: parsing (the full equality- and set-based grammar),
// evaluation in SQL against the labels column (parameterised, index-friendly), and
// evaluation in memory (watch filtering).
import { ApiError, isValidLabelKey, isValidLabelValue } from '../crds/index.ts';
import { isPlainObject } from './merge-patch.ts';

export type Requirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };

type Token = { t: 'id'; v: string } | { t: 'op'; v: '=' | '==' | '!=' | '!' | '(' | ')' | ',' };

function badSelector(selector: string, what: string): ApiError {
  return new ApiError('BadRequest', `invalid label selector "${selector}": ${what}`, {
    causes: [{ field: 'labelSelector', message: what, reason: 'FieldValueInvalid' }],
  });
}

function tokenize(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '=' && s[i + 1] === '=') {
      out.push({ t: 'op', v: '==' });
      i += 2;
    } else if (c === '!' && s[i + 1] === '=') {
      out.push({ t: 'op', v: '!=' });
      i += 2;
    } else if (c === '=' || c === '!' || c === '(' || c === ')' || c === ',') {
      out.push({ t: 'op', v: c });
      i++;
    } else {
      let j = i;
      while (j < s.length && !/[\s=!(),]/.test(s[j]!)) j++;
      out.push({ t: 'id', v: s.slice(i, j) });
      i = j;
    }
  }
  return out;
}

/** Parses a selector; an empty or blank string selects everything. Throws 400 BadRequest saying what is wrong. */
export function parseSelector(selector: string): Requirement[] {
  const tokens = tokenize(selector);
  const reqs: Requirement[] = [];
  let p = 0;
  const peek = () => tokens[p];
  const fail = (what: string) => badSelector(selector, what);
  const key = (): string => {
    const tok = tokens[p++];
    if (tok?.t !== 'id')
      throw fail(
        tok ? `expected a label key, found "${tok.v}"` : 'expected a label key at the end',
      );
    if (!isValidLabelKey(tok.v)) {
      throw fail(
        `"${tok.v}" is not a valid label key (an optional DNS prefix and "/", then at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)`,
      );
    }
    return tok.v;
  };
  const value = (k: string, allowEmpty: boolean): string => {
    const tok = peek();
    let v = '';
    if (tok?.t === 'id') {
      v = tok.v;
      p++;
    } else if (!allowEmpty) {
      throw fail(`expected a value for "${k}"`);
    }
    if (!isValidLabelValue(v)) {
      throw fail(
        `"${v}" is not a valid label value for "${k}" (at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit)`,
      );
    }
    return v;
  };
  const valueSet = (k: string): string[] => {
    const open = tokens[p++];
    if (open?.t !== 'op' || open.v !== '(')
      throw fail(`expected "(" after the set operator of "${k}"`);
    const values: string[] = [];
    for (;;) {
      values.push(value(k, true));
      const tok = tokens[p++];
      if (tok?.t === 'op' && tok.v === ')') break;
      if (!(tok?.t === 'op' && tok.v === ','))
        throw fail(`expected "," or ")" in the value set of "${k}"`);
    }
    return values;
  };
  if (tokens.length === 0) return reqs;
  for (;;) {
    const tok = peek();
    if (tok?.t === 'op' && tok.v === '!') {
      p++;
      reqs.push({ op: 'notexists', key: key() });
    } else {
      const k = key();
      const op = peek();
      if (!op || (op.t === 'op' && op.v === ',')) {
        reqs.push({ op: 'exists', key: k });
      } else if (op.t === 'op' && (op.v === '=' || op.v === '==' || op.v === '!=')) {
        p++;
        // `key=` (an empty value) is valid, as in Kubernetes.
        const next = peek();
        const v = next?.t === 'id' ? value(k, true) : '';
        reqs.push({ op: op.v === '!=' ? 'neq' : 'eq', key: k, value: v });
      } else if (op.t === 'id' && (op.v === 'in' || op.v === 'notin')) {
        p++;
        reqs.push({ op: op.v, key: k, values: valueSet(k) });
      } else {
        throw fail(
          `expected an operator (=, ==, !=, in, notin) or "," after "${k}", found "${op.v}"`,
        );
      }
    }
    const sep = tokens[p++];
    if (!sep) break;
    if (!(sep.t === 'op' && sep.v === ','))
      throw fail(`expected "," between requirements, found "${sep.v}"`);
    if (!peek()) throw fail('a requirement is missing after the last ","');
  }
  return reqs;
}

/** Collects positional parameters for one SQL statement. */
export class SqlParams {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

const LABELS = `(object -> 'metadata' -> 'labels')`;

/** A SQL condition (AND of the requirements) on the `object` column; `true` when there are none. */
export function selectorSql(reqs: Requirement[], params: SqlParams): string {
  if (reqs.length === 0) return 'true';
  const parts = reqs.map((r) => {
    switch (r.op) {
      case 'eq':
        return `${LABELS} @> ${params.add(JSON.stringify({ [r.key]: r.value }))}::jsonb`;
      case 'neq':
        return `not coalesce(${LABELS} @> ${params.add(JSON.stringify({ [r.key]: r.value }))}::jsonb, false)`;
      case 'in':
        return `(${r.values.map((v) => `${LABELS} @> ${params.add(JSON.stringify({ [r.key]: v }))}::jsonb`).join(' or ')})`;
      case 'notin':
        return `not coalesce((${LABELS} ->> ${params.add(r.key)}::text) = any(${params.add(r.values)}::text[]), false)`;
      case 'exists':
        return `coalesce(${LABELS} ? ${params.add(r.key)}::text, false)`;
      default: // notexists
        return `not coalesce(${LABELS} ? ${params.add(r.key)}::text, false)`;
    }
  });
  return parts.join(' and ');
}

/** The same selection in memory, for watch events. */
export function matchesSelector(reqs: Requirement[], labels: unknown): boolean {
  const l = isPlainObject(labels) ? labels : {};
  const get = (k: string): string | undefined =>
    Object.hasOwn(l, k) && typeof l[k] === 'string' ? (l[k] as string) : undefined;
  return reqs.every((r) => {
    const v = get(r.key);
    switch (r.op) {
      case 'eq':
        return v === r.value;
      case 'neq':
        return v !== r.value;
      case 'in':
        return v !== undefined && r.values.includes(v);
      case 'notin':
        return v === undefined || !r.values.includes(v);
      case 'exists':
        return v !== undefined;
      default: // notexists
        return v === undefined;
    }
  });
}
