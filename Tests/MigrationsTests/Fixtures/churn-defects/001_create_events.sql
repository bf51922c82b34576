CREATE TABLE events (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    whop_event_id text NOT NULL UNIQUE,
    payload jsonb NOT NULL,
    company_id text,
    occurred_at timestamptz NOT NULL
);
