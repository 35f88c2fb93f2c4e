// Quota: how much one user may run at once, in one cluster-scoped object an admin
// applies. `appliesTo` says whose it is (everyone signed in, named users, named
// groups); the limits are the number of instances running at once and the
// largest size. A user's limit is the most generous of the Quotas that apply to
// them and set it, so a group's Quota grants more than the everyone default; a
// limit no applicable Quota sets is no limit (and with no Quota at all, nothing
// is limited). Shared apps (namespace `shared`) are admins' and never counted.
import { z } from 'zod';
import { API_VERSION, namespaceName, objectMeta } from './meta.ts';
import type { KindInfo } from './registry.ts';

const appliesTo = z
  .strictObject({
    /** Every signed-in user (and every namespace an instance is written to). */
    everyone: z.boolean().default(false).describe('Every signed-in user'),
    /** User slugs (the namespaces of their instances). */
    users: z.array(namespaceName).max(1000).default([]).describe('User slugs'),
    groups: z
      .array(z.string().min(1).max(253))
      .max(1000)
      .default([])
      .describe('Group names, as sign-in reports them'),
  })
  .refine((a) => a.everyone || a.users.length > 0 || a.groups.length > 0, {
    message: 'must name someone: everyone: true, users or groups',
  });

/**
 * The largest size, by resources rather than by name (size names belong to each
 * ToolDefinition): a size fits when its cpu AND its memory are at most these.
 */
const largestSize = z.strictObject({
  cpu: z
    .number()
    .int()
    .min(1)
    .max(1_000_000)
    .describe('Fargate CPU units (1024 = 1 vCPU); a size with more cpu does not fit'),
  memory: z
    .number()
    .int()
    .min(1)
    .max(10_000_000)
    .describe('MiB; a size with more memory does not fit'),
});
export type LargestSize = z.infer<typeof largestSize>;

const quotaSpec = z
  .strictObject({
    appliesTo: appliesTo.describe('Whose quota this is'),
    maxRunningInstances: z
      .number()
      .int()
      .min(0)
      .max(100_000)
      .optional()
      .describe('Instances one user may have running (or starting) at once; absent: no limit'),
    largestSize: largestSize
      .optional()
      .describe('The largest size one user may launch, by cpu and memory; absent: no limit'),
  })
  .refine((s) => s.maxRunningInstances !== undefined || s.largestSize !== undefined, {
    message: 'must set maxRunningInstances, largestSize or both',
  });

export const quotaSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Quota'),
  metadata: objectMeta,
  spec: quotaSpec,
});

export type Quota = z.infer<typeof quotaSchema>;
export type QuotaInput = z.input<typeof quotaSchema>;
export type QuotaSpec = z.infer<typeof quotaSpec>;

export const quotaKind: KindInfo = {
  kind: 'Quota',
  plural: 'quotas',
  singular: 'quota',
  shortNames: [],
  namespaced: false,
  statusSubresource: false,
  schema: quotaSchema,
  printerColumns: [
    { name: 'EVERYONE', type: 'boolean', jsonPath: '.spec.appliesTo.everyone' },
    { name: 'GROUPS', type: 'string', jsonPath: '.spec.appliesTo.groups[*]' },
    { name: 'MAX RUNNING', type: 'integer', jsonPath: '.spec.maxRunningInstances' },
    { name: 'LARGEST CPU', type: 'integer', jsonPath: '.spec.largestSize.cpu' },
    { name: 'LARGEST MEMORY', type: 'integer', jsonPath: '.spec.largestSize.memory' },
    { name: 'AGE', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    { name: 'USERS', type: 'string', jsonPath: '.spec.appliesTo.users[*]', priority: 1 },
  ],
};

/** Whom a quota is weighed for: the owner of the instance's namespace. */
export interface QuotaSubject {
  name: string;
  groups: readonly string[];
}

/** Whether `q` applies to `who`. */
export function quotaAppliesTo(q: Quota, who: QuotaSubject): boolean {
  const a = q.spec.appliesTo;
  return a.everyone || a.users.includes(who.name) || a.groups.some((g) => who.groups.includes(g));
}

/** What a launch asks for, as the quota check needs it. */
export interface LaunchRequest {
  /** The instance being launched (not counted among the running ones). */
  instance: string;
  /** The other instances of the user that count as running, by name. */
  running: readonly string[];
  /** The size launched, when it is known (tool and size name for the message). */
  size?: { tool: string; name: string; cpu: number; memory: number };
}

export interface QuotaRefusal {
  /** The Quota named in the message (the most generous one that refused). */
  quota: string;
  message: string;
}

/**
 * The refusal of a launch by the Quotas that apply to `who`, or undefined when it
 * fits. Running instances first (the most generous `maxRunningInstances`), then
 * the size (fits when some applicable Quota's `largestSize` holds it).
 */
export function quotaRefusal(
  quotas: readonly Quota[],
  who: QuotaSubject,
  req: LaunchRequest,
): QuotaRefusal | undefined {
  const mine = quotas
    .filter((q) => quotaAppliesTo(q, who))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const counting = mine.filter((q) => q.spec.maxRunningInstances !== undefined);
  if (counting.length > 0) {
    const best = counting.reduce((a, b) =>
      b.spec.maxRunningInstances! > a.spec.maxRunningInstances! ? b : a,
    );
    const max = best.spec.maxRunningInstances!;
    const others = req.running.filter((n) => n !== req.instance);
    if (others.length >= max) {
      const have = others.length ? `${others.length}: ${listed(others)}` : '0';
      return {
        quota: best.metadata.name,
        message: `quota "${best.metadata.name}": at most ${max} running ${max === 1 ? 'instance' : 'instances'} per user (you have ${have})`,
      };
    }
  }
  const sizing = mine.filter((q) => q.spec.largestSize !== undefined);
  if (req.size && sizing.length > 0) {
    const { cpu, memory } = req.size;
    const fits = sizing.some(
      (q) => cpu <= q.spec.largestSize!.cpu && memory <= q.spec.largestSize!.memory,
    );
    if (!fits) {
      const best = sizing.reduce((a, b) =>
        sizeOrder(b.spec.largestSize!, a.spec.largestSize!) > 0 ? b : a,
      );
      return {
        quota: best.metadata.name,
        message: `quota "${best.metadata.name}": sizes up to ${describeSize(best.spec.largestSize!)} per instance (size "${req.size.name}" of tool "${req.size.tool}" is ${describeSize(req.size)})`,
      };
    }
  }
  return undefined;
}

function sizeOrder(a: LargestSize, b: LargestSize): number {
  return a.cpu - b.cpu || a.memory - b.memory;
}

/** `1 vCPU and 8 GiB memory` (`0.25 vCPU and 512 MiB memory`). */
export function describeSize(s: { cpu: number; memory: number }): string {
  const vcpu = Number((s.cpu / 1024).toFixed(2));
  const memory = s.memory % 1024 === 0 ? `${s.memory / 1024} GiB` : `${s.memory} MiB`;
  return `${vcpu} vCPU and ${memory} memory`;
}

function listed(names: readonly string[], max = 10): string {
  const sorted = [...names].sort();
  const shown = sorted.slice(0, max).join(', ');
  return sorted.length > max ? `${shown} and ${sorted.length - max} more` : shown;
}
