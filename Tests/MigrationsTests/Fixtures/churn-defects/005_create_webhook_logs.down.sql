DROP TABLE webhook_logs;
