-- 006 row_level_security: isolate companies; the service calls set_company_context(company_id) per request.
SET lock_timeout = '5s';
SET statement_timeout = '5min';

CREATE FUNCTION set_company_context(company text) RETURNS void
    LANGUAGE plpgsql AS $fn$
BEGIN
    -- Transaction-local: a pooled connection never leaks one company's context into the next request.
    PERFORM set_config('app.current_company_id', company, true);
END
$fn$;

-- Rows are visible when no company context is set (jobs, opsctl) or when they belong to it.
CREATE FUNCTION company_visible(row_company text) RETURNS boolean
    LANGUAGE sql STABLE AS $fn$
    SELECT coalesce(current_setting('app.current_company_id', true), '') IN ('', row_company)
$fn$;

ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE recovery_cases ENABLE ROW LEVEL SECURITY;
ALTER TABLE recovery_actions ENABLE ROW LEVEL SECURITY;
ALTER TABLE creator_settings ENABLE ROW LEVEL SECURITY;

CREATE POLICY events_company ON events USING (company_visible(company_id));
CREATE POLICY recovery_cases_company ON recovery_cases USING (company_visible(company_id));
CREATE POLICY recovery_actions_company ON recovery_actions USING (company_visible(company_id));
CREATE POLICY creator_settings_company ON creator_settings USING (company_visible(company_id));
