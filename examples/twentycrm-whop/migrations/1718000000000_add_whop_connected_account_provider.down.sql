SET lock_timeout = '5s';
DROP TABLE connected_account;
