// Event: something that happened to an object (TaskLaunched, ProbeFailed, ...),
// shaped like Kubernetes core/v1 Event, with its fields at the top level and no
// spec or status. The store aggregates repeats into one Event (count,
// firstTimestamp, lastTimestamp) so a crash loop writes one row, not thousands.
import { z } from 'zod';
import { API_VERSION, namespaceName, objectMeta, objectName } from './meta.ts';
import type { KindInfo } from './registry.ts';

const timestamp = z.iso.datetime({ offset: true });

export const involvedObject = z.strictObject({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  name: objectName,
  namespace: namespaceName.optional(),
  uid: z.string().optional(),
});
export type InvolvedObject = z.infer<typeof involvedObject>;

const EVENT_MESSAGE_MAX = 4096;

export const eventSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Event'),
  metadata: objectMeta,
  involvedObject,
  reason: z
    .string()
    .max(128)
    .regex(/^[A-Z][A-Za-z0-9]*$/, 'must be CamelCase, e.g. "TaskLaunched"'),
  message: z
    .string()
    .max(EVENT_MESSAGE_MAX, `must be at most ${EVENT_MESSAGE_MAX} characters`)
    .default(''),
  type: z.enum(['Normal', 'Warning']).default('Normal'),
  count: z.number().int().min(1).default(1),
  firstTimestamp: timestamp.optional(),
  lastTimestamp: timestamp.optional(),
  source: z.strictObject({ component: z.string().min(1).max(253) }).optional(),
});

export type Event = z.infer<typeof eventSchema>;
export type EventInput = z.input<typeof eventSchema>;

export const eventKind: KindInfo = {
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  shortNames: ['ev'],
  namespaced: true,
  statusSubresource: false,
  schema: eventSchema,
  printerColumns: [
    { name: 'LAST SEEN', type: 'date', jsonPath: '.lastTimestamp' },
    { name: 'TYPE', type: 'string', jsonPath: '.type' },
    { name: 'REASON', type: 'string', jsonPath: '.reason' },
    { name: 'OBJECT', type: 'string', jsonPath: '.involvedObject.name' },
    { name: 'MESSAGE', type: 'string', jsonPath: '.message' },
    { name: 'COUNT', type: 'integer', jsonPath: '.count', priority: 1 },
  ],
};
