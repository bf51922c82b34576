-- 005 create_observability_logs: webhook, API, auth and circuit-breaker logs the health endpoints read.
SET lock_timeout = '5s';
SET statement_timeout = '5min';

CREATE TABLE webhook_logs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    endpoint    text NOT NULL,
    event_type  text,
    status      text NOT NULL CHECK (status IN ('success', 'failed')),
    duration_ms bigint NOT NULL,
    error       text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_logs_created_at ON webhook_logs (created_at);

-- HTTP status codes fit in an int.
-- opsctl:ignore prefer-bigint-over-int
CREATE TABLE api_request_logs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    route       text NOT NULL,
    method      text NOT NULL,
    status_code integer NOT NULL,
    duration_ms bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX api_request_logs_created_at ON api_request_logs (created_at);

CREATE TABLE auth_logs (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     text,
    outcome     text NOT NULL CHECK (outcome IN ('success', 'failure')),
    duration_ms bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX auth_logs_created_at ON auth_logs (created_at);

-- opsctl:ignore prefer-bigint-over-int
CREATE TABLE circuit_breaker_metrics (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service       text NOT NULL,
    state         text NOT NULL CHECK (state IN ('closed', 'open', 'half_open')),
    failure_count integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX circuit_breaker_metrics_service_created_at ON circuit_breaker_metrics (service, created_at);
