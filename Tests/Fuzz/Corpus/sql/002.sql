-- 002 create_recovery_cases: one open case per failed membership payment.
SET lock_timeout = '5s';
SET statement_timeout = '5min';

-- Counters are small and bounded: int is enough.
-- opsctl:ignore prefer-bigint-over-int
CREATE TABLE recovery_cases (
    id                     text PRIMARY KEY,
    company_id             text NOT NULL,
    membership_id          text NOT NULL,
    user_id                text NOT NULL,
    first_failure_at       timestamptz NOT NULL,
    last_nudge_at          timestamptz,
    attempts               integer NOT NULL DEFAULT 0,
    incentive_days         integer NOT NULL DEFAULT 0,
    status                 text NOT NULL DEFAULT 'open'
                           CHECK (status IN ('open', 'recovered', 'closed_no_recovery')),
    failure_reason         text,
    recovered_amount_cents integer,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX recovery_cases_company_status ON recovery_cases (company_id, status);
CREATE INDEX recovery_cases_membership ON recovery_cases (membership_id);
