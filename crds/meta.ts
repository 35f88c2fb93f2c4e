// The parts every kind shares: ObjectMeta, conditions, owner references, and the
// naming rules Kubernetes uses (DNS-1123 names, qualified label keys).
import { z } from 'zod';

export const GROUP = 'berth';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}` as const;

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Object names: DNS-1123 subdomain, at most 253 characters. */
export const objectName = z
  .string()
  .min(1, 'must not be empty')
  .max(253, 'must be at most 253 characters')
  .regex(
    DNS1123_SUBDOMAIN,
    'must be lowercase letters, digits, "-" and ".", starting and ending with a letter or digit',
  );

/** Namespaces (user slugs): DNS-1123 label, at most 63 characters. */
export const namespaceName = z
  .string()
  .min(1, 'must not be empty')
  .max(63, 'must be at most 63 characters')
  .regex(
    DNS1123_LABEL,
    'must be lowercase letters, digits and "-", starting and ending with a letter or digit',
  );

export function isValidLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (
    prefix !== undefined &&
    (prefix.length === 0 || prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))
  )
    return false;
  return name.length > 0 && name.length <= 63 && LABEL_NAME.test(name);
}

export function isValidLabelValue(value: string): boolean {
  return value.length <= 63 && LABEL_VALUE.test(value);
}

const labelKey = z.string().refine(isValidLabelKey, {
  message:
    'must be a qualified name: an optional DNS prefix and "/", then at most 63 letters, digits, "-", "_" or "."',
});
const labelValue = z.string().refine(isValidLabelValue, {
  message:
    'must be at most 63 letters, digits, "-", "_" or ".", starting and ending with a letter or digit',
});

export const labels = z.record(labelKey, labelValue);
export const annotations = z
  .record(labelKey, z.string())
  .refine((a) => JSON.stringify(a).length <= 256 * 1024, {
    message: 'annotations must total at most 256 KiB',
  });

const ownerReference = z.strictObject({
  apiVersion: z.string(),
  kind: z.string(),
  name: objectName,
  uid: z.string().uuid(),
  controller: z.boolean().optional(),
  blockOwnerDeletion: z.boolean().optional(),
});
export type OwnerReference = z.infer<typeof ownerReference>;

const timestamp = z.iso.datetime({ offset: true });

/**
 * Metadata as clients send it. Server-owned fields (uid, resourceVersion,
 * generation, creationTimestamp, deletionTimestamp) are accepted so that a read
 * object can be written back, but the store decides their values.
 */
export const objectMeta = z.strictObject({
  name: objectName,
  namespace: namespaceName.optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().int().optional(),
  creationTimestamp: timestamp.optional(),
  deletionTimestamp: timestamp.optional(),
  labels: labels.optional(),
  annotations: annotations.optional(),
  ownerReferences: z.array(ownerReference).max(20).optional(),
  finalizers: z.array(labelKey).max(20).optional(),
});
export type ObjectMeta = z.infer<typeof objectMeta>;

const conditionStatus = z.enum(['True', 'False', 'Unknown']);

export const condition = z.strictObject({
  type: z.string().regex(/^[A-Z][A-Za-z0-9]*$/, 'must be CamelCase'),
  status: conditionStatus,
  reason: z
    .string()
    .regex(/^[A-Z][A-Za-z0-9]*$/, 'must be CamelCase')
    .optional(),
  message: z
    .string()
    .max(32 * 1024)
    .optional(),
  lastTransitionTime: timestamp.optional(),
  observedGeneration: z.number().int().optional(),
});
export type Condition = z.infer<typeof condition>;

/** The shape the store handles: any kind, validated by its KindInfo schema. */
export interface BerthObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: unknown;
  status?: unknown;
  [field: string]: unknown;
}

/** Sets or replaces one condition, keeping lastTransitionTime when the status did not change. */
export function setCondition(
  conditions: Condition[] | undefined,
  next: Condition,
  now = new Date(),
): Condition[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c.type === next.type);
  const prev = i >= 0 ? list[i] : undefined;
  const merged: Condition = {
    ...next,
    lastTransitionTime:
      prev && prev.status === next.status && prev.lastTransitionTime
        ? prev.lastTransitionTime
        : now.toISOString(),
  };
  if (i >= 0) list[i] = merged;
  else list.push(merged);
  return list;
}

export function getCondition(
  conditions: Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}
