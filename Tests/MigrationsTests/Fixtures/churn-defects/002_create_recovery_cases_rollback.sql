DROP TABLE recovery_cases;
