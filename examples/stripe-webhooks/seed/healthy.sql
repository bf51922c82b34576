-- Healthy data for the stripe-webhooks example: processed events with their recovery attempts and
-- one fresh pending event (younger than the 15-minute stale limit). psql -v ON_ERROR_STOP=1 -f seed/healthy.sql
INSERT INTO stripe_events (id, type, api_version, payload, status, attempts, received_at, processed_at)
SELECT 'evt_seed_' || lpad(n::text, 4, '0'), t.type, '2024-06-20',
       jsonb_build_object('id', 'evt_seed_' || lpad(n::text, 4, '0'), 'object', 'event', 'type', t.type,
                          'api_version', '2024-06-20', 'created', 1760000000 + n, 'livemode', false,
                          'data', jsonb_build_object('object', jsonb_build_object(
                              'id', 'in_seed_' || n, 'object', 'invoice', 'customer', 'cus_seed_' || (n % 7),
                              'amount_due', 1900 + n, 'currency', 'usd'))),
       'processed', 1, now() - make_interval(mins => 5 + n), now() - make_interval(mins => 5 + n) + interval '300 ms'
  FROM generate_series(1, 24) n
  CROSS JOIN LATERAL (SELECT (ARRAY['invoice.payment_failed', 'invoice.paid', 'customer.subscription.updated'])[1 + n % 3] AS type) t;

INSERT INTO payment_recovery_attempts (stripe_event_id, customer_id, invoice_id, amount_cents, action, outcome, attempted_at)
SELECT id, payload #>> '{data,object,customer}', payload #>> '{data,object,id}', (payload #>> '{data,object,amount_due}')::int,
       'retry_scheduled', 'recovered', received_at + interval '1 second'
  FROM stripe_events WHERE type = 'invoice.payment_failed';

INSERT INTO stripe_events (id, type, api_version, payload, status, received_at)
VALUES ('evt_seed_fresh', 'invoice.paid', '2024-06-20',
        '{"id":"evt_seed_fresh","object":"event","type":"invoice.paid","api_version":"2024-06-20","created":1760000100,"livemode":false,"data":{"object":{"id":"in_seed_fresh","object":"invoice","customer":"cus_seed_1","amount_due":1900,"currency":"usd"}}}',
        'pending', now() - interval '1 minute');
