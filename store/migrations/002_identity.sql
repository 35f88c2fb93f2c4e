-- Identity: users and hashed API tokens. Shared by the API and the proxy.
create table users (
  name text primary key, -- the user's slug, also the namespace of their instances
  email text,
  display_name text,
  groups text[] not null default '{}',
  admin boolean not null default false,
  created_at timestamptz not null default now()
);

-- Only a SHA-256 of the secret is stored; the token id is public and indexes it.
create table api_tokens (
  id text primary key,
  user_name text not null references users (name) on delete cascade,
  secret_sha256 bytea not null,
  description text,
  created_at timestamptz not null default now(),
  expires_at timestamptz,
  last_used_at timestamptz
);
create index api_tokens_user on api_tokens (user_name);
