// The opaque `continue` token of a paginated list: base64url JSON of the list's
// resourceVersion and the last key returned. Later pages read the current rows
// after that key (keyset order), so a page never repeats or skips a key that
// existed throughout the walk.
import { z } from 'zod';
import { ApiError } from '../crds/index.ts';

const tokenSchema = z.strictObject({
  v: z.literal(1),
  rv: z.number().int().nonnegative(),
  ns: z.string(),
  name: z.string().min(1),
});
export type ContinueToken = z.infer<typeof tokenSchema>;

export function encodeContinue(t: Omit<ContinueToken, 'v'>): string {
  return Buffer.from(JSON.stringify({ v: 1, ...t })).toString('base64url');
}

export function decodeContinue(token: string): ContinueToken {
  const bad = (why: string) =>
    new ApiError(
      'BadRequest',
      `invalid continue token: ${why}; start the list again without "continue"`,
      {
        causes: [{ field: 'continue', message: why, reason: 'FieldValueInvalid' }],
      },
    );
  if (token.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(token))
    throw bad('not a token this server issued');
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw bad('not a token this server issued');
  }
  const parsed = tokenSchema.safeParse(raw);
  if (!parsed.success) throw bad('not a token this server issued');
  return parsed.data;
}
