DROP INDEX webhook_logs_created_at;
