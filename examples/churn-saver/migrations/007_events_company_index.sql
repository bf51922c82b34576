-- 007 events_company_index: per-company event history, built without blocking webhook intake.
-- CONCURRENTLY cannot run in a transaction: opsctl applies this file statement by statement.
SET lock_timeout = '5s';
SET statement_timeout = '30min';

CREATE INDEX CONCURRENTLY IF NOT EXISTS events_company_occurred_at ON events (company_id, occurred_at);
