// Small kinds for the store's tests, independent of the real ones in crds/.
import { z } from 'zod';
import { API_VERSION, type KindInfo, objectMeta } from '../../crds/index.ts';
import { ResourceStore, type ResourceStoreOptions } from '../../store/index.ts';
import type { TestDatabase } from '../support/db.ts';

const widgetSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Widget'),
  metadata: objectMeta,
  spec: z
    .strictObject({
      size: z.number().int().min(0).default(1),
      color: z.string().optional(),
      tags: z.array(z.string()).optional(),
      extra: z.record(z.string(), z.string()).optional(),
    })
    .default({ size: 1 }),
  status: z
    .strictObject({
      phase: z.string().optional(),
      ready: z.boolean().optional(),
      observedGeneration: z.number().int().optional(),
    })
    .optional(),
});

const gadgetSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Gadget'),
  metadata: objectMeta,
  spec: z.strictObject({ model: z.string() }),
  status: z.strictObject({ note: z.string().optional() }).optional(),
});

const eventSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Event'),
  metadata: objectMeta,
  involvedObject: z.strictObject({
    apiVersion: z.string().optional(),
    kind: z.string(),
    name: z.string(),
    namespace: z.string().optional(),
    uid: z.string().optional(),
  }),
  type: z.enum(['Normal', 'Warning']),
  reason: z.string(),
  message: z.string(),
  count: z.number().int(),
  firstTimestamp: z.string(),
  lastTimestamp: z.string(),
  source: z.strictObject({ component: z.string() }).optional(),
});

export const WIDGET: KindInfo = {
  kind: 'Widget',
  plural: 'widgets',
  singular: 'widget',
  shortNames: ['wd'],
  namespaced: true,
  statusSubresource: true,
  schema: widgetSchema,
  printerColumns: [],
};

export const GADGET: KindInfo = {
  kind: 'Gadget',
  plural: 'gadgets',
  singular: 'gadget',
  shortNames: [],
  namespaced: false,
  statusSubresource: false,
  schema: gadgetSchema,
  printerColumns: [],
};

export const EVENT: KindInfo = {
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  shortNames: ['ev'],
  namespaced: true,
  statusSubresource: false,
  schema: eventSchema,
  printerColumns: [],
};

export function testStore(
  db: TestDatabase,
  opts: Partial<ResourceStoreOptions> = {},
): ResourceStore {
  return new ResourceStore(db.pool, { kinds: [WIDGET, GADGET, EVENT], ...opts });
}

export function widget(
  name: string,
  namespace = 'ns1',
  spec: Record<string, unknown> = {},
  labels?: Record<string, string>,
) {
  return {
    apiVersion: API_VERSION,
    kind: 'Widget',
    metadata: { name, namespace, ...(labels ? { labels } : {}) },
    spec: { size: 1, ...spec },
  };
}

/** Counts rows for assertions about what was (not) written. */
export async function counts(
  db: TestDatabase,
): Promise<{ rv: number; resources: number; log: number }> {
  const { rows } = await db.pool.query<{ rv: number; resources: number; log: number }>(
    'select (select rv from rv_counter) as rv, (select count(*) from resources) as resources, (select count(*) from resource_log) as log',
  );
  return rows[0]!;
}
