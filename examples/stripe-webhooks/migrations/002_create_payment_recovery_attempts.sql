-- 002 create_payment_recovery_attempts: what the handler did about a failed invoice payment
-- (a retry scheduled with Stripe's Smart Retries, a dunning email, the final outcome).
SET lock_timeout = '5s';
SET statement_timeout = '5min';

CREATE TABLE payment_recovery_attempts (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stripe_event_id text NOT NULL,
    customer_id     text NOT NULL,
    invoice_id      text NOT NULL,
    amount_cents    int NOT NULL CHECK (amount_cents >= 0),
    currency        text NOT NULL DEFAULT 'usd',
    action          text NOT NULL CHECK (action IN ('retry_scheduled', 'dunning_email', 'card_update_link')),
    outcome         text NOT NULL DEFAULT 'pending' CHECK (outcome IN ('pending', 'recovered', 'failed')),
    attempted_at    timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX payment_recovery_attempts_event ON payment_recovery_attempts (stripe_event_id);
