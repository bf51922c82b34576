CREATE TABLE creator_settings (
    company_id text PRIMARY KEY,
    enable_push boolean NOT NULL DEFAULT true
);
