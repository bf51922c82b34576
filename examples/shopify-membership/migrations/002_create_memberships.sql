-- 002 create_memberships: the ATP annual membership (99 AED, 15 % discount, free delivery), one per paid order.
SET lock_timeout = '5s';
SET statement_timeout = '5min';

CREATE TABLE memberships (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    shopify_customer_id bigint NOT NULL,
    shopify_order_id    bigint NOT NULL UNIQUE,
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'expired', 'cancelled')),
    discount_percent    int NOT NULL DEFAULT 15,
    price_aed           numeric(8, 2) NOT NULL DEFAULT 99,
    starts_at           timestamptz NOT NULL DEFAULT now(),
    expires_at          timestamptz NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX memberships_customer_active ON memberships (shopify_customer_id) WHERE status = 'active';
