-- 001 create_stripe_events: every event Stripe delivered, processed at most once (id is Stripe's evt_…).
SET lock_timeout = '5s';
SET statement_timeout = '5min';

CREATE TABLE stripe_events (
    id           text PRIMARY KEY,
    type         text NOT NULL,
    api_version  text,
    livemode     boolean NOT NULL DEFAULT false,
    payload      jsonb NOT NULL,
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processed', 'failed')),
    attempts     int NOT NULL DEFAULT 0,
    last_error   text,
    received_at  timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz
);

-- The worker claims pending events oldest first; ops queries read failures by type.
CREATE INDEX stripe_events_status_received_at ON stripe_events (status, received_at);
