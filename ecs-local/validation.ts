// Request bodies are validated with zod; a bad one is answered as ECS answers
// it, with an InvalidParameterException naming the field.
import type { z } from 'zod';
import { invalidParameter } from './protocol.ts';

export function parseInput<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.join('.') || 'request';
  throw invalidParameter(`${field}: ${issue.message}`);
}
