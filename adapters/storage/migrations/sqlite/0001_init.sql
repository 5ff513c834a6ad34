-- The event table is the one sqlite-es reads and writes (its own DDL, kept verbatim):
-- one row per event, keyed by complaint and sequence, so concurrent appends to one
-- complaint collide on the primary key and surface as an optimistic-lock conflict.
CREATE TABLE events
(
  aggregate_type text                          NOT NULL,
  aggregate_id   text                          NOT NULL,
  sequence       integer CHECK (sequence >= 0) NOT NULL,
  event_type     text                          NOT NULL,
  event_version  text                          NOT NULL,
  payload        text                          NOT NULL,
  metadata       text                          NOT NULL,
  PRIMARY KEY (aggregate_type, aggregate_id, sequence)
) STRICT;

-- One data key per complaint, wrapped by the master key. Erasure sets wrapped_key to NULL
-- and records when; the row itself stays so that the erasure is visible.
CREATE TABLE sealing_keys
(
  subject      text PRIMARY KEY,
  wrapped_key  blob,
  created_at   text NOT NULL,
  destroyed_at text
) STRICT;

-- API bearer tokens. Only the SHA-256 of a token is stored.
CREATE TABLE api_tokens
(
  id         text PRIMARY KEY,
  name       text NOT NULL,
  role       text NOT NULL,
  token_hash text NOT NULL UNIQUE,
  created_at text NOT NULL,
  revoked_at text
) STRICT;
