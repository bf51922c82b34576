SET lock_timeout = '5s';
SET statement_timeout = '5min';

DROP TABLE events;
