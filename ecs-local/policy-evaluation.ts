// IAM's evaluation of identity policies for one request, as AWS documents it: an
// explicit Deny in any statement wins, then any Allow, else the request is denied
// (implicitly). Pure: no I/O, so each rule is unit-tested statement by statement.
//
// Supported: Action/NotAction (case-insensitive, * and ? wildcards),
// Resource/NotResource (case-sensitive, wildcards within ARN segments, any
// character in the resource part), and the condition operators StringEquals,
// StringNotEquals, StringLike, StringNotLike and Null. Anything else (an unknown
// operator, the ForAnyValue:/ForAllValues: set qualifiers, ...IfExists) is
// unsupported and fails closed: such a condition never lets an Allow statement
// apply, and always lets a Deny statement apply.
import { type PolicyDocument, type PolicyStatement, statements } from './iam-policy.ts';

/** What a request asks for: one action on one resource, with its condition keys. */
export interface AuthorizationRequest {
  action: string;
  resource: string;
  /** Condition keys present in the request (absent keys are simply missing). */
  context: Record<string, string>;
}

export type Decision = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

/** The decision of a set of policies (a role's inline policies) for one request. */
export function evaluatePolicies(
  policies: readonly PolicyDocument[],
  request: AuthorizationRequest,
): Decision {
  let allowed = false;
  for (const doc of policies) {
    for (const s of statements(doc)) {
      if (!statementApplies(s, request)) continue;
      if (s.Effect === 'Deny') return 'ExplicitDeny';
      allowed = true;
    }
  }
  return allowed ? 'Allow' : 'ImplicitDeny';
}

/**
 * With a permissions boundary the request must be allowed by both the identity
 * policies and the boundary; an explicit Deny in either wins.
 */
export function evaluateWithBoundary(
  identity: readonly PolicyDocument[],
  boundary: PolicyDocument | undefined,
  request: AuthorizationRequest,
): Decision {
  const own = evaluatePolicies(identity, request);
  if (boundary === undefined || own === 'ExplicitDeny') return own;
  const bound = evaluatePolicies([boundary], request);
  if (bound === 'ExplicitDeny') return bound;
  return own === 'Allow' && bound === 'Allow' ? 'Allow' : 'ImplicitDeny';
}

export function statementApplies(s: PolicyStatement, request: AuthorizationRequest): boolean {
  const actionHit = list(s.Action ?? s.NotAction).some((p) => matchAction(p, request.action));
  if (s.Action !== undefined ? !actionHit : actionHit) return false;
  const resourceHit = list(s.Resource ?? s.NotResource).some((p) =>
    matchResource(p, request.resource),
  );
  if (s.Resource !== undefined ? !resourceHit : resourceHit) return false;
  return conditionsHold(s, request.context);
}

const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

/** `*` any run of characters, `?` any one character; the rest literal. */
export function globMatch(pattern: string, value: string, ignoreCase = false): boolean {
  const source = [...pattern]
    .map((ch) => (ch === '*' ? '[\\s\\S]*' : ch === '?' ? '[\\s\\S]' : escapeRegExp(ch)))
    .join('');
  return new RegExp(`^${source}$`, ignoreCase ? 'iu' : 'u').test(value);
}

const escapeRegExp = (ch: string) => ch.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');

export function matchAction(pattern: string, action: string): boolean {
  return globMatch(pattern, action, true);
}

/**
 * ARNs match segment by segment (arn:partition:service:region:account:resource):
 * a wildcard stays within its segment, except in the resource part, which may
 * hold any characters (`/` and `:` included). `*` alone matches every resource.
 */
export function matchResource(pattern: string, resource: string): boolean {
  if (pattern === '*') return true;
  const p = splitArn(pattern);
  const r = splitArn(resource);
  if (!p || !r) return globMatch(pattern, resource);
  return p.every((seg, i) => globMatch(seg, r[i]!));
}

function splitArn(arn: string): string[] | undefined {
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(':')];
}

type Outcome = boolean | 'unsupported';

function conditionsHold(s: PolicyStatement, context: Record<string, string>): boolean {
  for (const [operator, keys] of Object.entries(s.Condition ?? {})) {
    for (const [key, raw] of Object.entries(keys)) {
      const values = (Array.isArray(raw) ? raw : [raw]).map(String);
      const outcome = evaluateCondition(operator, contextValue(context, key), values);
      // Fail closed: what cannot be evaluated never grants, and always denies.
      if (outcome === 'unsupported') {
        if (s.Effect === 'Allow') return false;
        continue;
      }
      if (!outcome) return false;
    }
  }
  return true;
}

/** Condition keys are case-insensitive in IAM. */
function contextValue(context: Record<string, string>, key: string): string | undefined {
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(context)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** One condition key against its values (any value may match), per IAM's rules. */
export function evaluateCondition(
  operator: string,
  actual: string | undefined,
  values: string[],
): Outcome {
  switch (operator) {
    case 'StringEquals':
      return actual !== undefined && values.includes(actual);
    case 'StringNotEquals':
      // A missing key does not equal any value.
      return actual === undefined || !values.includes(actual);
    case 'StringLike':
      return actual !== undefined && values.some((v) => globMatch(v, actual));
    case 'StringNotLike':
      return actual === undefined || !values.some((v) => globMatch(v, actual));
    case 'Null': {
      // "true": the key must be absent; "false": present.
      const wanted = values.map((v) => v.toLowerCase());
      return wanted.some((v) => (v === 'true' ? actual === undefined : actual !== undefined));
    }
    default:
      return 'unsupported';
  }
}
