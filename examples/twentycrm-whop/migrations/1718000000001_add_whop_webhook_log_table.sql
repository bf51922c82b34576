-- TypeORM migration AddWhopWebhookLogTable1718000000001, mirrored as SQL (see the first migration).
SET lock_timeout = '5s';
SET statement_timeout = '5min';

CREATE TABLE whop_webhook_log (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    whop_event_id text NOT NULL UNIQUE,
    workspace_id  uuid,
    event_type    text NOT NULL,
    payload       jsonb NOT NULL,
    status        text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'processed', 'failed')),
    error_message text,
    attempts      int NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    processed_at  timestamptz
);

CREATE INDEX whop_webhook_log_status_created ON whop_webhook_log (status, created_at);
