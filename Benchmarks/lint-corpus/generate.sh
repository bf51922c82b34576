#!/bin/sh
# Writes N paired migrations (default 1000) into DIR for `migrate lint` / `migrate apply` benchmarks:
# a realistic mix of CREATE TABLE, indexes, ALTERs, functions with dollar quotes, and their downs.
# Usage: Benchmarks/lint-corpus/generate.sh DIR [N]
set -eu
dir=${1:?usage: generate.sh DIR [N]}
n=${2:-1000}
mkdir -p "$dir"
i=1
while [ "$i" -le "$n" ]; do
    v=$(printf '%04d' "$i")
    case $((i % 4)) in
    1) cat > "$dir/${v}_create_t$i.sql" <<SQL
SET lock_timeout = '5s';
SET statement_timeout = '5min';
CREATE TABLE t$i (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    company_id text NOT NULL,
    payload jsonb NOT NULL DEFAULT '{}',
    note varchar(40),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX t${i}_company ON t$i (company_id, created_at);
SQL
       printf 'DROP TABLE t%s;\n' "$i" > "$dir/${v}_create_t$i.down.sql" ;;
    2) p=$((i - 1)); cat > "$dir/${v}_alter_t$p.sql" <<SQL
SET lock_timeout = '5s';
SET statement_timeout = '5min';
ALTER TABLE t$p ADD COLUMN status text NOT NULL DEFAULT 'open';
ALTER TABLE t$p ADD CONSTRAINT t${p}_status CHECK (status IN ('open', 'closed')) NOT VALID;
SQL
       printf 'ALTER TABLE t%s DROP CONSTRAINT t%s_status;\nALTER TABLE t%s DROP COLUMN status;\n' "$p" "$p" "$p" > "$dir/${v}_alter_t$p.down.sql" ;;
    3) p=$((i - 2)); cat > "$dir/${v}_fn_t$p.sql" <<SQL
SET lock_timeout = '5s';
SET statement_timeout = '5min';
CREATE FUNCTION touch_t$p() RETURNS trigger LANGUAGE plpgsql AS \$fn\$
BEGIN
    NEW.created_at := coalesce(NEW.created_at, now()); -- a ; in a comment
    RETURN NEW;
END
\$fn\$;
SQL
       printf 'DROP FUNCTION touch_t%s();\n' "$p" > "$dir/${v}_fn_t$p.down.sql" ;;
    0) p=$((i - 3)); cat > "$dir/${v}_idx_t$p.sql" <<SQL
SET lock_timeout = '5s';
SET statement_timeout = '5min';
CREATE INDEX t${p}_payload ON t$p USING gin (payload);
INSERT INTO t$p (company_id, payload) VALUES (E'co\\'$p', '{"a": 1}');
SQL
       printf 'DROP INDEX t%s_payload;\nDELETE FROM t%s;\n' "$p" "$p" > "$dir/${v}_idx_t$p.down.sql" ;;
    esac
    i=$((i + 1))
done
echo "wrote $n migrations to $dir"
