// Every kind berth serves, and the lookups the API and CLI need: by exact Kind
// name, by any alias a person types (`td`, `tooldefinitions`, `ToolDefinition`),
// and the nearest alias for a "did you mean" hint.
import { accessRequestKind } from './accessrequest.ts';
import { databaseKind } from './database.ts';
import { datasetKind } from './dataset.ts';
import { eventKind } from './event.ts';
import { quotaKind } from './quota.ts';
import type { KindInfo } from './registry.ts';
import { toolDefinitionKind } from './tooldefinition.ts';
import { toolInstanceKind } from './toolinstance.ts';

export const KINDS: readonly KindInfo[] = [
  toolDefinitionKind,
  toolInstanceKind,
  eventKind,
  quotaKind,
  databaseKind,
  datasetKind,
  accessRequestKind,
];

function aliasesOf(k: KindInfo): string[] {
  return [k.kind.toLowerCase(), k.plural, k.singular, ...k.shortNames].map((a) => a.toLowerCase());
}

const BY_ALIAS = new Map<string, KindInfo>();
for (const k of KINDS) for (const a of aliasesOf(k)) BY_ALIAS.set(a, k);

/** Every lowercase name `resolveKind` accepts, sorted. */
export const ALL_KIND_NAMES: readonly string[] = [...BY_ALIAS.keys()].sort();

/** The KindInfo for an exact Kind name (`ToolInstance`); throws for anything else. */
export function kindInfo(kind: string): KindInfo {
  const found = KINDS.find((k) => k.kind === kind);
  if (!found)
    throw new Error(`unknown kind "${kind}"; known kinds: ${KINDS.map((k) => k.kind).join(', ')}`);
  return found;
}

/** The kind a person meant, case-insensitively, by Kind, plural, singular or short name. */
export function resolveKind(input: string): KindInfo | undefined {
  return BY_ALIAS.get(input.trim().toLowerCase());
}

/** The nearest known name (plural preferred on ties), when it is close enough to be a typo. */
export function suggestKind(input: string): string | undefined {
  const wanted = input.trim().toLowerCase();
  if (!wanted) return undefined;
  let best: { name: string; distance: number } | undefined;
  for (const k of KINDS) {
    // Plural first so it wins ties: it is what `berth get` shows.
    for (const name of [k.plural, k.singular, k.kind.toLowerCase(), ...k.shortNames]) {
      const distance = editDistance(wanted, name);
      if (!best || distance < best.distance) best = { name, distance };
    }
  }
  if (!best) return undefined;
  // Allow about one typo per three characters, at least one.
  const limit = Math.max(1, Math.floor(wanted.length / 3));
  return best.distance <= limit ? best.name : undefined;
}

/** Levenshtein distance with adjacent transpositions counted as one edit. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
