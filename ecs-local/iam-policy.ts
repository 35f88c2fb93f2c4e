// IAM identity-policy documents: the shape IAM accepts for an inline role policy
// (PutRolePolicy), validated as IAM does before it stores one, so a malformed
// policy is refused (MalformedPolicyDocument) rather than evaluated.
import { z } from 'zod';

/** IAM's limit on an inline role policy, in characters (whitespace included). */
export const MAX_INLINE_POLICY_CHARS = 10_240;

const stringOrList = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);
const actionPattern = z
  .string()
  .regex(/^(\*|[a-zA-Z0-9-]+:[a-zA-Z0-9*?]+)$/, 'an action such as s3:GetObject, or *');
const actions = z.union([actionPattern, z.array(actionPattern).min(1)]);
const conditionValue = z.union([z.string(), z.boolean(), z.number()]);

const statementSchema = z
  .strictObject({
    Sid: z
      .string()
      .regex(/^[A-Za-z0-9]*$/, 'letters and digits only')
      .optional(),
    Effect: z.enum(['Allow', 'Deny']),
    Action: actions.optional(),
    NotAction: actions.optional(),
    Resource: stringOrList.optional(),
    NotResource: stringOrList.optional(),
    Condition: z
      .record(
        z.string().min(1),
        z.record(z.string().min(1), z.union([conditionValue, z.array(conditionValue).min(1)])),
      )
      .optional(),
  })
  .superRefine((s, ctx) => {
    if ((s.Action === undefined) === (s.NotAction === undefined)) {
      ctx.addIssue({ code: 'custom', message: 'exactly one of Action and NotAction is required' });
    }
    if ((s.Resource === undefined) === (s.NotResource === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'exactly one of Resource and NotResource is required',
      });
    }
  });

export const policyDocumentSchema = z.strictObject({
  Version: z.enum(['2012-10-17', '2008-10-17']).optional(),
  Id: z.string().optional(),
  Statement: z.union([statementSchema, z.array(statementSchema).min(1)]),
});

export type PolicyDocument = z.infer<typeof policyDocumentSchema>;
export type PolicyStatement = z.infer<typeof statementSchema>;

/** The document's statements as a list. */
export function statements(doc: PolicyDocument): PolicyStatement[] {
  return Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
}

/** Parses a policy document's JSON text; a message in IAM's words when it is malformed. */
export function parsePolicyDocument(
  text: string,
): { ok: true; doc: PolicyDocument } | { ok: false; message: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, message: 'Syntax errors in policy.' };
  }
  if (raw && typeof raw === 'object' && 'Statement' in raw) {
    const list = (raw as { Statement: unknown }).Statement;
    const items = Array.isArray(list) ? list : [list];
    if (items.some((s) => s && typeof s === 'object' && ('Principal' in s || 'NotPrincipal' in s)))
      return { ok: false, message: 'Policy document should not specify a principal.' };
  }
  const r = policyDocumentSchema.safeParse(raw);
  if (r.success) return { ok: true, doc: r.data };
  const issue = r.error.issues[0]!;
  const where = issue.path.join('.') || 'policy';
  return { ok: false, message: `${where}: ${issue.message}` };
}
