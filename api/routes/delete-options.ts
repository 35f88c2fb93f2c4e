// DELETE bodies: Kubernetes DeleteOptions, of which berth honours preconditions
// and dryRun; the other fields are accepted so kubectl-shaped clients work.
import { z } from 'zod';
import { ApiError, fieldPath } from '../../crds/index.ts';
import { requireObject } from '../body.ts';

const deleteOptions = z.strictObject({
  apiVersion: z.string().max(64).optional(),
  kind: z.literal('DeleteOptions').optional(),
  preconditions: z
    .strictObject({
      uid: z.string().max(64).optional(),
      resourceVersion: z
        .string()
        .regex(/^[0-9]{1,16}$/, 'must be a resourceVersion')
        .optional(),
    })
    .optional(),
  propagationPolicy: z.enum(['Background', 'Foreground', 'Orphan']).optional(),
  gracePeriodSeconds: z.number().int().min(0).optional(),
  orphanDependents: z.boolean().optional(),
  dryRun: z.array(z.literal('All')).max(1).optional(),
});

export interface ParsedDeleteOptions {
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export function deleteOptionsFromBody(value: unknown): ParsedDeleteOptions {
  const r = deleteOptions.safeParse(requireObject(value, 'DeleteOptions'));
  if (!r.success) {
    const causes = r.error.issues.flatMap((i) =>
      i.code === 'unrecognized_keys'
        ? i.keys.map((k) => ({
            field: fieldPath([...i.path, k]),
            message: 'unknown field',
            reason: 'FieldValueNotSupported',
          }))
        : [{ field: fieldPath(i.path), message: i.message, reason: 'FieldValueInvalid' }],
    );
    throw new ApiError(
      'BadRequest',
      `DeleteOptions is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`,
      {
        kind: 'DeleteOptions',
        causes,
      },
    );
  }
  return {
    ...(r.data.preconditions ? { preconditions: r.data.preconditions } : {}),
    ...(r.data.dryRun?.length ? { dryRun: true } : {}),
  };
}
