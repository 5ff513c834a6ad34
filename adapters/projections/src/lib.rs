//! The read side of obliged: everything derived from the ledger for people to read. The
//! [`Projector`] is a catch-up consumer that keeps the read models (complaint list, work
//! queues, open promises, owner counters, the promise clock's due rungs) in step with the
//! ledger, writing rows and its checkpoint in one transaction; [`ReadModels`] answers queries
//! over them; [`accountability_report`] folds the ledger into the domain's report and
//! [`formats`] renders it as JSON, CSV or SVG for the HTTP API and the CLI alike.
//!
//! It reads the log through `obliged-storage` and never runs a command.

pub mod formats;
mod projector;
mod read_models;
mod reports;

pub use projector::{from_micros, micros, ProjectionError, Projector, COMPLAINTS_PROJECTOR};
pub use read_models::{
    ComplaintFilter, ComplaintListItem, DuePromise, DueRungRow, OverdueLine, OwnerCounters,
    QueueItem, ReadModels, TeamLoad, WorkLine, FLAGS,
};
pub use reports::{accountability_report, ReportError, REPORT_PAGE};
