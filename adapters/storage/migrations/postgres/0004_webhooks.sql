-- Webhook subscriptions. A row is never deleted: removing a subscription sets removed_at, so its
-- dead letters keep their subscription.
--
-- `position` is the last ledger position this subscription is done with (delivered, skipped by
-- the event-type filter, or dead-lettered); `attempts` counts failed attempts on the entry after
-- it. `version` grows with every change to the row: a worker claims the row (sets lease_until)
-- only if the row still has the version it read, and records an outcome only if nobody changed
-- the row since its claim (a redelivery, a removal, or another instance whose claim replaced an
-- expired one). No transaction stays open during an HTTP request: a transaction holding a
-- transaction id would hold back the ledger's xid8 fence for every reader. Timestamps are
-- RFC 3339 text, compared in Rust, never in SQL.
CREATE TABLE webhook_subscriptions
(
    id                text PRIMARY KEY,
    url               text   NOT NULL,
    -- A JSON array of event type names; [] means every event.
    event_types       text   NOT NULL,
    -- Needed in clear to sign every delivery; shown to the subscriber once, at creation.
    secret            text   NOT NULL,
    max_attempts      bigint NOT NULL CHECK (max_attempts > 0),
    position          bigint NOT NULL CHECK (position >= 0),
    attempts          bigint NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at   text,
    last_error        text,
    last_error_at     text,
    last_delivered_at text,
    lease_until       text,
    version           bigint NOT NULL DEFAULT 0,
    created_at        text   NOT NULL,
    removed_at        text
);

-- Entries that could not be delivered after max_attempts. Never deleted; redelivery adds rows.
CREATE TABLE webhook_dead_letters
(
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subscription_id  text   NOT NULL REFERENCES webhook_subscriptions (id),
    position         bigint NOT NULL CHECK (position > 0),
    event_type       text   NOT NULL,
    attempts         bigint NOT NULL CHECK (attempts > 0),
    last_error       text   NOT NULL,
    dead_lettered_at text   NOT NULL
);
CREATE INDEX webhook_dead_letters_by_subscription ON webhook_dead_letters (subscription_id, id);
