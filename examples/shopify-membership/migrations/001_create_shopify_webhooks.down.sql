SET lock_timeout = '5s';
DROP TABLE shopify_webhooks;
