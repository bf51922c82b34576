CREATE TABLE recovery_cases (
    id text PRIMARY KEY,
    company_id text NOT NULL,
    status text NOT NULL DEFAULT 'open'
);
