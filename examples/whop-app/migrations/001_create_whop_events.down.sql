SET lock_timeout = '5s';
DROP TABLE whop_events;
