/* nested /* comment */ ; */
SET lock_timeout = '5s';
INSERT INTO t VALUES (E'it\'s; here', $q$ ; $q$);
CREATE RULE r AS ON INSERT TO t DO INSTEAD (SELECT 1; SELECT 2);
DO $$ BEGIN PERFORM 1; END $$;
