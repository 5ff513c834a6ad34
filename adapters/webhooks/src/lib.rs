//! Webhooks: signed, ordered, at-least-once delivery of ledger entries to subscribers.
