-- Disabling a user: a disabled user can neither sign in nor be handed a session,
-- and verification of their tokens and sessions fails (store/identity.ts,
-- store/sessions.ts). Disabling deletes their sessions and tokens in the same
-- transaction; enabling again restores sign-in, not the old credentials.
-- Existing tokens keep their expiry (null: none): the migration cannot know what
-- a token without one is for, and cutting off a running script is worse than
-- leaving it to its owner or an admin (`berth token list --all-users`).
alter table users add column disabled_at timestamptz;

-- A disabled (or enabled) user is a credentials change like a rights change:
-- the proxies forget cached answers and re-check open connections.
drop trigger users_rights_changed on users;
create trigger users_rights_changed after update of groups, admin, disabled_at on users
  for each row
  when (old.groups is distinct from new.groups or old.admin is distinct from new.admin
        or old.disabled_at is distinct from new.disabled_at)
  execute function berth_credentials_changed();
