//! The complaint domain of obliged: the `Complaint` aggregate, its commands and events, the value
//! types they are made of, and the policies that turn a contact into a dated obligation.
//!
//! This crate does no I/O. It reads no clock and no environment: the current time reaches a
//! command through the [`Clock`] port in [`ComplaintServices`], and personal data arrives already
//! sealed ([`SealedText`]), so the aggregate can store it without ever seeing it.

mod aggregate;
mod command;
mod error;
mod event;
mod policy;
mod projection;
mod values;

pub use aggregate::{
    Complaint, FollowUpState, FollowUpStatus, HandoverOffer, Obligation, PromiseState,
    PromiseStatus, ResolutionState, Status,
};
pub use command::{ComplaintCommand, Customer, IssuedCommand};
pub use error::ComplaintError;
pub use event::{ComplaintEvent, Discharge, EVENT_VERSION};
pub use policy::{Clock, ComplaintServices, FixedClock, Policy};
pub use projection::{
    ComplaintRows, ComplaintSummary, OpenPromise, OwnerContribution, WorkItem, UNASSIGNED,
};
pub use values::{
    Category, Channel, ConductKind, ConductResponse, CustomerReference, Direction, ElementName,
    EscalationReason, EscalationTarget, FollowUpId, HandBackReason, InvalidValue, Owner, PlainText,
    PromiseId, PromiseKind, PublicText, SealedText, SensitiveReason, StaffAlias, StaffId,
};

#[cfg(test)]
mod aggregate_tests;
#[cfg(test)]
mod event_snapshots;
#[cfg(test)]
mod properties;
