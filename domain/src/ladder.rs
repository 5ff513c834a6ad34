//! Ladders: the steps taken as something owed approaches and passes its due time. A ladder is a
//! list of rungs, each an offset from the due time along the business calendar and what happens
//! when it is reached: a reminder to the people accountable, the promise marked broken, an
//! escalation, a notice to the customer.
//!
//! When something owed gets a due time (a promise is made or renegotiated, a follow-up
//! scheduled, an obligation opened, a regulatory deadline set, extended or moved by a pause), the
//! aggregate records its whole schedule in a `LadderScheduled` event. The scheduler then only
//! reaches rungs of recorded schedules, in order, each at most once (invariant 5); a ladder
//! changed in the policy later applies to what is scheduled from then on and never rewrites a
//! schedule already recorded.

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::calendar::{BusinessCalendar, Offset};
use crate::deadline::DeadlineKind;
use crate::values::{EscalationTarget, FollowUpId, PromiseId};

/// Something owed by a due time, which a ladder watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Subject {
    Promise { promise_id: PromiseId },
    FollowUp { follow_up_id: FollowUpId },
    Obligation { obligation_no: u32 },
    Deadline { deadline: DeadlineKind },
}

impl Subject {
    pub fn kind(&self) -> SubjectKind {
        match self {
            Self::Promise { .. } => SubjectKind::Promise,
            Self::FollowUp { .. } => SubjectKind::FollowUp,
            Self::Obligation { .. } => SubjectKind::Obligation,
            Self::Deadline { deadline } => match deadline {
                DeadlineKind::Acknowledge => SubjectKind::Acknowledge,
                DeadlineKind::SummaryResolution => SubjectKind::SummaryResolution,
                DeadlineKind::FinalResponse => SubjectKind::FinalResponse,
            },
        }
    }

    /// A compact, stable text form (`promise:<uuid>`, `obligation:2`, `deadline:final-response`),
    /// used as a key in read models.
    pub fn key(&self) -> String {
        self.to_string()
    }

    /// Parses [`Subject::key`].
    pub fn parse_key(key: &str) -> Option<Self> {
        let (kind, id) = key.split_once(':')?;
        Some(match kind {
            "promise" => Self::Promise {
                promise_id: PromiseId::new(uuid::Uuid::parse_str(id).ok()?),
            },
            "follow-up" => Self::FollowUp {
                follow_up_id: FollowUpId::new(uuid::Uuid::parse_str(id).ok()?),
            },
            "obligation" => Self::Obligation {
                obligation_no: id.parse().ok()?,
            },
            "deadline" => Self::Deadline {
                deadline: serde_json::from_value(serde_json::Value::String(id.to_owned())).ok()?,
            },
            _ => return None,
        })
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Promise { promise_id } => write!(f, "promise:{promise_id}"),
            Self::FollowUp { follow_up_id } => write!(f, "follow-up:{follow_up_id}"),
            Self::Obligation { obligation_no } => write!(f, "obligation:{obligation_no}"),
            Self::Deadline { deadline } => write!(f, "deadline:{deadline}"),
        }
    }
}

crate::values::slug_enum!(
    /// The kinds of things owed, each with a ladder of its own in the policy.
    SubjectKind {
        Promise = "promise",
        FollowUp = "follow-up",
        Obligation = "obligation",
        Acknowledge = "acknowledge",
        SummaryResolution = "summary-resolution",
        FinalResponse = "final-response"
    }
);

crate::values::slug_enum!(
    /// Who a rung reminds or notifies. `customer` is the only customer-facing one, and is muted
    /// while a case is flagged sensitive.
    Recipient {
        Promiser = "promiser",
        Owner = "owner",
        Lead = "lead",
        Manager = "manager",
        SpecialCare = "special-care",
        Customer = "customer"
    }
);

/// One rung of a ladder in the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RungSpec {
    /// A short kebab-case name (`warning`, `breach`), recorded with the rung.
    pub name: String,
    /// When, relative to the due time: `-24h` is 24 business hours before, `+1d` one business day
    /// after.
    #[serde(with = "offset_text")]
    pub offset: Offset,
    #[serde(default)]
    pub remind: Vec<Recipient>,
    /// Promises only: the promise is marked broken (if it is still pending).
    #[serde(default)]
    pub mark_broken: bool,
    #[serde(default)]
    pub escalate: Option<EscalationTarget>,
}

/// A rung as scheduled for one due time: recorded in `LadderScheduled`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledRung {
    pub rung: u32,
    pub name: String,
    pub due_at: Timestamp,
    pub remind: Vec<Recipient>,
    pub mark_broken: bool,
    pub escalate: Option<EscalationTarget>,
}

/// Computes the schedule of `rungs` for a due time: rung numbers follow the order of their due
/// times (ties keep the policy's order), starting at 1.
pub fn schedule(
    rungs: &[RungSpec],
    due_at: Timestamp,
    calendar: &BusinessCalendar,
) -> Vec<ScheduledRung> {
    let mut timed: Vec<(Timestamp, usize)> = rungs
        .iter()
        .enumerate()
        .map(|(index, spec)| (calendar.offset(due_at, spec.offset), index))
        .collect();
    timed.sort();
    timed
        .into_iter()
        .enumerate()
        .map(|(position, (rung_due_at, index))| {
            let spec = &rungs[index];
            ScheduledRung {
                rung: position as u32 + 1,
                name: spec.name.clone(),
                due_at: rung_due_at,
                remind: spec.remind.clone(),
                mark_broken: spec.mark_broken,
                escalate: spec.escalate,
            }
        })
        .collect()
}

/// A person or role a rung reached, with the name it resolved to when known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notified {
    pub recipient: Recipient,
    /// The promiser or owner the role resolved to; `None` for roles resolved downstream (lead,
    /// manager, Special Care, the customer).
    pub who: Option<String>,
}

mod offset_text {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::calendar::Offset;

    pub fn serialize<S: Serializer>(offset: &Offset, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(offset)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Offset, D::Error> {
        let text = String::deserialize(deserializer)?;
        Offset::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "offset {text:?} is not 0 or [+-]N followed by m (business minutes), h (business hours) or d (business days)"
            ))
        })
    }
}
