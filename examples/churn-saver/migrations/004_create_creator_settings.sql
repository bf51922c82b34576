-- 004 create_creator_settings: per-company reminder and incentive settings.
SET lock_timeout = '5s';
SET statement_timeout = '5min';

-- Day counts are small and bounded: int is enough.
-- opsctl:ignore prefer-bigint-over-int
CREATE TABLE creator_settings (
    company_id            text PRIMARY KEY,
    enable_push           boolean NOT NULL DEFAULT true,
    enable_dm             boolean NOT NULL DEFAULT true,
    incentive_days        integer NOT NULL DEFAULT 3,
    reminder_offsets_days integer[] NOT NULL DEFAULT '{0,2,4}',
    updated_at            timestamptz NOT NULL DEFAULT now()
);
