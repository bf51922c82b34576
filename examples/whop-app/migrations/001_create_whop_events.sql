-- 001 create_whop_events: every Whop webhook, idempotent on whop_event_id; processed_at NULL = still pending.
SET lock_timeout = '5s';
SET statement_timeout = '5min';

CREATE TABLE whop_events (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    whop_event_id text NOT NULL UNIQUE,
    event_type    text NOT NULL,
    company_id    text,
    payload       jsonb NOT NULL,
    processed_at  timestamptz,
    error_message text,
    retry_count   int NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- The runbook's "Index Optimization" section: pending work by type, and idempotency lookups.
CREATE INDEX idx_whop_events_type_created ON whop_events (event_type, created_at);
CREATE INDEX idx_whop_events_idempotency ON whop_events (whop_event_id, processed_at);
