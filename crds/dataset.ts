// Dataset: tables in one or more Databases, who may use them and who approves
// requests for them (cluster-scoped). Access is either everyone signed in (Data
// Workspace's "open" and "requires authentication") or named users, groups and
// shared apps ("requires authorization"), plus anyone whose AccessRequest for it
// is Approved. The credentials controller turns this into PostgreSQL grants.
import { z } from 'zod';
import { databaseName } from './database.ts';
import { API_VERSION, condition, namespaceName, objectMeta } from './meta.ts';
import type { KindInfo } from './registry.ts';

/** A PostgreSQL identifier as written in the catalog (any case, no NUL), at most 63 bytes. */
const pgIdentifier = z
  .string()
  .min(1, 'must not be empty')
  .max(63, 'must be at most 63 characters')
  .regex(/^[^\0]+$/, 'must not contain NUL');

export const datasetTable = z.strictObject({
  database: databaseName.describe('The Database object (metadata.name) the table is in'),
  schema: pgIdentifier.describe('Schema name, exactly as in the catalog'),
  table: pgIdentifier.describe('Table or view name, exactly as in the catalog'),
});
export type DatasetTable = z.infer<typeof datasetTable>;

const groupName = z.string().min(1).max(253);

const datasetAccess = z
  .strictObject({
    type: z
      .enum(['everyone', 'named'])
      .default('named')
      .describe(
        'everyone: every signed-in user; named: the users, groups and apps listed (and approved requests)',
      ),
    users: z.array(namespaceName).max(10_000).default([]).describe('User slugs'),
    groups: z
      .array(groupName)
      .max(1000)
      .default([])
      .describe('Group names, as sign-in reports them'),
    apps: z
      .array(z.string().min(1).max(63))
      .max(1000)
      .default([])
      .describe('Shared apps (ToolDefinition names, sharing: shared) whose own login may read it'),
  })
  .refine((a) => a.type === 'named' || (a.users.length === 0 && a.groups.length === 0), {
    message: 'type everyone already includes every user: leave users and groups empty',
  });

const approvers = z.strictObject({
  users: z.array(namespaceName).max(1000).default([]),
  groups: z.array(groupName).max(1000).default([]),
});

const datasetSpec = z
  .strictObject({
    title: z.string().min(1).max(200),
    description: z.string().max(10_000).default(''),
    tables: z.array(datasetTable).min(1).max(1000),
    access: datasetAccess.default({ type: 'named', users: [], groups: [], apps: [] }),
    approvers: approvers
      .default({ users: [], groups: [] })
      .describe('Who decides AccessRequests for it (admins always may)'),
  })
  .superRefine((s, ctx) => {
    const seen = new Set<string>();
    s.tables.forEach((t, i) => {
      const k = `${t.database}\0${t.schema}\0${t.table}`;
      if (seen.has(k))
        ctx.addIssue({
          code: 'custom',
          path: ['tables', i],
          message: `duplicate table ${t.database}: ${t.schema}.${t.table}`,
        });
      seen.add(k);
    });
  });

const datasetStatus = z.strictObject({
  observedGeneration: z.number().int().optional(),
  /** `TablesExist` (False names the missing tables), `GrantsInPlace`, `Ready`. */
  conditions: z.array(condition).default([]),
  /** Who currently has access (shown to admins and approvers only). */
  access: z
    .strictObject({
      everyone: z.boolean().default(false),
      users: z.array(z.string()).default([]),
      apps: z.array(z.string()).default([]),
    })
    .optional(),
});

export const datasetSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Dataset'),
  metadata: objectMeta,
  spec: datasetSpec,
  status: datasetStatus.optional(),
});

export type Dataset = z.infer<typeof datasetSchema>;
export type DatasetInput = z.input<typeof datasetSchema>;
export type DatasetSpec = z.infer<typeof datasetSpec>;
export type DatasetStatus = z.infer<typeof datasetStatus>;

export const datasetKind: KindInfo = {
  kind: 'Dataset',
  plural: 'datasets',
  singular: 'dataset',
  shortNames: ['ds'],
  namespaced: false,
  statusSubresource: true,
  schema: datasetSchema,
  printerColumns: [
    { name: 'TITLE', type: 'string', jsonPath: '.spec.title' },
    { name: 'ACCESS', type: 'string', jsonPath: '.spec.access.type' },
    { name: 'READY', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    { name: 'AGE', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    {
      name: 'REASON',
      type: 'string',
      jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
      priority: 1,
    },
  ],
};
