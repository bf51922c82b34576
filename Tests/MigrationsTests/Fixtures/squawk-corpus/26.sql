CREATE TABLE t (a bigint, b text, c timestamptz);
