//! Snapshot tests that guard the stored JSON of every event variant.
