SET lock_timeout = '5s';
SET statement_timeout = '5min';

DROP POLICY creator_settings_company ON creator_settings;
DROP POLICY recovery_actions_company ON recovery_actions;
DROP POLICY recovery_cases_company ON recovery_cases;
DROP POLICY events_company ON events;

ALTER TABLE creator_settings DISABLE ROW LEVEL SECURITY;
ALTER TABLE recovery_actions DISABLE ROW LEVEL SECURITY;
ALTER TABLE recovery_cases DISABLE ROW LEVEL SECURITY;
ALTER TABLE events DISABLE ROW LEVEL SECURITY;

DROP FUNCTION company_visible(text);
DROP FUNCTION set_company_context(text);
