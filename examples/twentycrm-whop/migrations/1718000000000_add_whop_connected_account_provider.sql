-- TypeORM migration AddWhopConnectedAccountProvider1718000000000, mirrored as SQL so opsctl can show,
-- lint and (with the .down.sql) roll it back. TypeORM applies it (npx nx run twenty-server:database:migrate:prod);
-- adopt its history with: opsctl migrate baseline --import-from public.migrations
SET lock_timeout = '5s';
SET statement_timeout = '5min';

CREATE TABLE connected_account (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    provider         text NOT NULL CHECK (provider IN ('google', 'microsoft', 'whop')),
    handle           text NOT NULL,
    workspace_id     uuid NOT NULL,
    account_owner_id uuid NOT NULL,
    scopes           text[] NOT NULL DEFAULT '{}',
    last_sync_at     timestamptz,
    auth_failed_at   timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    deleted_at       timestamptz
);

CREATE INDEX connected_account_provider_workspace ON connected_account (provider, workspace_id) WHERE deleted_at IS NULL;
