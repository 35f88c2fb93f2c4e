-- Usage (store/usage.ts): one row per ECS task berth ran, with its size, so that
-- vCPU-hours, GiB-hours and running time are sums over task lifetimes. The
-- controllers write a row in the same transaction as the status write that gives
-- an instance its task, and close it in the one that takes the task away.
create table task_usage (
  task_arn text primary key,
  namespace text not null,               -- the user (or `shared`)
  instance_name text not null,
  instance_uid uuid not null,
  tool text not null,
  size text not null,
  cpu_units integer not null check (cpu_units > 0),    -- ECS units: 1024 per vCPU
  memory_mib integer not null check (memory_mib > 0),
  started_at timestamptz not null,
  -- true once started_at is ECS's own (pullStartedAt, else startedAt), which a
  -- row first written from RunTask's answer (createdAt) is refined to once
  started_exact boolean not null default false,
  stopped_at timestamptz,                -- null while the task runs
  check (stopped_at is null or stopped_at >= started_at)
);
-- A window [since, until) reads the rows started before `until` that were still
-- running at `since`: one range on each end.
create index task_usage_started_at on task_usage (started_at);
create index task_usage_stopped_at on task_usage (stopped_at);
-- The GC's look at rows still open.
create index task_usage_open on task_usage (started_at) where stopped_at is null;
