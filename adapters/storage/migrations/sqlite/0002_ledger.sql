-- Global commit order. SQLite has one writer at a time, so a number assigned inside the append
-- transaction is gap-free in commit order. A trigger assigns it, so sqlite-es's own INSERT needs
-- to know nothing of it (rowid is not used: VACUUM may renumber it).
ALTER TABLE events ADD COLUMN global_seq integer;
CREATE UNIQUE INDEX events_global_order ON events (global_seq);
CREATE TRIGGER events_global_seq AFTER INSERT ON events
BEGIN
    UPDATE events
       SET global_seq = (SELECT coalesce(max(global_seq), 0) + 1 FROM events)
     WHERE rowid = NEW.rowid;
END;

-- The ledger: dense positions 1, 2, 3, … in global order, each hashing the previous entry, the
-- position and the stored bytes of its event. Written by one sequencer at a time.
CREATE TABLE ledger
(
    position       integer PRIMARY KEY CHECK (position > 0),
    aggregate_type text    NOT NULL,
    aggregate_id   text    NOT NULL,
    sequence       integer NOT NULL,
    source_tx      integer NOT NULL,
    source_seq     integer NOT NULL,
    hash           text    NOT NULL,
    sequenced_at   text    NOT NULL,
    UNIQUE (aggregate_type, aggregate_id, sequence)
) STRICT;

-- Where each consumer of the ledger (projector, publisher) has got to.
CREATE TABLE checkpoints
(
    name       text PRIMARY KEY,
    position   integer NOT NULL CHECK (position >= 0),
    updated_at text    NOT NULL
) STRICT;
