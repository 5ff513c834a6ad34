//! Commands: what staff (or the scheduler) ask of a complaint. Free text is generic so that the
//! same command type is first decoded with [`PlainText`](crate::PlainText) and then sealed
//! into [`SealedText`] before it reaches the aggregate: the aggregate never sees personal data.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::deadline::{DeadlineKind, Regime};
use crate::ladder::Subject;
use crate::values::{
    Category, Channel, ConductKind, ConductResponse, CustomerReference, Direction, ElementName,
    EscalationTarget, FollowUpId, HandBackReason, Owner, PromiseId, PromiseKind, PublicText,
    SealedText, SensitiveReason, StaffAlias, StaffId,
};

/// The customer as given at intake. Name, email and phone are personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Customer<T> {
    pub reference: CustomerReference,
    pub name: T,
    /// An email address: `local@domain` with a dot in the domain, no whitespace, at most 254
    /// characters (checked at intake).
    pub email: Option<T>,
    /// A phone number: 5 to 20 digits, with `+`, spaces, `-`, `(`, `)` or `.` between them
    /// (checked at intake).
    pub phone: Option<T>,
}

impl<T> Customer<T> {
    pub fn try_map_text<U, E>(
        self,
        mut seal: impl FnMut(T) -> Result<U, E>,
    ) -> Result<Customer<U>, E> {
        Ok(Customer {
            reference: self.reference,
            name: seal(self.name)?,
            email: self.email.map(&mut seal).transpose()?,
            phone: self.phone.map(&mut seal).transpose()?,
        })
    }
}

/// Everything that can be asked of a complaint, tagged by `type` on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", deny_unknown_fields)]
pub enum ComplaintCommand<T = SealedText> {
    FileComplaint {
        customer: Customer<T>,
        channel: Channel,
        category: Category,
        description: T,
    },
    LogContact {
        direction: Direction,
        channel: Channel,
        summary: T,
        /// An inbound contact that asks for something opens an obligation to respond.
        #[serde(default)]
        request: bool,
        /// The name the member of staff used towards the customer, if not their own.
        #[serde(default)]
        alias: Option<StaffAlias>,
    },
    AssignOwner {
        owner: Owner,
    },
    OfferHandover {
        to: Owner,
        note: Option<T>,
    },
    AcceptHandover,
    DeclineHandover {
        reason: T,
    },
    TakeOver {
        reason: T,
    },
    HandBackToCustomer {
        reason: HandBackReason,
        note: T,
    },
    MakePromise {
        promise_id: PromiseId,
        kind: PromiseKind,
        description: T,
        due_at: Timestamp,
        /// The non-negotiable element this promise would change, if any.
        #[serde(default)]
        concerns: Option<ElementName>,
    },
    KeepPromise {
        promise_id: PromiseId,
        evidence: T,
    },
    RenegotiatePromise {
        promise_id: PromiseId,
        due_at: Timestamp,
        reason: T,
        customer_agreed: bool,
    },
    WithdrawPromise {
        promise_id: PromiseId,
        reason: T,
        customer_consented: bool,
    },
    MarkPromiseBroken {
        promise_id: PromiseId,
    },
    RecordReminder {
        promise_id: PromiseId,
        rung: u32,
    },
    ScheduleFollowUp {
        follow_up_id: FollowUpId,
        description: T,
        due_at: Timestamp,
    },
    CompleteFollowUp {
        follow_up_id: FollowUpId,
        outcome: T,
    },
    Escalate {
        to: EscalationTarget,
        reason: T,
    },
    RecordConductIncident {
        kind: ConductKind,
        response: ConductResponse,
        description: T,
        #[serde(default)]
        alias: Option<StaffAlias>,
    },
    FlagSensitive {
        reason: SensitiveReason,
        note: Option<T>,
    },
    ClearSensitiveFlag {
        reason: T,
    },
    FlagNonNegotiable {
        element: ElementName,
        explanation: PublicText,
        referral: PublicText,
    },
    ProposeResolution {
        summary: T,
    },
    RecordCustomerResponse {
        accepted: bool,
        comment: Option<T>,
    },
    Resolve {
        /// Resolving without the customer's acceptance needs a stated reason.
        override_reason: Option<T>,
    },
    Close,
    Reopen {
        reason: T,
    },
    /// Sets the deadlines again from the filing time, under the given regime or the one the
    /// policy picks now. Deadlines already met stay met.
    RecalculateDeadlines {
        #[serde(default)]
        regime: Option<Regime>,
        reason: T,
    },
    /// Extends a deadline once, as far as its regime allows (to `due_at`, or the limit if
    /// omitted), with the written notice sent to the customer.
    ExtendDeadline {
        deadline: DeadlineKind,
        #[serde(default)]
        due_at: Option<Timestamp>,
        notice: T,
    },
    /// Stops the deadline clock while we wait for the customer.
    PauseClock {
        reason: T,
    },
    ResumeClock,
    /// Reaches the next rung of a recorded ladder once it is due; issued by the scheduler.
    ReachRung {
        subject: Subject,
        rung: u32,
    },
}

impl<T> ComplaintCommand<T> {
    /// The command's name, as used in the `type` tag.
    pub fn name(&self) -> &'static str {
        match self {
            Self::FileComplaint { .. } => "FileComplaint",
            Self::LogContact { .. } => "LogContact",
            Self::AssignOwner { .. } => "AssignOwner",
            Self::OfferHandover { .. } => "OfferHandover",
            Self::AcceptHandover => "AcceptHandover",
            Self::DeclineHandover { .. } => "DeclineHandover",
            Self::TakeOver { .. } => "TakeOver",
            Self::HandBackToCustomer { .. } => "HandBackToCustomer",
            Self::MakePromise { .. } => "MakePromise",
            Self::KeepPromise { .. } => "KeepPromise",
            Self::RenegotiatePromise { .. } => "RenegotiatePromise",
            Self::WithdrawPromise { .. } => "WithdrawPromise",
            Self::MarkPromiseBroken { .. } => "MarkPromiseBroken",
            Self::RecordReminder { .. } => "RecordReminder",
            Self::ScheduleFollowUp { .. } => "ScheduleFollowUp",
            Self::CompleteFollowUp { .. } => "CompleteFollowUp",
            Self::Escalate { .. } => "Escalate",
            Self::RecordConductIncident { .. } => "RecordConductIncident",
            Self::FlagSensitive { .. } => "FlagSensitive",
            Self::ClearSensitiveFlag { .. } => "ClearSensitiveFlag",
            Self::FlagNonNegotiable { .. } => "FlagNonNegotiable",
            Self::ProposeResolution { .. } => "ProposeResolution",
            Self::RecordCustomerResponse { .. } => "RecordCustomerResponse",
            Self::Resolve { .. } => "Resolve",
            Self::Close => "Close",
            Self::Reopen { .. } => "Reopen",
            Self::RecalculateDeadlines { .. } => "RecalculateDeadlines",
            Self::ExtendDeadline { .. } => "ExtendDeadline",
            Self::PauseClock { .. } => "PauseClock",
            Self::ResumeClock => "ResumeClock",
            Self::ReachRung { .. } => "ReachRung",
        }
    }

    /// Every command name, in declaration order.
    pub const NAMES: &'static [&'static str] = &[
        "FileComplaint",
        "LogContact",
        "AssignOwner",
        "OfferHandover",
        "AcceptHandover",
        "DeclineHandover",
        "TakeOver",
        "HandBackToCustomer",
        "MakePromise",
        "KeepPromise",
        "RenegotiatePromise",
        "WithdrawPromise",
        "MarkPromiseBroken",
        "RecordReminder",
        "ScheduleFollowUp",
        "CompleteFollowUp",
        "Escalate",
        "RecordConductIncident",
        "FlagSensitive",
        "ClearSensitiveFlag",
        "FlagNonNegotiable",
        "ProposeResolution",
        "RecordCustomerResponse",
        "Resolve",
        "Close",
        "Reopen",
        "RecalculateDeadlines",
        "ExtendDeadline",
        "PauseClock",
        "ResumeClock",
        "ReachRung",
    ];

    /// The name the member of staff used towards the customer in this command, if not their
    /// own: integrations see it in place of the person behind it.
    pub fn alias(&self) -> Option<&StaffAlias> {
        match self {
            Self::LogContact { alias, .. } | Self::RecordConductIncident { alias, .. } => {
                alias.as_ref()
            }
            _ => None,
        }
    }

    /// Applies `seal` to every free-text field, keeping everything else as it is.
    pub fn try_map_text<U, E>(
        self,
        mut seal: impl FnMut(T) -> Result<U, E>,
    ) -> Result<ComplaintCommand<U>, E> {
        use ComplaintCommand as C;
        Ok(match self {
            C::FileComplaint {
                customer,
                channel,
                category,
                description,
            } => C::FileComplaint {
                customer: customer.try_map_text(&mut seal)?,
                channel,
                category,
                description: seal(description)?,
            },
            C::LogContact {
                direction,
                channel,
                summary,
                request,
                alias,
            } => C::LogContact {
                direction,
                channel,
                summary: seal(summary)?,
                request,
                alias,
            },
            C::AssignOwner { owner } => C::AssignOwner { owner },
            C::OfferHandover { to, note } => C::OfferHandover {
                to,
                note: note.map(&mut seal).transpose()?,
            },
            C::AcceptHandover => C::AcceptHandover,
            C::DeclineHandover { reason } => C::DeclineHandover {
                reason: seal(reason)?,
            },
            C::TakeOver { reason } => C::TakeOver {
                reason: seal(reason)?,
            },
            C::HandBackToCustomer { reason, note } => C::HandBackToCustomer {
                reason,
                note: seal(note)?,
            },
            C::MakePromise {
                promise_id,
                kind,
                description,
                due_at,
                concerns,
            } => C::MakePromise {
                promise_id,
                kind,
                description: seal(description)?,
                due_at,
                concerns,
            },
            C::KeepPromise {
                promise_id,
                evidence,
            } => C::KeepPromise {
                promise_id,
                evidence: seal(evidence)?,
            },
            C::RenegotiatePromise {
                promise_id,
                due_at,
                reason,
                customer_agreed,
            } => C::RenegotiatePromise {
                promise_id,
                due_at,
                reason: seal(reason)?,
                customer_agreed,
            },
            C::WithdrawPromise {
                promise_id,
                reason,
                customer_consented,
            } => C::WithdrawPromise {
                promise_id,
                reason: seal(reason)?,
                customer_consented,
            },
            C::MarkPromiseBroken { promise_id } => C::MarkPromiseBroken { promise_id },
            C::RecordReminder { promise_id, rung } => C::RecordReminder { promise_id, rung },
            C::ScheduleFollowUp {
                follow_up_id,
                description,
                due_at,
            } => C::ScheduleFollowUp {
                follow_up_id,
                description: seal(description)?,
                due_at,
            },
            C::CompleteFollowUp {
                follow_up_id,
                outcome,
            } => C::CompleteFollowUp {
                follow_up_id,
                outcome: seal(outcome)?,
            },
            C::Escalate { to, reason } => C::Escalate {
                to,
                reason: seal(reason)?,
            },
            C::RecordConductIncident {
                kind,
                response,
                description,
                alias,
            } => C::RecordConductIncident {
                kind,
                response,
                description: seal(description)?,
                alias,
            },
            C::FlagSensitive { reason, note } => C::FlagSensitive {
                reason,
                note: note.map(&mut seal).transpose()?,
            },
            C::ClearSensitiveFlag { reason } => C::ClearSensitiveFlag {
                reason: seal(reason)?,
            },
            C::FlagNonNegotiable {
                element,
                explanation,
                referral,
            } => C::FlagNonNegotiable {
                element,
                explanation,
                referral,
            },
            C::ProposeResolution { summary } => C::ProposeResolution {
                summary: seal(summary)?,
            },
            C::RecordCustomerResponse { accepted, comment } => C::RecordCustomerResponse {
                accepted,
                comment: comment.map(&mut seal).transpose()?,
            },
            C::Resolve { override_reason } => C::Resolve {
                override_reason: override_reason.map(&mut seal).transpose()?,
            },
            C::Close => C::Close,
            C::Reopen { reason } => C::Reopen {
                reason: seal(reason)?,
            },
            C::RecalculateDeadlines { regime, reason } => C::RecalculateDeadlines {
                regime,
                reason: seal(reason)?,
            },
            C::ExtendDeadline {
                deadline,
                due_at,
                notice,
            } => C::ExtendDeadline {
                deadline,
                due_at,
                notice: seal(notice)?,
            },
            C::PauseClock { reason } => C::PauseClock {
                reason: seal(reason)?,
            },
            C::ResumeClock => C::ResumeClock,
            C::ReachRung { subject, rung } => C::ReachRung { subject, rung },
        })
    }
}

/// A sealed command together with the member of staff (or service) that issued it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCommand {
    pub actor: StaffId,
    pub command: ComplaintCommand<SealedText>,
}
