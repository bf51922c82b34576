CREATE INDEX webhook_logs_created_at ON webhook_logs (created_at);
