CREATE VIEW recovery_summary AS
    SELECT company_id, count(*) AS cases
      FROM recovery_cases
     GROUP company_id;
