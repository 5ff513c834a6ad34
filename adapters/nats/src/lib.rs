//! NATS JetStream publisher: every ledger entry once, deduplicated by position.
