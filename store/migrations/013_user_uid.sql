-- A stable id per user, apart from the name (the slug) and the email: what a user
-- owns outside the database (their S3 home prefix, their file role) is keyed by it,
-- so it survives a change of email or display name.
alter table users add column uid uuid not null default gen_random_uuid();
create unique index users_uid on users (uid);
