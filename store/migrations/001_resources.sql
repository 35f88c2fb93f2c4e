-- The resource store, after kine: current objects plus an append-only log keyed by
-- one global resourceVersion. The counter row is locked by every write until commit,
-- so resourceVersion order equals commit order and a watcher resuming from N never
-- misses or reorders a change.
create table rv_counter (
  id boolean primary key default true check (id),
  rv bigint not null
);
insert into rv_counter (id, rv) values (true, 0);

-- The oldest resourceVersion still in the log; watching from before it is 410 Gone.
create table rv_compaction (
  id boolean primary key default true check (id),
  compacted_rv bigint not null
);
insert into rv_compaction (id, compacted_rv) values (true, 0);

create table resources (
  kind text not null,
  namespace text not null, -- '' for cluster-scoped kinds
  name text not null,
  uid uuid not null unique,
  resource_version bigint not null,
  object jsonb not null,
  primary key (kind, namespace, name)
);
create index resources_labels on resources using gin ((object -> 'metadata' -> 'labels'));
create index resources_owner_uids on resources using gin ((object -> 'metadata' -> 'ownerReferences'));

create table resource_log (
  rv bigint primary key,
  kind text not null,
  namespace text not null,
  name text not null,
  type text not null check (type in ('ADDED', 'MODIFIED', 'DELETED')),
  object jsonb not null,
  committed_at timestamptz not null default now()
);
create index resource_log_committed_at on resource_log (committed_at);
