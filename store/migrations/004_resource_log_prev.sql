-- Watches with a label selector need the object's previous state to tell
-- "started matching" (ADDED) and "stopped matching" (DELETED) from MODIFIED,
-- as Kubernetes does. Catch-up reads of one kind go through (kind, rv).
alter table resource_log add column prev_object jsonb;
create index resource_log_kind_rv on resource_log (kind, rv);
