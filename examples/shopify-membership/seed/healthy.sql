-- Healthy data for the shopify-membership example: processed orders/paid webhooks, one active
-- membership per order. psql -v ON_ERROR_STOP=1 -f seed/healthy.sql
INSERT INTO shopify_webhooks (webhook_id, topic, shop_domain, payload, status, attempts, received_at, processed_at)
SELECT 'b54557e4-bdd9-4b37-8a5f-' || lpad(n::text, 12, '0'), 'orders/paid', 'atp-store.myshopify.com',
       jsonb_build_object('id', 5500000000 + n, 'name', '#' || (1000 + n), 'financial_status', 'paid', 'currency', 'AED',
                          'total_price', '99.00', 'customer', jsonb_build_object('id', 7700000000 + n, 'email', 'member' || n || '@example.com'),
                          'line_items', jsonb_build_array(jsonb_build_object('sku', 'ATP-MEMBERSHIP-ANNUAL', 'quantity', 1, 'price', '99.00'))),
       'processed', 1, now() - make_interval(mins => 5 + n), now() - make_interval(mins => 5 + n) + interval '400 ms'
  FROM generate_series(1, 12) n;

INSERT INTO memberships (shopify_customer_id, shopify_order_id, status, starts_at, expires_at, created_at)
SELECT (payload #>> '{customer,id}')::bigint, (payload ->> 'id')::bigint, 'active', processed_at, processed_at + interval '1 year', processed_at
  FROM shopify_webhooks WHERE topic = 'orders/paid';
