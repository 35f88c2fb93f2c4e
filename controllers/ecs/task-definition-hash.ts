// The content hash that decides whether a task definition must be registered
// again: sha256 over the canonical JSON of the RegisterTaskDefinition input
// (without the hash tag itself). Stored on the revision as a tag, so any
// replica can tell, from ECS alone, whether the latest revision is current.
import { createHash } from 'node:crypto';
import type { RegisterTaskDefinitionCommandInput, Tag } from '@aws-sdk/client-ecs';
import { canonicalJson } from './canonical-json.ts';

export const CONTENT_HASH_TAG = 'berth:content-hash';

export function taskDefinitionHash(input: RegisterTaskDefinitionCommandInput): string {
  // Tags are a set: their order must not change the hash.
  const tags = (input.tags ?? [])
    .filter((t: Tag) => t.key !== CONTENT_HASH_TAG)
    .sort((a, b) => (a.key ?? '').localeCompare(b.key ?? ''));
  return createHash('sha256')
    .update(canonicalJson({ ...input, tags }))
    .digest('hex');
}
