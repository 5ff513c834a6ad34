//! Events: what happened to a complaint, in the past tense. The JSON of each variant is a
//! compatibility boundary (integrations and auditors read it for years): a change to a variant's
//! shape bumps [`EVENT_VERSION`] and ships an upcaster; the snapshot tests guard it.

use cqrs_es::DomainEvent;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::command::Customer;
use crate::deadline::{DeadlineDue, DeadlineKind, Regime};
use crate::ladder::{Notified, Recipient, ScheduledRung, Subject};
use crate::values::{
    Category, Channel, ConductKind, ConductResponse, Direction, ElementName, EscalationReason,
    EscalationTarget, FollowUpId, HandBackReason, Owner, PromiseId, PromiseKind, PublicText,
    SealedText, SensitiveReason, StaffAlias, StaffId,
};

/// The schema version of every event variant today.
pub const EVENT_VERSION: &str = "1.0";

/// What discharged an obligation to respond: only a reply, a promise or a resolution can
/// (invariant 2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Discharge {
    Reply {
        contact_no: u32,
    },
    Promise {
        promise_id: PromiseId,
    },
    Resolution {
        proposal_no: u32,
    },
    /// Resolved without an accepted proposal: the final response answers what was asked.
    FinalResponse,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ComplaintEvent {
    ComplaintFiled {
        customer: Customer<SealedText>,
        channel: Channel,
        category: Category,
        description: SealedText,
        filed_by: StaffId,
        at: Timestamp,
    },
    ContactLogged {
        contact_no: u32,
        direction: Direction,
        channel: Channel,
        summary: SealedText,
        request: bool,
        staff: StaffId,
        alias: Option<StaffAlias>,
        at: Timestamp,
    },
    ObligationOpened {
        obligation_no: u32,
        contact_no: u32,
        due_at: Timestamp,
    },
    ObligationDischarged {
        obligation_no: u32,
        by: Discharge,
        on_time: bool,
        at: Timestamp,
    },
    OwnerAssigned {
        owner: Owner,
        previous: Option<Owner>,
        triage_due_at: Option<Timestamp>,
        by: StaffId,
        at: Timestamp,
    },
    HandoverOffered {
        from: Owner,
        to: Owner,
        note: Option<SealedText>,
        by: StaffId,
        at: Timestamp,
    },
    HandoverAccepted {
        from: Owner,
        to: Owner,
        /// Set when the receiver is a team queue: a person must pick it up by then.
        triage_due_at: Option<Timestamp>,
        by: StaffId,
        at: Timestamp,
    },
    HandoverDeclined {
        to: Owner,
        reason: SealedText,
        by: StaffId,
        at: Timestamp,
    },
    TakenOver {
        from: Owner,
        to: Owner,
        reason: SealedText,
        at: Timestamp,
    },
    HandedBackToCustomer {
        reason: HandBackReason,
        note: SealedText,
        by: StaffId,
        at: Timestamp,
    },
    PromiseMade {
        promise_id: PromiseId,
        kind: PromiseKind,
        description: SealedText,
        due_at: Timestamp,
        promiser: StaffId,
        concerns: Option<ElementName>,
        at: Timestamp,
    },
    PromiseKept {
        promise_id: PromiseId,
        evidence: SealedText,
        on_time: bool,
        by: StaffId,
        at: Timestamp,
    },
    PromiseRenegotiated {
        promise_id: PromiseId,
        previous_due_at: Timestamp,
        due_at: Timestamp,
        reason: SealedText,
        customer_agreed: bool,
        by: StaffId,
        at: Timestamp,
    },
    PromiseWithdrawn {
        promise_id: PromiseId,
        reason: SealedText,
        by: StaffId,
        at: Timestamp,
    },
    PromiseBroken {
        promise_id: PromiseId,
        due_at: Timestamp,
        at: Timestamp,
    },
    /// A reminder recorded by hand; ladders record `RungReached` instead.
    ReminderRecorded {
        promise_id: PromiseId,
        rung: u32,
        at: Timestamp,
    },
    FollowUpScheduled {
        follow_up_id: FollowUpId,
        description: SealedText,
        due_at: Timestamp,
        owner: StaffId,
        at: Timestamp,
    },
    FollowUpCompleted {
        follow_up_id: FollowUpId,
        outcome: SealedText,
        on_time: bool,
        by: StaffId,
        at: Timestamp,
    },
    Escalated {
        to: EscalationTarget,
        reason: EscalationReason,
        note: Option<SealedText>,
        by: Option<StaffId>,
        at: Timestamp,
    },
    ConductIncidentRecorded {
        incident_no: u32,
        kind: ConductKind,
        response: ConductResponse,
        description: SealedText,
        staff: StaffId,
        alias: Option<StaffAlias>,
        at: Timestamp,
    },
    SensitiveCaseFlagged {
        reason: SensitiveReason,
        note: Option<SealedText>,
        by: StaffId,
        at: Timestamp,
    },
    SensitiveFlagCleared {
        reason: SealedText,
        by: StaffId,
        at: Timestamp,
    },
    NonNegotiableElementFlagged {
        element: ElementName,
        explanation: PublicText,
        referral: PublicText,
        by: StaffId,
        at: Timestamp,
    },
    ResolutionProposed {
        proposal_no: u32,
        summary: SealedText,
        by: StaffId,
        at: Timestamp,
    },
    ResolutionAccepted {
        proposal_no: u32,
        comment: Option<SealedText>,
        at: Timestamp,
    },
    ResolutionRejected {
        proposal_no: u32,
        comment: Option<SealedText>,
        at: Timestamp,
    },
    ComplaintResolved {
        override_reason: Option<SealedText>,
        by: StaffId,
        at: Timestamp,
    },
    ComplaintClosed {
        by: StaffId,
        at: Timestamp,
    },
    ComplaintReopened {
        reason: SealedText,
        by: StaffId,
        at: Timestamp,
    },
    /// The complaint's regulatory deadlines, computed when it was filed (no `reason`) or
    /// recalculated (with the reason). Replaces every deadline not yet met.
    DeadlinesSet {
        regime: Regime,
        deadlines: Vec<DeadlineDue>,
        reason: Option<SealedText>,
        by: StaffId,
        at: Timestamp,
    },
    /// A deadline extended under its regime (once), with the written notice sent.
    DeadlineExtended {
        deadline: DeadlineKind,
        previous_due_at: Timestamp,
        due_at: Timestamp,
        notice: SealedText,
        by: StaffId,
        at: Timestamp,
    },
    /// A deadline met: the acknowledgement by the first response, the others by the resolution.
    DeadlineMet {
        deadline: DeadlineKind,
        due_at: Timestamp,
        on_time: bool,
        at: Timestamp,
    },
    /// The deadline clock stopped while we wait for the customer.
    ClockPaused {
        reason: SealedText,
        by: StaffId,
        at: Timestamp,
    },
    /// The deadline clock started again; every deadline not yet met moved by the pause.
    ClockResumed {
        paused_at: Timestamp,
        deadlines: Vec<DeadlineDue>,
        by: StaffId,
        at: Timestamp,
    },
    /// The customer contacted us while the clock was paused for waiting on them: the pause
    /// overlaps a customer contact and deserves a look.
    PausedClockContacted {
        contact_no: u32,
        paused_at: Timestamp,
        at: Timestamp,
    },
    /// The ladder of something owed, scheduled for its current due time.
    LadderScheduled {
        subject: Subject,
        subject_due_at: Timestamp,
        rungs: Vec<ScheduledRung>,
        at: Timestamp,
    },
    /// A ladder rung reached: `due_at` is when it was due, `at` when it was noticed.
    RungReached {
        subject: Subject,
        rung: u32,
        name: String,
        due_at: Timestamp,
        subject_due_at: Timestamp,
        notified: Vec<Notified>,
        /// Customer-facing steps muted because the case is flagged sensitive.
        muted: Vec<Recipient>,
        at: Timestamp,
    },
}

impl ComplaintEvent {
    /// The variant name, which is also the stored `event_type`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::ComplaintFiled { .. } => "ComplaintFiled",
            Self::ContactLogged { .. } => "ContactLogged",
            Self::ObligationOpened { .. } => "ObligationOpened",
            Self::ObligationDischarged { .. } => "ObligationDischarged",
            Self::OwnerAssigned { .. } => "OwnerAssigned",
            Self::HandoverOffered { .. } => "HandoverOffered",
            Self::HandoverAccepted { .. } => "HandoverAccepted",
            Self::HandoverDeclined { .. } => "HandoverDeclined",
            Self::TakenOver { .. } => "TakenOver",
            Self::HandedBackToCustomer { .. } => "HandedBackToCustomer",
            Self::PromiseMade { .. } => "PromiseMade",
            Self::PromiseKept { .. } => "PromiseKept",
            Self::PromiseRenegotiated { .. } => "PromiseRenegotiated",
            Self::PromiseWithdrawn { .. } => "PromiseWithdrawn",
            Self::PromiseBroken { .. } => "PromiseBroken",
            Self::ReminderRecorded { .. } => "ReminderRecorded",
            Self::FollowUpScheduled { .. } => "FollowUpScheduled",
            Self::FollowUpCompleted { .. } => "FollowUpCompleted",
            Self::Escalated { .. } => "Escalated",
            Self::ConductIncidentRecorded { .. } => "ConductIncidentRecorded",
            Self::SensitiveCaseFlagged { .. } => "SensitiveCaseFlagged",
            Self::SensitiveFlagCleared { .. } => "SensitiveFlagCleared",
            Self::NonNegotiableElementFlagged { .. } => "NonNegotiableElementFlagged",
            Self::ResolutionProposed { .. } => "ResolutionProposed",
            Self::ResolutionAccepted { .. } => "ResolutionAccepted",
            Self::ResolutionRejected { .. } => "ResolutionRejected",
            Self::ComplaintResolved { .. } => "ComplaintResolved",
            Self::ComplaintClosed { .. } => "ComplaintClosed",
            Self::ComplaintReopened { .. } => "ComplaintReopened",
            Self::DeadlinesSet { .. } => "DeadlinesSet",
            Self::DeadlineExtended { .. } => "DeadlineExtended",
            Self::DeadlineMet { .. } => "DeadlineMet",
            Self::ClockPaused { .. } => "ClockPaused",
            Self::ClockResumed { .. } => "ClockResumed",
            Self::PausedClockContacted { .. } => "PausedClockContacted",
            Self::LadderScheduled { .. } => "LadderScheduled",
            Self::RungReached { .. } => "RungReached",
        }
    }
}

impl DomainEvent for ComplaintEvent {
    fn event_type(&self) -> String {
        self.name().to_owned()
    }

    fn event_version(&self) -> String {
        EVENT_VERSION.to_owned()
    }
}
