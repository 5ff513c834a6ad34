//! Refusals of the complaint aggregate. Each variant names a business fact; [`ComplaintError::slug`]
//! is the stable identifier integrations match on (it becomes the problem `type` over HTTP).

use jiff::Timestamp;

use crate::deadline::{DeadlineKind, Regime};
use crate::ladder::Subject;
use crate::values::{
    ElementName, EscalationTarget, FollowUpId, HandBackReason, Owner, PromiseId, PublicText,
};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComplaintError {
    #[error("complaint not found")]
    NotFiled,
    #[error("complaint was already filed")]
    AlreadyFiled,
    #[error("complaint is closed; reopen it first")]
    Closed,
    #[error("complaint has no accountable owner yet; assign one first")]
    NoOwner,
    #[error("complaint is already owned by {owner}; offer a handover or take it over")]
    AlreadyOwned { owner: Owner },
    #[error("{owner} already owns this complaint")]
    AlreadyOwner { owner: Owner },
    #[error("a handover to {to} is already pending")]
    HandoverPending { to: Owner },
    #[error("no handover is pending")]
    NoHandoverPending,
    #[error("the handover was offered to {to}; only they can answer it")]
    NotHandoverReceiver { to: Owner },
    #[error(
        "hand-back refused: {reason} is our own follow-up, never the customer's job; schedule a follow-up instead"
    )]
    HandBackRefused { reason: HandBackReason },
    #[error("due time {due_at} is not in the future (now {now})")]
    DueInPast { due_at: Timestamp, now: Timestamp },
    #[error("promise {promise_id} already exists")]
    PromiseExists { promise_id: PromiseId },
    #[error("promise {promise_id} not found")]
    PromiseNotFound { promise_id: PromiseId },
    #[error("promise {promise_id} was already kept")]
    PromiseAlreadyKept { promise_id: PromiseId },
    #[error("promise {promise_id} was withdrawn")]
    PromiseWithdrawn { promise_id: PromiseId },
    #[error("promise {promise_id} is already marked broken")]
    PromiseAlreadyBroken { promise_id: PromiseId },
    #[error("promise {promise_id} is not due until {due_at}")]
    PromiseNotDue {
        promise_id: PromiseId,
        due_at: Timestamp,
    },
    #[error("promise {promise_id} is already due at {due_at}")]
    DueTimeUnchanged {
        promise_id: PromiseId,
        due_at: Timestamp,
    },
    #[error("withdrawing promise {promise_id} needs the customer's consent")]
    ConsentRequired { promise_id: PromiseId },
    #[error("reminder rung {rung} for promise {promise_id} was already recorded")]
    ReminderAlreadyRecorded { promise_id: PromiseId, rung: u32 },
    #[error("{element} is non-negotiable: {explanation} (referral: {referral})")]
    NonNegotiableElement {
        element: ElementName,
        explanation: PublicText,
        referral: PublicText,
    },
    #[error("element {element} is already flagged non-negotiable")]
    ElementAlreadyFlagged { element: ElementName },
    #[error("follow-up {follow_up_id} already exists")]
    FollowUpExists { follow_up_id: FollowUpId },
    #[error("follow-up {follow_up_id} not found")]
    FollowUpNotFound { follow_up_id: FollowUpId },
    #[error("follow-up {follow_up_id} was already completed")]
    FollowUpAlreadyCompleted { follow_up_id: FollowUpId },
    #[error("complaint is already escalated to {to}")]
    AlreadyEscalated { to: EscalationTarget },
    #[error("complaint is already flagged sensitive")]
    AlreadySensitive,
    #[error("complaint is not flagged sensitive")]
    NotSensitive,
    #[error("resolution proposal {proposal_no} is still awaiting the customer's answer")]
    ProposalPending { proposal_no: u32 },
    #[error("no resolution proposal is awaiting the customer's answer")]
    NoPendingProposal,
    #[error("the customer has not accepted a resolution; resolve with an override reason or propose one")]
    ResolutionNotAccepted,
    #[error("complaint is already resolved")]
    AlreadyResolved,
    #[error("complaint is not resolved yet")]
    NotResolved,
    #[error("complaint cannot be closed: promise(s) {} still open", list(.promise_ids))]
    OpenPromises { promise_ids: Vec<PromiseId> },
    #[error("complaint cannot be closed: follow-up(s) {} still open", list(.follow_up_ids))]
    OpenFollowUps { follow_up_ids: Vec<FollowUpId> },
    #[error("complaint cannot be closed: obligation(s) to respond {} unmet", list(.obligation_nos))]
    UnmetObligations { obligation_nos: Vec<u32> },
    #[error("only a resolved or closed complaint can be reopened")]
    NotReopenable,
    #[error("the complaint has no {deadline} deadline")]
    NoSuchDeadline { deadline: DeadlineKind },
    #[error("the {deadline} deadline was already met")]
    DeadlineAlreadyMet { deadline: DeadlineKind },
    #[error("the {regime} regime allows no extension of the {deadline} deadline")]
    ExtensionNotAllowed {
        regime: Regime,
        deadline: DeadlineKind,
    },
    #[error("the {deadline} deadline was already extended once")]
    AlreadyExtended { deadline: DeadlineKind },
    #[error("the {deadline} deadline can be extended to {limit} at the latest")]
    ExtensionBeyondLimit {
        deadline: DeadlineKind,
        limit: Timestamp,
    },
    #[error("an extension must move the {deadline} deadline later than {due_at}")]
    ExtensionNotLater {
        deadline: DeadlineKind,
        due_at: Timestamp,
    },
    #[error("the deadline clock is already paused (since {paused_at})")]
    ClockAlreadyPaused { paused_at: Timestamp },
    #[error("the deadline clock is not paused")]
    ClockNotPaused,
    #[error("no deadline is running, so there is no clock to pause")]
    NothingToPause,
    #[error("the deadline clock is paused; {subject} waits until it resumes")]
    ClockPaused { subject: Subject },
    #[error("{subject} has no ladder rung {rung} scheduled")]
    RungNotScheduled { subject: Subject, rung: u32 },
    #[error("rung {rung} of {subject} was already reached")]
    RungAlreadyReached { subject: Subject, rung: u32 },
    #[error("rung {rung} of {subject} comes after rung {next}, which is not reached yet")]
    RungOutOfOrder {
        subject: Subject,
        rung: u32,
        next: u32,
    },
    #[error("rung {rung} of {subject} is not due until {due_at}")]
    RungNotDue {
        subject: Subject,
        rung: u32,
        due_at: Timestamp,
    },
    #[error("{subject} is no longer owed")]
    SubjectSettled { subject: Subject },
}

fn list<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl ComplaintError {
    /// The stable identifier of the refusal.
    /// Every slug that [`ComplaintError::slug`] gives, in its order (for documentation: the
    /// HTTP adapter lists them as the problem types of refused commands).
    pub const SLUGS: &'static [&'static str] = &[
        "complaint-not-found",
        "already-filed",
        "complaint-closed",
        "no-owner",
        "already-owned",
        "already-owner",
        "handover-pending",
        "no-handover-pending",
        "not-handover-receiver",
        "hand-back-refused",
        "due-in-past",
        "promise-exists",
        "promise-not-found",
        "promise-already-kept",
        "promise-withdrawn",
        "promise-already-broken",
        "promise-not-due",
        "due-time-unchanged",
        "consent-required",
        "reminder-already-recorded",
        "non-negotiable-element",
        "element-already-flagged",
        "follow-up-exists",
        "follow-up-not-found",
        "follow-up-already-completed",
        "already-escalated",
        "already-sensitive",
        "not-sensitive",
        "proposal-pending",
        "no-pending-proposal",
        "resolution-not-accepted",
        "already-resolved",
        "not-resolved",
        "open-promises",
        "open-follow-ups",
        "unmet-obligations",
        "not-reopenable",
        "no-such-deadline",
        "deadline-already-met",
        "extension-not-allowed",
        "already-extended",
        "extension-beyond-limit",
        "extension-not-later",
        "clock-already-paused",
        "clock-not-paused",
        "nothing-to-pause",
        "clock-paused",
        "rung-not-scheduled",
        "rung-already-reached",
        "rung-out-of-order",
        "rung-not-due",
        "subject-settled",
    ];

    pub fn slug(&self) -> &'static str {
        match self {
            Self::NotFiled => "complaint-not-found",
            Self::AlreadyFiled => "already-filed",
            Self::Closed => "complaint-closed",
            Self::NoOwner => "no-owner",
            Self::AlreadyOwned { .. } => "already-owned",
            Self::AlreadyOwner { .. } => "already-owner",
            Self::HandoverPending { .. } => "handover-pending",
            Self::NoHandoverPending => "no-handover-pending",
            Self::NotHandoverReceiver { .. } => "not-handover-receiver",
            Self::HandBackRefused { .. } => "hand-back-refused",
            Self::DueInPast { .. } => "due-in-past",
            Self::PromiseExists { .. } => "promise-exists",
            Self::PromiseNotFound { .. } => "promise-not-found",
            Self::PromiseAlreadyKept { .. } => "promise-already-kept",
            Self::PromiseWithdrawn { .. } => "promise-withdrawn",
            Self::PromiseAlreadyBroken { .. } => "promise-already-broken",
            Self::PromiseNotDue { .. } => "promise-not-due",
            Self::DueTimeUnchanged { .. } => "due-time-unchanged",
            Self::ConsentRequired { .. } => "consent-required",
            Self::ReminderAlreadyRecorded { .. } => "reminder-already-recorded",
            Self::NonNegotiableElement { .. } => "non-negotiable-element",
            Self::ElementAlreadyFlagged { .. } => "element-already-flagged",
            Self::FollowUpExists { .. } => "follow-up-exists",
            Self::FollowUpNotFound { .. } => "follow-up-not-found",
            Self::FollowUpAlreadyCompleted { .. } => "follow-up-already-completed",
            Self::AlreadyEscalated { .. } => "already-escalated",
            Self::AlreadySensitive => "already-sensitive",
            Self::NotSensitive => "not-sensitive",
            Self::ProposalPending { .. } => "proposal-pending",
            Self::NoPendingProposal => "no-pending-proposal",
            Self::ResolutionNotAccepted => "resolution-not-accepted",
            Self::AlreadyResolved => "already-resolved",
            Self::NotResolved => "not-resolved",
            Self::OpenPromises { .. } => "open-promises",
            Self::OpenFollowUps { .. } => "open-follow-ups",
            Self::UnmetObligations { .. } => "unmet-obligations",
            Self::NotReopenable => "not-reopenable",
            Self::NoSuchDeadline { .. } => "no-such-deadline",
            Self::DeadlineAlreadyMet { .. } => "deadline-already-met",
            Self::ExtensionNotAllowed { .. } => "extension-not-allowed",
            Self::AlreadyExtended { .. } => "already-extended",
            Self::ExtensionBeyondLimit { .. } => "extension-beyond-limit",
            Self::ExtensionNotLater { .. } => "extension-not-later",
            Self::ClockAlreadyPaused { .. } => "clock-already-paused",
            Self::ClockNotPaused => "clock-not-paused",
            Self::NothingToPause => "nothing-to-pause",
            Self::ClockPaused { .. } => "clock-paused",
            Self::RungNotScheduled { .. } => "rung-not-scheduled",
            Self::RungAlreadyReached { .. } => "rung-already-reached",
            Self::RungOutOfOrder { .. } => "rung-out-of-order",
            Self::RungNotDue { .. } => "rung-not-due",
            Self::SubjectSettled { .. } => "subject-settled",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ComplaintError;

    /// `SLUGS` lists exactly the slugs of `slug()`, read from its source: a variant added there
    /// without its slug here fails this test.
    #[test]
    fn the_slug_list_is_complete() {
        let source = include_str!("error.rs");
        let body = source
            .split("pub fn slug(&self)")
            .nth(1)
            .expect("slug() is defined here");
        let body = &body[..body.find("\n    }\n").expect("slug() ends")];
        let slugs: Vec<&str> = body
            .split("=> \"")
            .skip(1)
            .map(|rest| &rest[..rest.find('"').expect("a slug is quoted")])
            .collect();
        assert_eq!(slugs, ComplaintError::SLUGS);
    }
}
