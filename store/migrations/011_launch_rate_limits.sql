-- Launches per user per window (BERTH_LAUNCH_RATE_LIMIT), counted in PostgreSQL so
-- that every API replica and proxy worker shares one count. The table has the
-- shape rate-limiter-flexible's RateLimiterPostgres uses (a fixed window per key:
-- points used, window end in epoch milliseconds); berth creates it here rather
-- than letting each process create it at start. One row per user who launched;
-- a row whose window ended is reused by that user's next launch.
create table launch_rate_limits (
  key varchar(255) primary key,
  points integer not null default 0,
  expire bigint
);
