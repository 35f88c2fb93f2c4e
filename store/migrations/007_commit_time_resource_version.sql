-- resourceVersion is assigned at commit time, inside PostgreSQL, by a deferred
-- constraint trigger on resource_log: a write inserts its log row with a negative
-- placeholder rv (minus its pending_id), and at COMMIT the trigger takes the
-- counter (its row lock is held until the commit completes, so resourceVersion
-- order is commit order), stamps the log row and the resources row with it, and
-- NOTIFYs. No client round trip happens while the counter is locked, so a busy
-- client process cannot stretch the lock and serialise every writer behind it.
-- How the writer learns its resourceVersion: store/sql.ts `commitStamped`.
create sequence resource_log_pending;
alter table resource_log add column pending_id bigint;
create unique index resource_log_pending_id on resource_log (pending_id);

create function resource_log_stamp() returns trigger language plpgsql as $$
declare
  v bigint;
begin
  update rv_counter set rv = rv + 1 returning rv into v;
  update resource_log
     set rv = v, object = jsonb_set(object, '{metadata,resourceVersion}', to_jsonb(v::text))
   where rv = new.rv;
  if new.type <> 'DELETED' then
    update resources
       set resource_version = v,
           object = jsonb_set(object, '{metadata,resourceVersion}', to_jsonb(v::text))
     where kind = new.kind and namespace = new.namespace and name = new.name;
  end if;
  perform pg_notify('berth_resources', v::text);
  return null;
end
$$;

create constraint trigger resource_log_stamp
  after insert on resource_log
  deferrable initially deferred
  for each row execute function resource_log_stamp();
