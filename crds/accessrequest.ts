// AccessRequest: a user asks for a Dataset (namespaced: in the requester's own
// namespace). Approvers of that Dataset (or admins) decide it through the
// approval subresource; an Approved request grants access until it is denied
// (revoked) or deleted. Its spec is fixed once written: asking again after a
// denial is a new request.
import { z } from 'zod';
import { API_VERSION, namespaceName, objectMeta, objectName } from './meta.ts';
import type { KindInfo } from './registry.ts';

const accessRequestSpec = z.strictObject({
  dataset: objectName.describe('The Dataset asked for (metadata.name)'),
  reason: z.string().trim().min(1, 'must say why').max(2000).describe('Why the requester needs it'),
});

export const ACCESS_DECISIONS = ['Approved', 'Denied'] as const;
export type AccessDecision = (typeof ACCESS_DECISIONS)[number];

const accessRequestStatus = z.strictObject({
  /** Pending until decided; a later decision replaces an earlier one (Denied after Approved revokes). */
  phase: z.enum(['Pending', 'Approved', 'Denied']).default('Pending'),
  decidedBy: namespaceName.optional(),
  decidedAt: z.iso.datetime({ offset: true }).optional(),
  comment: z.string().max(2000).optional(),
});

/** The body of POST …/accessrequests/<name>/approval. */
export const approvalBody = z.strictObject({
  decision: z.enum(ACCESS_DECISIONS),
  comment: z.string().max(2000).optional(),
});
export type ApprovalBody = z.infer<typeof approvalBody>;

export const accessRequestSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('AccessRequest'),
  metadata: objectMeta,
  spec: accessRequestSpec,
  status: accessRequestStatus.optional(),
});

export type AccessRequest = z.infer<typeof accessRequestSchema>;
export type AccessRequestInput = z.input<typeof accessRequestSchema>;
export type AccessRequestStatus = z.infer<typeof accessRequestStatus>;

/** The label the API sets on every AccessRequest, so a Dataset's requests are one label selector away. */
export const DATASET_LABEL = 'berth.io/dataset';

export const accessRequestKind: KindInfo = {
  kind: 'AccessRequest',
  plural: 'accessrequests',
  singular: 'accessrequest',
  shortNames: ['ar'],
  namespaced: true,
  statusSubresource: true,
  schema: accessRequestSchema,
  printerColumns: [
    { name: 'DATASET', type: 'string', jsonPath: '.spec.dataset' },
    { name: 'PHASE', type: 'string', jsonPath: '.status.phase' },
    { name: 'DECIDED BY', type: 'string', jsonPath: '.status.decidedBy' },
    { name: 'AGE', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    { name: 'REASON', type: 'string', jsonPath: '.spec.reason', priority: 1 },
  ],
};
