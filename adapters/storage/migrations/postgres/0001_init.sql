-- The event table is the one postgres-es reads and writes (its own DDL, kept verbatim):
-- one row per event, keyed by complaint and sequence, so concurrent appends to one
-- complaint collide on the primary key and surface as an optimistic-lock conflict.
-- `json` (not jsonb) keeps the stored bytes exactly as written.
CREATE TABLE events
(
    aggregate_type text                         NOT NULL,
    aggregate_id   text                         NOT NULL,
    sequence       bigint CHECK (sequence >= 0) NOT NULL,
    event_type     text                         NOT NULL,
    event_version  text                         NOT NULL,
    payload        json                         NOT NULL,
    metadata       json                         NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);

-- One data key per complaint, wrapped by the master key. Erasure sets wrapped_key to NULL
-- and records when; the row itself stays so that the erasure is visible.
CREATE TABLE sealing_keys
(
    subject      text PRIMARY KEY,
    wrapped_key  bytea,
    created_at   text NOT NULL,
    destroyed_at text
);

-- API bearer tokens. Only the SHA-256 of a token is stored.
CREATE TABLE api_tokens
(
    id         text PRIMARY KEY,
    name       text NOT NULL,
    role       text NOT NULL,
    token_hash text NOT NULL UNIQUE,
    created_at text NOT NULL,
    revoked_at text
);
