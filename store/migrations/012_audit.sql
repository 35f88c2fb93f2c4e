-- The audit log (store/audit.ts): who did what to what, how, from where, and how it
-- ended. Append-only: a trigger refuses every UPDATE and TRUNCATE, and every DELETE
-- except the retention sweep's, which names its cutoff in the transaction-local
-- setting `berth.audit_sweep_before` and may only remove rows older than that. The
-- trigger guards against mistakes and against SQL run through berth's own code; the
-- database owner can still drop it, which is why every entry is also a JSON log line.
create table audit_log (
  id bigserial primary key,
  at timestamptz not null default clock_timestamp(),
  actor text not null,            -- a user name, or system:<component>
  action text not null,           -- signin.succeeded, instance.launched, ...
  target_kind text,               -- ToolInstance, ToolDefinition, User, Token, Session
  target_namespace text,
  target_name text,
  target_user text,               -- the user the target belongs to (filters)
  how text not null,              -- ui, cli, api, visit, culler, controller
  client text,                    -- the client's address as berth saw it
  outcome text not null,          -- success, failure
  detail jsonb not null default '{}'
);
create index audit_log_at on audit_log (at);
create index audit_log_actor on audit_log (actor, id);
create index audit_log_target_user on audit_log (target_user, id);
create index audit_log_action on audit_log (action text_pattern_ops, id);

create function berth_audit_append_only() returns trigger language plpgsql as $$
declare
  cutoff text := current_setting('berth.audit_sweep_before', true);
begin
  if tg_op = 'DELETE' and coalesce(cutoff, '') <> '' and old.at < cutoff::timestamptz then
    return old;
  end if;
  raise exception 'the audit log is append-only: % refused', tg_op
    using errcode = 'insufficient_privilege';
end
$$;

create trigger audit_log_append_only before update or delete on audit_log
  for each row execute function berth_audit_append_only();

create function berth_audit_no_truncate() returns trigger language plpgsql as $$
begin
  raise exception 'the audit log is append-only: TRUNCATE refused'
    using errcode = 'insufficient_privilege';
end
$$;

create trigger audit_log_no_truncate before truncate on audit_log
  for each statement execute function berth_audit_no_truncate();
