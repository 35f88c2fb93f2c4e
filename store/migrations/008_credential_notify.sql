-- Credentials changed: a session or API token deleted (sign-out, revocation,
-- expiry sweep; cascades from a user's deletion included), or a user's groups or
-- admin flag changed. The proxies LISTEN on berth_credentials and forget their
-- cached answers at once, so a revocation does not linger for the length of the
-- cache on the other replicas and workers. The payload is empty: PostgreSQL folds
-- identical notifications of one transaction into one, so a statement deleting
-- many rows notifies once.
create function berth_credentials_changed() returns trigger language plpgsql as $$
begin
  perform pg_notify('berth_credentials', '');
  return null;
end
$$;

create trigger sessions_revoked after delete on sessions
  for each row execute function berth_credentials_changed();

create trigger api_tokens_revoked after delete on api_tokens
  for each row execute function berth_credentials_changed();

create trigger users_rights_changed after update of groups, admin on users
  for each row
  when (old.groups is distinct from new.groups or old.admin is distinct from new.admin)
  execute function berth_credentials_changed();
