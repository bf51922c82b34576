-- 002 create_observability_tables: the request, webhook, circuit-breaker and auth logs the
-- Whop SDK runbook's monitoring queries read.
SET lock_timeout = '5s';
SET statement_timeout = '5min';

CREATE TABLE api_request_logs (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service          text NOT NULL,
    endpoint         text NOT NULL,
    method           text NOT NULL DEFAULT 'GET',
    status_code      int NOT NULL,
    response_time_ms int NOT NULL,
    "timestamp"      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_request_logs_timestamp ON api_request_logs ("timestamp");

CREATE TABLE webhook_logs (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    whop_event_id      text,
    event_type         text NOT NULL,
    processing_status  text NOT NULL CHECK (processing_status IN ('success', 'failed', 'retrying')),
    processing_time_ms int NOT NULL,
    error_message      text,
    created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_logs_created_at ON webhook_logs (created_at);

CREATE TABLE circuit_breaker_metrics (
    service_name      text PRIMARY KEY,
    state             text NOT NULL CHECK (state IN ('closed', 'open', 'half_open')),
    failure_count     int NOT NULL DEFAULT 0,
    last_failure_time timestamptz,
    last_success_time timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE auth_logs (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_type         text NOT NULL,
    user_id            text,
    success            boolean NOT NULL,
    processing_time_ms int NOT NULL,
    "timestamp"        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX auth_logs_timestamp ON auth_logs ("timestamp");
