SET lock_timeout = '5s';
DROP TABLE stripe_events;
