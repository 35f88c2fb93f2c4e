// ECS tag rules: at most 50 per resource, key 1-128 characters, value at most
// 256, and the `aws:` prefix reserved.
import { z } from 'zod';
import { invalidParameter } from './protocol.ts';

export const tagSchema = z.object({ key: z.string(), value: z.string().default('') });
export type Tag = { key: string; value: string };

const MAX_TAGS = 50;

export function validateTags(tags: Tag[]): void {
  if (tags.length > MAX_TAGS) {
    throw invalidParameter(`Tags cannot contain more than ${MAX_TAGS} tags.`);
  }
  for (const t of tags) {
    if (t.key.length < 1 || t.key.length > 128) {
      throw invalidParameter('Tag keys must be between 1 and 128 characters in length.');
    }
    if (t.value.length > 256) {
      throw invalidParameter('Tag values must be at most 256 characters in length.');
    }
    if (t.key.toLowerCase().startsWith('aws:')) {
      throw invalidParameter('Tag keys cannot start with the reserved prefix "aws:".');
    }
  }
}

/** Applies tags over existing ones (same key replaces), enforcing the 50-tag limit. */
export function mergeTags(existing: Tag[], added: Tag[]): Tag[] {
  const byKey = new Map(existing.map((t) => [t.key, t.value]));
  for (const t of added) byKey.set(t.key, t.value);
  const merged = [...byKey].map(([key, value]) => ({ key, value }));
  validateTags(merged);
  return merged;
}
