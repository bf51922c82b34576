-- What TypeORM leaves behind after 'database:migrate:prod': its history table, one row per migration.
-- The test (and a rehearsal in the sandbox) apply migrations/*.sql with psql, then this file.
CREATE TABLE IF NOT EXISTS migrations (
    id          serial PRIMARY KEY,
    "timestamp" bigint NOT NULL,
    name        varchar NOT NULL
);
INSERT INTO migrations ("timestamp", name) VALUES
    (1718000000000, 'AddWhopConnectedAccountProvider1718000000000'),
    (1718000000001, 'AddWhopWebhookLogTable1718000000001');
