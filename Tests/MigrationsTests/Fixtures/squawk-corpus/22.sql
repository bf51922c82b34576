CREATE TABLE t (a timestamp);
