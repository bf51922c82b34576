SET lock_timeout = '5s';
SET statement_timeout = '5min';

DROP TABLE circuit_breaker_metrics;
DROP TABLE auth_logs;
DROP TABLE api_request_logs;
DROP TABLE webhook_logs;
