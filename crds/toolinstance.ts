// ToolInstance: one user's (or, for shared tools, everyone's) running copy of a
// ToolDefinition. It lives in the owning user's namespace. spec says what the
// user wants (Running or Stopped, which size); status says what the controller
// observed on ECS.
import { z } from 'zod';
import { API_VERSION, condition, objectMeta, objectName } from './meta.ts';
import type { KindInfo } from './registry.ts';
import { sizeName } from './tooldefinition.ts';

const timestamp = z.iso.datetime({ offset: true });

const TOOL_INSTANCE_PHASES = [
  'Pending',
  'Starting',
  'Ready',
  'Stopping',
  'Stopped',
  'Failed',
] as const;
export type ToolInstancePhase = (typeof TOOL_INSTANCE_PHASES)[number];

const toolInstanceSpec = z.strictObject({
  /** metadata.name of the ToolDefinition to run. */
  toolRef: objectName,
  /** A key of the ToolDefinition's spec.sizes; absent means its defaultSize. */
  size: sizeName.optional(),
  state: z.enum(['Running', 'Stopped']).default('Running'),
  /**
   * When a person last asked for the tool to start (a visit, Launch, `berth
   * launch`). A new value changes the generation, which asks for a new attempt
   * when the instance is Stopped or Failed: the one write that relaunches it.
   */
  launchRequestedAt: timestamp.optional(),
});

const toolInstanceStatus = z.strictObject({
  phase: z.enum(TOOL_INSTANCE_PHASES).optional(),
  conditions: z.array(condition).default([]),
  observedGeneration: z.number().int().optional(),
  /** The ECS task currently (or last) running this instance. */
  taskArn: z.string().max(2048).optional(),
  /** Where the proxy sends traffic, e.g. `http://10.0.3.7:8888`. */
  endpoint: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  startedAt: timestamp.optional(),
  readyAt: timestamp.optional(),
  /** Last user traffic through the proxy (or "keep it running"), written in batches. */
  lastActivityAt: timestamp.optional(),
  /**
   * Since when the instance has been idle (no user traffic and CPU under the
   * tool's cpuThreshold), as the culler last saw it; absent while in use.
   */
  idleSince: timestamp.optional(),
  /** Set by the culler ahead of a stop it has scheduled; cleared when the stop is off. */
  stopWarning: z
    .strictObject({
      reason: z.enum(['Idle', 'MaxLifetime']),
      /** When the culler will stop the instance unless it is used (Idle) first. */
      stopAt: timestamp,
      warnedAt: timestamp,
      message: z.string().max(1024),
    })
    .optional(),
  /** Why the instance stopped, CamelCase: `Idle`, `MaxLifetime`, `UserRequested`, `TaskStopped`. */
  stopReason: z.string().max(1024).optional(),
  message: z
    .string()
    .max(32 * 1024)
    .optional(),
  /** Launch attempt, part of the RunTask clientToken so a retried launch is not a second task. */
  attempt: z.number().int().min(0).optional(),
});

export const toolInstanceSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('ToolInstance'),
  metadata: objectMeta,
  spec: toolInstanceSpec,
  status: toolInstanceStatus.optional(),
});

export type ToolInstance = z.infer<typeof toolInstanceSchema>;
export type ToolInstanceInput = z.input<typeof toolInstanceSchema>;
export type ToolInstanceSpec = z.infer<typeof toolInstanceSpec>;
export type ToolInstanceStatus = z.infer<typeof toolInstanceStatus>;
export type ToolInstanceStatusInput = z.input<typeof toolInstanceStatus>;

export const toolInstanceKind: KindInfo = {
  kind: 'ToolInstance',
  plural: 'toolinstances',
  singular: 'toolinstance',
  shortNames: ['ti'],
  namespaced: true,
  statusSubresource: true,
  schema: toolInstanceSchema,
  printerColumns: [
    { name: 'TOOL', type: 'string', jsonPath: '.spec.toolRef' },
    { name: 'SIZE', type: 'string', jsonPath: '.spec.size' },
    { name: 'STATE', type: 'string', jsonPath: '.spec.state' },
    { name: 'PHASE', type: 'string', jsonPath: '.status.phase' },
    { name: 'READY', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    { name: 'AGE', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    { name: 'ENDPOINT', type: 'string', jsonPath: '.status.endpoint', priority: 1 },
    { name: 'LAST ACTIVITY', type: 'date', jsonPath: '.status.lastActivityAt', priority: 1 },
    { name: 'IDLE', type: 'date', jsonPath: '.status.idleSince', priority: 1 },
    { name: 'STOPS', type: 'date', jsonPath: '.status.stopWarning.stopAt', priority: 1 },
  ],
};
