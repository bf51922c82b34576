-- migrate:up
CREATE TABLE t (id bigint PRIMARY KEY, note text DEFAULT 'a;b');
CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;
-- migrate:down
DROP FUNCTION f();
DROP TABLE t;
