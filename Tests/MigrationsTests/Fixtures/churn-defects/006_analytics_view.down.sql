DROP VIEW recovery_summary;
