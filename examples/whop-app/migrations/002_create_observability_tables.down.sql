SET lock_timeout = '5s';
DROP TABLE auth_logs;
DROP TABLE circuit_breaker_metrics;
DROP TABLE webhook_logs;
DROP TABLE api_request_logs;
