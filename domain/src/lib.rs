//! The complaint domain of obliged: the `Complaint` aggregate, its commands and events, the value
//! types they are made of, and the policies that turn a contact into a dated obligation.
//!
//! This crate does no I/O. It reads no clock and no environment: the current time reaches a
//! command through the [`Clock`] port in [`ComplaintServices`], and personal data arrives already
//! sealed ([`SealedText`]), so the aggregate can store it without ever seeing it.

mod aggregate;
mod calendar;
mod command;
mod deadline;
mod decide;
mod error;
mod event;
mod ladder;
mod policy;
mod projection;
mod report;
mod time;
mod values;

pub use aggregate::{
    Complaint, DeadlineState, FollowUpState, FollowUpStatus, HandoverOffer, LadderState,
    Obligation, PromiseState, PromiseStatus, ResolutionState, Status,
};
pub use calendar::{BusinessCalendar, CalendarConfig, CalendarError, Closure, Offset, Shift};
pub use command::{ComplaintCommand, Customer, IssuedCommand};
pub use deadline::{DeadlineDue, DeadlineKind, Measure, Regime};
pub use error::ComplaintError;
pub use event::{ComplaintEvent, Discharge, EVENT_VERSION};
pub use ladder::{Notified, Recipient, RungSpec, ScheduledRung, Subject, SubjectKind};
pub use policy::{
    Clock, ComplaintServices, DeadlinesConfig, FixedClock, Policy, PolicyConfig, PolicyError,
    RegimeRule,
};
pub use projection::{
    ComplaintRows, ComplaintSummary, DueRung, OpenPromise, OwnerContribution, WorkItem, UNASSIGNED,
};
pub use report::{
    nearest_rank, AccountabilityReport, Dimension, Evidence, Figure, Group, Period, ReportBuilder,
    ReportParams, ReportParamsError, Value, FIGURES, MAX_RANGE_DAYS, NOT_APPLICABLE,
};
pub use values::{
    Category, Channel, ConductKind, ConductResponse, CustomerReference, Direction, ElementName,
    EscalationReason, EscalationTarget, FollowUpId, HandBackReason, InvalidValue, Owner, PlainText,
    PromiseId, PromiseKind, PublicText, SealedText, SensitiveReason, StaffAlias, StaffId,
};

#[cfg(test)]
mod aggregate_tests;
#[cfg(test)]
mod clock_tests;
#[cfg(test)]
mod event_snapshots;
#[cfg(test)]
mod properties;
