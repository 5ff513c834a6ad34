//! Events: what happened to a complaint, in the past tense. The JSON of each variant is a
//! compatibility boundary (integrations and auditors read it for years): a change to a variant's
//! shape bumps [`EVENT_VERSION`] and ships an upcaster; the snapshot tests guard it.

use cqrs_es::DomainEvent;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::command::Customer;
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
