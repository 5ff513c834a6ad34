-- Who made each webhook subscription: the id and name of the API token it was made with. NULL
-- for subscriptions made on the command line (by the operator) or before owners were recorded;
-- only admins see and change those. A subscription whose token is revoked stops delivering.
ALTER TABLE webhook_subscriptions ADD COLUMN created_by_token text;
ALTER TABLE webhook_subscriptions ADD COLUMN created_by text;
CREATE INDEX webhook_subscriptions_by_owner ON webhook_subscriptions (created_by_token);
