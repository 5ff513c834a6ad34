-- Read models, written only by the projector from the ledger (with its checkpoint, in one
-- transaction). Every row belongs to one complaint and is replaced whenever that complaint's
-- events are projected. Times are microseconds since the Unix epoch, so they sort as numbers.

-- The complaint list.
CREATE TABLE rm_complaints
(
    complaint_id       text PRIMARY KEY,
    status             text    NOT NULL,
    owner              text,
    channel            text,
    category           text,
    customer_reference text,
    filed_at           bigint,
    sensitive          boolean NOT NULL,
    non_negotiable     boolean NOT NULL,
    escalations        text    NOT NULL,
    next_due_at        bigint,
    open_promises      bigint NOT NULL,
    open_obligations   bigint NOT NULL,
    open_follow_ups    bigint NOT NULL,
    position           bigint NOT NULL
);
CREATE INDEX rm_complaints_status ON rm_complaints (status, filed_at);
CREATE INDEX rm_complaints_owner ON rm_complaints (owner, filed_at);
CREATE INDEX rm_complaints_customer ON rm_complaints (customer_reference);
CREATE INDEX rm_complaints_due ON rm_complaints (next_due_at);

-- Each owner's work queue: open obligations, promises, follow-ups and triage deadlines.
CREATE TABLE rm_work_items
(
    complaint_id text NOT NULL,
    kind         text NOT NULL,
    item_id      text NOT NULL,
    owner        text NOT NULL,
    due_at       bigint NOT NULL,
    PRIMARY KEY (complaint_id, kind, item_id)
);
CREATE INDEX rm_work_items_queue ON rm_work_items (owner, due_at);

-- The open-promise index by due time, which the promise clock scans.
CREATE TABLE rm_open_promises
(
    complaint_id text NOT NULL,
    promise_id   text NOT NULL,
    promiser     text NOT NULL,
    owner        text NOT NULL,
    kind         text NOT NULL,
    due_at       bigint NOT NULL,
    status       text NOT NULL,
    PRIMARY KEY (complaint_id, promise_id)
);
CREATE INDEX rm_open_promises_due ON rm_open_promises (due_at);

-- What each complaint adds to each owner's counters; the counters are their sums.
CREATE TABLE rm_owner_counts
(
    complaint_id          text NOT NULL,
    owner                 text NOT NULL,
    open_complaints       bigint NOT NULL,
    open_promises         bigint NOT NULL,
    promises_kept_on_time bigint NOT NULL,
    promises_kept_late    bigint NOT NULL,
    promises_broken       bigint NOT NULL,
    promises_withdrawn    bigint NOT NULL,
    PRIMARY KEY (complaint_id, owner)
);
CREATE INDEX rm_owner_counts_owner ON rm_owner_counts (owner);
