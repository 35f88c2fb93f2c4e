// Query parameters, validated per operation with zod: a wrong type, a repeated
// parameter or an unknown one is a 400 naming it.
import { z } from 'zod';
import { ApiError, fieldPath } from '../crds/index.ts';

const once = z.string({ error: 'must be given once, as a string' });
const bool = once
  .regex(/^(true|false|1|0)$/, 'must be true or false')
  .transform((s) => s === 'true' || s === '1');
const resourceVersion = once.regex(
  /^(0|[1-9][0-9]{0,15})$/,
  'must be a resourceVersion: a non-negative integer',
);
const pretty = bool.optional();

export const listQuery = z.strictObject({
  labelSelector: once.max(4096).optional(),
  fieldSelector: once.max(4096).optional(),
  limit: once
    .regex(/^[0-9]{1,9}$/, 'must be a non-negative integer')
    .transform(Number)
    .optional(),
  continue: once.max(4096).optional(),
  resourceVersion: resourceVersion.optional(),
  resourceVersionMatch: z.enum(['NotOlderThan', 'Exact']).optional(),
  watch: bool.optional(),
  allowWatchBookmarks: bool.optional(),
  timeoutSeconds: once
    .regex(/^[0-9]{1,9}$/, 'must be a non-negative integer')
    .transform(Number)
    .optional(),
  sendInitialEvents: bool.optional(),
  pretty,
});
export type ListQuery = z.infer<typeof listQuery>;

export const getQuery = z.strictObject({ resourceVersion: resourceVersion.optional(), pretty });

export const writeQuery = z.strictObject({
  fieldManager: once
    .min(1)
    .max(128)
    .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces')
    .optional(),
  dryRun: z.literal('All', { error: 'must be "All"' }).optional(),
  force: bool.optional(),
  fieldValidation: z.enum(['Strict']).optional(),
  pretty,
});
export type WriteQuery = z.infer<typeof writeQuery>;

export const deleteQuery = writeQuery.omit({ fieldManager: true, force: true }).extend({
  propagationPolicy: z.enum(['Background', 'Foreground', 'Orphan']).optional(),
});

export const emptyQuery = z.strictObject({ pretty });

/** Parses a query object or throws a 400 naming each bad parameter. */
export function parseQuery<T>(schema: z.ZodType<T>, query: unknown): T {
  const result = schema.safeParse(query ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => {
    if (i.code === 'unrecognized_keys')
      return `unknown query parameter(s) ${i.keys.map((k) => `"${k}"`).join(', ')}`;
    return `query parameter "${fieldPath(i.path)}": ${i.message}`;
  });
  throw new ApiError('BadRequest', problems.join('; '), {
    causes: result.error.issues.map((i) => ({
      field: i.code === 'unrecognized_keys' ? i.keys.join(',') : fieldPath(i.path),
      message: i.code === 'unrecognized_keys' ? 'unknown query parameter' : i.message,
      reason: 'FieldValueInvalid',
    })),
  });
}

/**
 * fieldSelector: berth supports `metadata.name` and `metadata.namespace` with
 * `=`, `==` or `!=`, comma-separated (what clients use to watch one object).
 */
export function parseFieldSelector(
  text: string | undefined,
): ((obj: { metadata?: { name?: string; namespace?: string } }) => boolean) | undefined {
  if (!text?.trim()) return undefined;
  const tests: ((obj: { metadata?: { name?: string; namespace?: string } }) => boolean)[] = [];
  for (const part of text.split(',')) {
    const m = /^\s*(metadata\.name|metadata\.namespace)\s*(==|=|!=)\s*([^\s,=!]*)\s*$/.exec(part);
    if (!m) {
      throw new ApiError(
        'BadRequest',
        `invalid fieldSelector "${part.trim()}": supported are metadata.name and metadata.namespace with =, == or !=`,
      );
    }
    const [, field, op, value] = m as unknown as [string, string, string, string];
    const key = field === 'metadata.name' ? 'name' : 'namespace';
    tests.push((o) => ((o.metadata?.[key] ?? '') === value) === (op !== '!='));
  }
  return (obj) => tests.every((t) => t(obj));
}
