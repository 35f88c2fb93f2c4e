// Dataset roles: one NOLOGIN role per Dataset holding USAGE on its tables' schemas
// and SELECT on exactly its tables in this database; its members are exactly the
// subjects that may read it. Synced declaratively: what is missing is granted,
// anything else it holds here is revoked. A member's running sessions see the
// change at their next statement (PostgreSQL checks privileges per statement).
import type pg from 'pg';
import { datasetRole } from './names.ts';
import { roleChange, sendAll } from './role-change.ts';
import * as sql from './statements.ts';
import { type Subject, subjectPrefixes, subjectRole } from './subjects.ts';

export interface TableRef {
  schema: string;
  table: string;
}

export interface SyncDatasetInput {
  installationId: string;
  dataset: string;
  tables: TableRef[];
  members: Subject[];
}

export interface SyncDatasetResult {
  /** Tables of the Dataset that do not exist in this database (not granted, not an error). */
  missingTables: TableRef[];
  /** Grants made (tables, schemas, memberships). */
  granted: number;
  /** Grants revoked (tables, schemas, memberships). */
  revoked: number;
}

interface DatasetStateRow {
  role_exists: boolean;
  version: number;
  missing: TableRef[];
  granted_tables: TableRef[];
  granted_schemas: string[];
  members: string[];
  existing_candidates: string[];
}

const key = (t: TableRef) => JSON.stringify([t.schema, t.table]);

export async function syncDataset(
  pool: pg.Pool,
  input: SyncDatasetInput,
): Promise<SyncDatasetResult> {
  const role = datasetRole(input.installationId, input.dataset);
  const wantedMembers = new Set(input.members.map((s) => subjectRole(input.installationId, s)));
  return await roleChange(pool, async (client) => {
    const { rows } = await client.query<DatasetStateRow>(
      sql.datasetState({
        role,
        tables: input.tables,
        subjectPrefixes: subjectPrefixes(input.installationId),
        candidates: [...wantedMembers],
      }),
    );
    const s = rows[0]!;
    const missing = new Set(s.missing.map(key));
    const present = input.tables.filter((t) => !missing.has(key(t)));
    const wantTables = new Map(present.map((t) => [key(t), t]));
    const wantSchemas = new Set(present.map((t) => t.schema));
    const grants: string[] = [];
    const revokes: string[] = [];
    if (!s.role_exists)
      grants.push(
        sql.createDatasetRole(role, JSON.stringify({ berth: 'dataset', name: input.dataset })),
      );
    const hasSchemas = new Set(s.granted_schemas);
    for (const schema of wantSchemas)
      if (!hasSchemas.has(schema)) grants.push(sql.grantSchemaUsage(schema, role));
    for (const schema of hasSchemas)
      if (!wantSchemas.has(schema)) revokes.push(sql.revokeSchemaUsage(schema, role));
    const hasTables = new Set(s.granted_tables.map(key));
    for (const [k, t] of wantTables) if (!hasTables.has(k)) grants.push(sql.grantSelect(t, role));
    for (const t of s.granted_tables)
      if (!wantTables.has(key(t))) revokes.push(sql.revokeTable(t, role));
    const isMember = new Set(s.members);
    for (const subject of s.existing_candidates)
      if (!isMember.has(subject)) grants.push(sql.grantMembership(role, subject, s.version));
    for (const subject of s.members)
      if (!wantedMembers.has(subject)) revokes.push(sql.revokeMembership(role, subject));
    await sendAll(client, [...grants, ...revokes]);
    return {
      missingTables: input.tables.filter((t) => missing.has(key(t))),
      granted: grants.length - (s.role_exists ? 0 : 1),
      revoked: revokes.length,
    };
  });
}

/**
 * The Dataset is gone: revoke what its role holds in this database and drop it.
 * A role that still holds privileges in another database of the cluster cannot
 * be dropped yet; it stays until that database's Dataset reconcile drops it too.
 */
export async function dropDataset(
  pool: pg.Pool,
  installationId: string,
  dataset: string,
): Promise<void> {
  const role = datasetRole(installationId, dataset);
  await roleChange(pool, async (client) => {
    const { rows } = await client.query<{ exists: boolean }>(sql.roleExists(role));
    if (!rows[0]?.exists) return;
    await sendAll(client, [sql.revokeAllOwned(role)]);
    await client.query(sql.savepoint);
    try {
      await sendAll(client, [sql.dropRole(role)]);
    } catch (err) {
      // 2BP01: it still has privileges in another database on this cluster.
      if ((err as { code?: string }).code !== '2BP01') throw err;
      await client.query(sql.rollbackToSavepoint);
    }
  });
}
