-- The deployment guide's rollback: DROP TABLE IF EXISTS whop_webhook_log.
SET lock_timeout = '5s';
DROP TABLE whop_webhook_log;
