-- Sign-in: which external identity (issuer + subject) is which berth user, so a
-- user's slug (their namespace) stays the same when their email or name changes
-- and two identities never share a slug; and the short-lived state of OIDC
-- authorization requests in flight (state, nonce, PKCE verifier), kept
-- server-side so any API replica can finish a sign-in another one started.
create table user_identities (
  issuer text not null,
  subject text not null,
  user_name text not null references users (name) on delete cascade,
  created_at timestamptz not null default now(),
  primary key (issuer, subject)
);
create index user_identities_user on user_identities (user_name);

create table oidc_logins (
  state_sha256 bytea primary key,
  nonce text not null,
  code_verifier text not null,
  next_path text not null,
  expires_at timestamptz not null
);
create index oidc_logins_expires on oidc_logins (expires_at);
