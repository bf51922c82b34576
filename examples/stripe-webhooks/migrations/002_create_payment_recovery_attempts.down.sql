SET lock_timeout = '5s';
DROP TABLE payment_recovery_attempts;
