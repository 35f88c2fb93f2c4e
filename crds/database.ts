// Database: a PostgreSQL database that holds datasets (cluster-scoped). It says
// how to connect and where its admin credentials live (an environment variable of
// the controllers, or an AWS Secrets Manager secret), never the password itself.
// Both hold the same JSON, the shape of an RDS secret: {"username": …, "password": …}.
// `dsnName` names the variable each tool gets: DATABASE_DSN__<dsnName>.
import { z } from 'zod';
import { duration } from './duration.ts';
import { API_VERSION, condition, objectMeta } from './meta.ts';
import type { KindInfo } from './registry.ts';

const envName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]{0,127}$/, 'must be an environment variable name (A-Z, 0-9, _)');

const secretsManagerArn = z
  .string()
  .regex(
    /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/,
    'must be an AWS Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>)',
  );

const adminCredentials = z
  .strictObject({
    fromEnv: envName
      .optional()
      .describe(
        'An environment variable of the controllers holding {"username","password"} as JSON',
      ),
    secretsManagerArn: secretsManagerArn
      .optional()
      .describe('An AWS Secrets Manager secret holding {"username","password"} as JSON'),
  })
  .refine((c) => (c.fromEnv === undefined) !== (c.secretsManagerArn === undefined), {
    message: 'must set exactly one of fromEnv and secretsManagerArn',
  });

/** What every per-launch login of this database gets. */
const logins = z.strictObject({
  connectionLimit: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(10)
    .describe('Connections one launch may hold at once'),
  statementTimeout: duration.default('60m').describe('PostgreSQL statement_timeout of a login'),
  idleInTransactionTimeout: duration
    .default('60m')
    .describe('PostgreSQL idle_in_transaction_session_timeout of a login'),
  validFor: duration
    .optional()
    .describe("A login's VALID UNTIL, from its creation; absent: the tool's maxLifetime, else 31d"),
});

/** A PostgreSQL identifier berth does not need to quote, and a libpq-friendly variable suffix. */
export const dsnName = z
  .string()
  .regex(
    /^[a-z][a-z0-9_]{0,62}$/,
    'must be 1 to 63 lowercase letters, digits and "_", starting with a letter',
  );

const databaseSpec = z.strictObject({
  host: z.string().min(1).max(253).describe('Host name or address the tools and berth connect to'),
  port: z.number().int().min(1).max(65535).default(5432),
  dbname: z.string().min(1).max(63).describe('The PostgreSQL database name'),
  sslmode: z
    .enum(['disable', 'prefer', 'require', 'verify-ca', 'verify-full'])
    .default('verify-full')
    .describe('libpq sslmode the tools are told to use (and berth uses)'),
  dsnName: dsnName
    .optional()
    .describe('Suffix of DATABASE_DSN__<dsnName> in a tool; absent: the name with "-" as "_"'),
  adminCredentials: adminCredentials.describe(
    'Where the admin login lives (CREATEROLE, grant option on the tables); never the password itself',
  ),
  logins: logins.default({
    connectionLimit: 10,
    statementTimeout: '60m',
    idleInTransactionTimeout: '60m',
  }),
});

const databaseStatus = z.strictObject({
  observedGeneration: z.number().int().optional(),
  /** `Connected` (True, or False with AdminCredentialsMissing / AuthenticationFailed / Unreachable / …). */
  conditions: z.array(condition).default([]),
  /** PostgreSQL's server_version, as last seen. */
  serverVersion: z.string().max(256).optional(),
});

/** Database names end up in DATABASE_DSN__<name> and role comments: a DNS label starting with a letter. */
export const databaseName = z
  .string()
  .regex(
    /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/,
    'must be 1 to 63 lowercase letters, digits and "-", starting with a letter and ending with a letter or digit',
  );

export const databaseSchema = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal('Database'),
  metadata: objectMeta.extend({ name: databaseName }),
  spec: databaseSpec,
  status: databaseStatus.optional(),
});

export type Database = z.infer<typeof databaseSchema>;
export type DatabaseInput = z.input<typeof databaseSchema>;
export type DatabaseSpec = z.infer<typeof databaseSpec>;
export type DatabaseStatus = z.infer<typeof databaseStatus>;

/** The suffix of DATABASE_DSN__<…> for a database. */
export function databaseDsnName(db: Pick<Database, 'metadata' | 'spec'>): string {
  return db.spec.dsnName ?? db.metadata.name.replaceAll('-', '_');
}

export const databaseKind: KindInfo = {
  kind: 'Database',
  plural: 'databases',
  singular: 'database',
  shortNames: ['db'],
  namespaced: false,
  statusSubresource: true,
  schema: databaseSchema,
  printerColumns: [
    { name: 'HOST', type: 'string', jsonPath: '.spec.host' },
    { name: 'DBNAME', type: 'string', jsonPath: '.spec.dbname' },
    {
      name: 'CONNECTED',
      type: 'string',
      jsonPath: '.status.conditions[?(@.type=="Connected")].status',
    },
    { name: 'AGE', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    { name: 'PORT', type: 'integer', jsonPath: '.spec.port', priority: 1 },
    { name: 'SSLMODE', type: 'string', jsonPath: '.spec.sslmode', priority: 1 },
    {
      name: 'REASON',
      type: 'string',
      jsonPath: '.status.conditions[?(@.type=="Connected")].reason',
      priority: 1,
    },
  ],
};
