-- Browser sessions and the one-time codes that carry them to tool hosts (the
-- proxy's handoff). Only SHA-256 of each secret is stored. A session is bound to
-- the host it was issued for; a tool-host session is a child of the session on
-- berth's own host, so revoking (deleting) that one revokes its children.
create table sessions (
  id text primary key,
  secret_sha256 bytea not null unique,
  user_name text not null references users (name) on delete cascade,
  host text not null,
  parent_id text references sessions (id) on delete cascade,
  created_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  idle_ms bigint not null,
  expires_at timestamptz not null
);
create index sessions_parent on sessions (parent_id);
create index sessions_user on sessions (user_name);
create index sessions_expires on sessions (expires_at);

create table handoff_codes (
  code_sha256 bytea primary key,
  session_id text not null references sessions (id) on delete cascade,
  target_host text not null,
  expires_at timestamptz not null
);
create index handoff_codes_expires on handoff_codes (expires_at);
