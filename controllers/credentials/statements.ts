// Every SQL statement the credentials engine sends, by name (as pg-boss's plans.ts
// keeps its own). Catalog reads are parameterized. DDL cannot take parameters, so
// its identifiers are names.ts's generated names, quoted with pg.escapeIdentifier,
// and its few literals (a SCRAM verifier checked against its pattern, a timestamp,
// a comment JSON berth wrote) are quoted with pg.escapeLiteral; no password ever
// appears in any of them.
import pg from 'pg';
import { SCRAM_VERIFIER } from './scram.ts';

const id = (name: string) => pg.escapeIdentifier(name);
const lit = (text: string) => pg.escapeLiteral(text);

function nonNegativeInt(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${what} must be a whole number ≥ 0`);
  return n;
}

export interface Query {
  text: string;
  values: unknown[];
}

// ---- catalog reads -------------------------------------------------------------

/** One row: what of a launch's subject, schema, login and dataset roles already exists. */
export function launchState(p: {
  subject: string;
  schema: string;
  login: string;
  datasetRolePrefix: string;
  datasetRoles: string[];
}): Query {
  return {
    text: `select current_database() as database,
  current_setting('server_version_num')::int as version,
  exists(select 1 from pg_roles where rolname = $1) as subject_exists,
  exists(select 1 from pg_namespace where nspname = $2) as schema_exists,
  exists(select 1 from pg_database d cross join lateral aclexplode(d.datacl) a
          join pg_roles r on r.oid = a.grantee
         where d.datname = current_database() and r.rolname = $1 and a.privilege_type = 'CONNECT') as has_connect,
  exists(select 1 from pg_roles where rolname = $3) as login_exists,
  (select shobj_description(oid, 'pg_authid') from pg_roles where rolname = $3) as login_comment,
  array(select rolname::text from pg_roles where rolname = any($5::text[])) as dataset_roles,
  array(select distinct g.rolname::text from pg_auth_members m
          join pg_roles g on g.oid = m.roleid join pg_roles s on s.oid = m.member
         where s.rolname = $1 and starts_with(g.rolname, $4)) as memberships`,
    values: [p.subject, p.schema, p.login, p.datasetRolePrefix, p.datasetRoles],
  };
}

/** One row: a dataset role's state in this database, and which of `candidates` exist. */
export function datasetState(p: {
  role: string;
  tables: { schema: string; table: string }[];
  subjectPrefixes: string[];
  candidates: string[];
}): Query {
  return {
    text: `with ds as (select oid from pg_roles where rolname = $1)
select exists(select 1 from ds) as role_exists,
  current_setting('server_version_num')::int as version,
  coalesce((select json_agg(json_build_object('schema', w.s, 'table', w.t))
     from unnest($2::text[], $3::text[]) as w(s, t)
    where not exists (select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace
                       where n.nspname = w.s and c.relname = w.t and c.relkind in ('r', 'v', 'm', 'p', 'f'))),
   '[]'::json) as missing,
  coalesce((select json_agg(distinct jsonb_build_object('schema', n.nspname, 'table', c.relname))
     from pg_class c join pg_namespace n on n.oid = c.relnamespace
     cross join lateral aclexplode(c.relacl) a
    where a.grantee = (select oid from ds)), '[]'::json) as granted_tables,
  array(select distinct n.nspname::text from pg_namespace n cross join lateral aclexplode(n.nspacl) a
         where a.grantee = (select oid from ds)) as granted_schemas,
  array(select distinct s.rolname::text from pg_auth_members m join pg_roles s on s.oid = m.member
         where m.roleid = (select oid from ds) and exists(select 1 from unnest($4::text[]) p where starts_with(s.rolname, p))) as members,
  array(select rolname::text from pg_roles where rolname = any($5::text[])) as existing_candidates`,
    values: [
      p.role,
      p.tables.map((t) => t.schema),
      p.tables.map((t) => t.table),
      p.subjectPrefixes,
      p.candidates,
    ],
  };
}

/** Roles whose names start with `prefix`, with their comments. */
export function rolesWithPrefix(prefix: string): Query {
  return {
    text: `select rolname, shobj_description(oid, 'pg_authid') as comment
  from pg_roles where starts_with(rolname, $1) order by rolname`,
    values: [prefix],
  };
}

/** The subject role a login is a member of (its subject's prefixes), if any. */
export function loginSubject(login: string, subjectPrefixes: string[]): Query {
  return {
    text: `select exists(select 1 from pg_roles where rolname = $1) as login_exists,
  (select g.rolname::text from pg_auth_members m join pg_roles g on g.oid = m.roleid
    join pg_roles l on l.oid = m.member
   where l.rolname = $1 and exists(select 1 from unnest($2::text[]) p where starts_with(g.rolname, p)) limit 1) as subject`,
    values: [login, subjectPrefixes],
  };
}

/** Ends every session of `login` (the admin needs pg_signal_backend). */
export function terminateSessions(login: string): Query {
  return {
    text: `select count(pg_terminate_backend(pid))::int as terminated from pg_stat_activity
  where usename = $1 and pid <> pg_backend_pid()`,
    values: [login],
  };
}

// ---- changes (DDL, joined into one multi-statement round trip) -------------------

/**
 * PG16+ gives a CREATEROLE login only ADMIN on the roles it creates; it needs SET to
 * create a schema owned by one and INHERIT to REASSIGN/DROP OWNED BY it (PG15 needs
 * plain membership for both). A plain GRANT to itself gives exactly that on both.
 */
function toAdmin(role: string): string {
  return `grant ${id(role)} to current_user`;
}

export function createSubjectRole(role: string, comment: string): string {
  return `create role ${id(role)} nologin inherit nocreaterole nocreatedb noreplication;
${toAdmin(role)};
comment on role ${id(role)} is ${lit(comment)}`;
}

export function grantConnect(database: string, role: string): string {
  return `grant connect on database ${id(database)} to ${id(role)}`;
}

export function createPrivateSchema(schema: string, owner: string): string {
  return `create schema if not exists ${id(schema)} authorization ${id(owner)}`;
}

/**
 * INHERIT so the subject reads the tables; from PG16, no SET (nobody creates objects
 * as a dataset role). `version` is server_version_num.
 */
export function grantMembership(datasetRole: string, subject: string, version: number): string {
  const grant = `grant ${id(datasetRole)} to ${id(subject)}`;
  return version >= 160000 ? `${grant} with inherit true, set false` : grant;
}

export function revokeMembership(datasetRole: string, subject: string): string {
  return `revoke ${id(datasetRole)} from ${id(subject)}`;
}

export interface LoginOptions {
  login: string;
  subject: string;
  schema: string;
  verifier: string;
  validUntil: Date;
  connectionLimit: number;
  statementTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
}

function loginAttributes(o: LoginOptions): string {
  if (!SCRAM_VERIFIER.test(o.verifier)) throw new Error('not a SCRAM-SHA-256 verifier');
  if (Number.isNaN(o.validUntil.getTime())) throw new Error('validUntil is not a date');
  return `login inherit password ${lit(o.verifier)} valid until ${lit(o.validUntil.toISOString())} connection limit ${nonNegativeInt(o.connectionLimit, 'connectionLimit')}`;
}

/** The login's session settings: it acts as its subject, in its schema, with timeouts. */
function loginSettings(o: LoginOptions): string {
  const l = id(o.login);
  return `alter role ${l} set role = ${lit(o.subject)};
alter role ${l} set search_path = ${id(o.schema)}, public;
alter role ${l} set statement_timeout = ${nonNegativeInt(o.statementTimeoutMs, 'statementTimeoutMs')};
alter role ${l} set idle_in_transaction_session_timeout = ${nonNegativeInt(o.idleInTransactionTimeoutMs, 'idleInTransactionTimeoutMs')}`;
}

export function createLogin(o: LoginOptions, comment: string): string {
  return `create role ${id(o.login)} ${loginAttributes(o)} nocreaterole nocreatedb noreplication in role ${id(o.subject)};
${toAdmin(o.login)};
comment on role ${id(o.login)} is ${lit(comment)};
${loginSettings(o)}`;
}

/**
 * A retried launch: the same login, brought back to the same settings and password.
 * (NOCREATEDB and the like were set at creation; ALTER may only name them if the
 * admin itself holds CREATEDB.)
 */
export function alterLogin(o: LoginOptions, comment: string | undefined): string {
  return [
    `alter role ${id(o.login)} ${loginAttributes(o)}`,
    `grant ${id(o.subject)} to ${id(o.login)}`,
    ...(comment ? [`comment on role ${id(o.login)} is ${lit(comment)}`] : []),
    loginSettings(o),
  ].join(';\n');
}

export function disableLogin(login: string): string {
  return `alter role ${id(login)} nologin`;
}

/** Objects the login owns in this database go to its subject; then its grants and itself go. */
export function dropLogin(login: string, heir: string): string {
  return `reassign owned by ${id(login)} to ${id(heir)};
drop owned by ${id(login)};
drop role ${id(login)}`;
}

export function createDatasetRole(role: string, comment: string): string {
  return `create role ${id(role)} nologin noinherit nocreaterole nocreatedb noreplication;
${toAdmin(role)};
comment on role ${id(role)} is ${lit(comment)}`;
}

export function grantSchemaUsage(schema: string, role: string): string {
  return `grant usage on schema ${id(schema)} to ${id(role)}`;
}

export function revokeSchemaUsage(schema: string, role: string): string {
  return `revoke all on schema ${id(schema)} from ${id(role)}`;
}

export function grantSelect(t: { schema: string; table: string }, role: string): string {
  return `grant select on table ${id(t.schema)}.${id(t.table)} to ${id(role)}`;
}

export function revokeTable(t: { schema: string; table: string }, role: string): string {
  return `revoke all on table ${id(t.schema)}.${id(t.table)} from ${id(role)}`;
}

/** Revokes what the role holds in this database (its other databases keep theirs). */
export function revokeAllOwned(role: string): string {
  return `drop owned by ${id(role)}`;
}

export function dropRole(role: string): string {
  return `drop role if exists ${id(role)}`;
}

export function roleExists(role: string): Query {
  return {
    text: 'select exists(select 1 from pg_roles where rolname = $1) as exists',
    values: [role],
  };
}

/** The admin itself: who inherits a login's objects when it has no subject role. */
export const currentUser = 'select current_user as name';

export const savepoint = 'savepoint berth_drop_role';
export const rollbackToSavepoint = 'rollback to savepoint berth_drop_role';
