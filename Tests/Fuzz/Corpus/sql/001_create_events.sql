-- 001 create_events: every webhook event received from Whop, processed at most once.
SET lock_timeout = '5s';
SET statement_timeout = '5min';

CREATE TABLE events (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    whop_event_id text NOT NULL UNIQUE,
    type          text,
    membership_id text,
    payload       jsonb NOT NULL,
    processed     boolean NOT NULL DEFAULT false,
    processed_at  timestamptz,
    error         text,
    company_id    text,
    occurred_at   timestamptz NOT NULL,
    received_at   timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- The reminder job scans unprocessed events oldest first.
CREATE INDEX events_processed_created_at ON events (processed, created_at);
