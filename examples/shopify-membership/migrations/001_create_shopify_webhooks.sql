-- 001 create_shopify_webhooks: every Shopify webhook the store sent (orders/paid creates memberships),
-- keyed by X-Shopify-Webhook-Id so a redelivery is processed once.
SET lock_timeout = '5s';
SET statement_timeout = '5min';

CREATE TABLE shopify_webhooks (
    webhook_id   text PRIMARY KEY,
    topic        text NOT NULL,
    shop_domain  text,
    payload      jsonb NOT NULL,
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processed', 'failed')),
    error        text,
    attempts     int NOT NULL DEFAULT 0,
    received_at  timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz
);

CREATE INDEX shopify_webhooks_status_received ON shopify_webhooks (status, received_at);
