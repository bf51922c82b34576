-- Healthy data for the whop-app example: processed events, fresh request/webhook/auth logs per
-- endpoint and event type, closed circuit breakers. psql -v ON_ERROR_STOP=1 -f seed/healthy.sql
INSERT INTO whop_events (whop_event_id, event_type, company_id, payload, processed_at, created_at)
SELECT 'evt_seed_' || lpad(n::text, 4, '0'), t.type, 'biz_seed_' || (n % 3),
       jsonb_build_object('id', 'evt_seed_' || lpad(n::text, 4, '0'), 'action', t.type, 'created_at', 1760000000 + n,
                          'data', jsonb_build_object('id', 'mem_seed_' || n, 'company_id', 'biz_seed_' || (n % 3),
                                                     'user_id', 'user_seed_' || n, 'status', 'active')),
       now() - make_interval(mins => 5 + n) + interval '200 ms', now() - make_interval(mins => 5 + n)
  FROM generate_series(1, 30) n
  CROSS JOIN LATERAL (SELECT (ARRAY['membership.went_valid', 'payment.succeeded', 'membership.went_invalid'])[1 + n % 3] AS type) t;

INSERT INTO api_request_logs (service, endpoint, method, status_code, response_time_ms, "timestamp")
SELECT 'whop_api', e.endpoint, 'GET', CASE WHEN n % 97 = 0 THEN 404 ELSE 200 END, 80 + (n * 7) % 220,
       now() - make_interval(secs => n * 3)
  FROM generate_series(1, 90) n
  CROSS JOIN LATERAL (SELECT (ARRAY['/v5/me', '/v5/memberships', '/v5/companies'])[1 + n % 3] AS endpoint) e;

INSERT INTO webhook_logs (whop_event_id, event_type, processing_status, processing_time_ms, created_at)
SELECT whop_event_id, event_type, 'success', 40 + (id % 50)::int, created_at FROM whop_events;

INSERT INTO circuit_breaker_metrics (service_name, state, failure_count, last_failure_time, last_success_time)
VALUES ('whop_api', 'closed', 0, now() - interval '3 days', now() - interval '10 seconds'),
       ('whop_oauth', 'closed', 0, NULL, now() - interval '1 minute');

INSERT INTO auth_logs (event_type, user_id, success, processing_time_ms, "timestamp")
SELECT (ARRAY['oauth_callback', 'token_refresh', 'session_validate'])[1 + n % 3], 'user_seed_' || n, true,
       30 + (n * 11) % 150, now() - make_interval(secs => n * 20)
  FROM generate_series(1, 60) n;
