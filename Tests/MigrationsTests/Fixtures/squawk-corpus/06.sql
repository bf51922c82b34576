ALTER TABLE t ADD COLUMN b timestamptz DEFAULT now();
