CREATE TABLE t (a char(2));
