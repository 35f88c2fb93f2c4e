-- A handoff code is bound to the browser that started the handoff (login CSRF):
-- the tool host set a random state in a host-only cookie and sent its SHA-256
-- along; the callback redeems the code only when the browser's state cookie
-- hashes to this. Codes in flight live a minute and carry no state yet: they go.
delete from handoff_codes;
alter table handoff_codes add column state_sha256 bytea not null;
