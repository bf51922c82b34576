-- Healthy data for the twentycrm-whop example: two workspaces connected to Whop (and one Google account),
-- processed webhook log rows for both. psql -v ON_ERROR_STOP=1 -f seed/healthy.sql
INSERT INTO connected_account (id, provider, handle, workspace_id, account_owner_id, scopes, last_sync_at) VALUES
    ('0b6f4a52-0000-4000-8000-000000000001', 'whop', 'biz_seed_1', '5b0c8f1e-0000-4000-8000-00000000000a',
     '7d1e2c3b-0000-4000-8000-0000000000a1', '{memberships:read,payments:read}', now() - interval '10 minutes'),
    ('0b6f4a52-0000-4000-8000-000000000002', 'whop', 'biz_seed_2', '5b0c8f1e-0000-4000-8000-00000000000b',
     '7d1e2c3b-0000-4000-8000-0000000000b1', '{memberships:read}', now() - interval '25 minutes'),
    ('0b6f4a52-0000-4000-8000-000000000003', 'google', 'ops@example.com', '5b0c8f1e-0000-4000-8000-00000000000a',
     '7d1e2c3b-0000-4000-8000-0000000000a1', '{gmail.readonly}', now() - interval '1 hour');

INSERT INTO whop_webhook_log (whop_event_id, workspace_id, event_type, payload, status, attempts, created_at, processed_at)
SELECT 'msg_seed_' || lpad(n::text, 4, '0'), c.workspace_id, t.type,
       jsonb_build_object('type', t.type, 'timestamp', to_char(now() - make_interval(mins => 5 + n), 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                          'data', jsonb_build_object('id', 'mem_seed_' || n, 'company_id', c.handle, 'user_id', 'user_seed_' || n)),
       'processed', 1, now() - make_interval(mins => 5 + n), now() - make_interval(mins => 5 + n) + interval '150 ms'
  FROM generate_series(1, 20) n
  JOIN connected_account c ON c.provider = 'whop' AND c.handle = 'biz_seed_' || (1 + n % 2)
  CROSS JOIN LATERAL (SELECT (ARRAY['membership.activated', 'payment.succeeded', 'membership.deactivated'])[1 + n % 3] AS type) t;
