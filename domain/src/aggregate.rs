//! The `Complaint` aggregate's state: what a complaint is and owes, the questions asked of it,
//! and how each event changes it (`Complaint::evolve`). The rules that decide which events a
//! command produces live in `crate::decide`, which also implements cqrs-es `Aggregate` over this
//! state; this module knows nothing of commands or policy. Between them every invariant of the
//! design is enforced:
//!
//! 1. After triage a complaint always has exactly one accountable owner: `owner` is set by the
//!    first assignment and no event ever clears it; a handover is only an offer until accepted.
//! 2. Obligations to respond are discharged only by a reply, a promise or a resolution proposal.
//! 3. A complaint cannot be closed while a promise or follow-up is open or an obligation unmet.
//! 4. A promise's due time moves only through a renegotiation that carries a reason.
//! 5. A ladder rung (of a promise, follow-up, obligation or deadline, for one due time) is
//!    reached at most once, and only in order, once it is due.
//! 6. Nothing is deleted: every change is a new event.

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::deadline::{DeadlineKind, Regime};
use crate::event::{ComplaintEvent, Discharge};
use crate::ladder::{ScheduledRung, Subject};
use crate::values::{
    Category, Channel, CustomerReference, Direction, ElementName, EscalationTarget, FollowUpId,
    Owner, PromiseId, PromiseKind, PublicText, SensitiveReason, StaffId,
};

/// Where a complaint is in its life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// No `ComplaintFiled` yet: the complaint does not exist.
    #[default]
    NotFiled,
    /// Filed and waiting for triage (no owner yet).
    New,
    /// Owned and being handled.
    Open,
    Resolved,
    Closed,
}

impl Status {
    /// The statuses a filed complaint can have, by name, in the order of a complaint's life.
    pub const FILED_NAMES: [&'static str; 4] = [
        Self::New.as_str(),
        Self::Open.as_str(),
        Self::Resolved.as_str(),
        Self::Closed.as_str(),
    ];

    pub const fn as_str(&self) -> &'static str {
        match self {
            Self::NotFiled => "not-filed",
            Self::New => "new",
            Self::Open => "open",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoverOffer {
    pub from: Owner,
    pub to: Owner,
    pub offered_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Obligation {
    pub contact_no: u32,
    pub due_at: Timestamp,
    pub discharged: Option<Discharge>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PromiseStatus {
    /// Made and not yet due, or renegotiated to a new due time.
    Pending,
    /// Passed its due time unkept; still owed until kept, renegotiated or withdrawn.
    Broken,
    Kept {
        on_time: bool,
    },
    Withdrawn,
}

impl PromiseStatus {
    /// Whether the promise is still owed to the customer.
    pub fn is_outstanding(&self) -> bool {
        matches!(self, Self::Pending | Self::Broken)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromiseState {
    pub kind: PromiseKind,
    /// The element of the case this promise would change, if any.
    pub concerns: Option<ElementName>,
    pub promiser: StaffId,
    pub due_at: Timestamp,
    pub status: PromiseStatus,
    pub reminders: BTreeSet<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FollowUpStatus {
    Open,
    Completed { on_time: bool },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowUpState {
    pub owner: StaffId,
    pub due_at: Timestamp,
    pub status: FollowUpStatus,
}

/// The state of the resolution conversation with the customer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum ResolutionState {
    #[default]
    None,
    Proposed {
        proposal_no: u32,
    },
    Accepted {
        proposal_no: u32,
    },
    Rejected {
        proposal_no: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonNegotiable {
    pub explanation: PublicText,
    pub referral: PublicText,
}

/// A regulatory deadline of the complaint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineState {
    pub due_at: Timestamp,
    pub extended: bool,
    /// `Some(on_time)` once met.
    pub met: Option<bool>,
}

/// The recorded ladder of something owed, for its current due time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LadderState {
    pub subject_due_at: Timestamp,
    pub rungs: Vec<ScheduledRung>,
    pub reached: BTreeSet<u32>,
}

impl LadderState {
    /// The first rung not yet reached.
    pub fn next_rung(&self) -> Option<&ScheduledRung> {
        self.rungs
            .iter()
            .find(|rung| !self.reached.contains(&rung.rung))
    }
}

/// A complaint, as rebuilt from its events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Complaint {
    pub status: Status,
    pub customer_reference: Option<CustomerReference>,
    pub channel: Option<Channel>,
    pub category: Option<Category>,
    pub filed_at: Option<Timestamp>,
    pub owner: Option<Owner>,
    pub triage_due_at: Option<Timestamp>,
    pub pending_handover: Option<HandoverOffer>,
    pub contacts: u32,
    /// Inbound contacts since filing or the last resolution, for the repeat-contact rule.
    pub inbound_without_resolution: u32,
    pub obligations: BTreeMap<u32, Obligation>,
    pub promises: BTreeMap<PromiseId, PromiseState>,
    pub follow_ups: BTreeMap<FollowUpId, FollowUpState>,
    pub escalations: BTreeSet<EscalationTarget>,
    pub conduct_incidents: u32,
    pub hand_backs: u32,
    pub sensitive: Option<SensitiveReason>,
    pub non_negotiable: BTreeMap<ElementName, NonNegotiable>,
    pub proposals: u32,
    pub resolution: ResolutionState,
    /// The regime of the deadlines, once set.
    pub regime: Option<Regime>,
    pub deadlines: BTreeMap<DeadlineKind, DeadlineState>,
    /// Set while the deadline clock is paused.
    pub clock_paused_at: Option<Timestamp>,
    pub ladders: BTreeMap<Subject, LadderState>,
}

impl Complaint {
    /// Rebuilds a complaint from its events, oldest first.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a ComplaintEvent>) -> Self {
        let mut complaint = Self::default();
        for event in events {
            complaint.evolve(event.clone());
        }
        complaint
    }

    pub fn open_promise_ids(&self) -> Vec<PromiseId> {
        self.promises
            .iter()
            .filter(|(_, promise)| promise.status.is_outstanding())
            .map(|(id, _)| *id)
            .collect()
    }

    pub fn open_follow_up_ids(&self) -> Vec<FollowUpId> {
        self.follow_ups
            .iter()
            .filter(|(_, follow_up)| follow_up.status == FollowUpStatus::Open)
            .map(|(id, _)| *id)
            .collect()
    }

    pub fn unmet_obligation_nos(&self) -> Vec<u32> {
        self.obligations
            .iter()
            .filter(|(_, obligation)| obligation.discharged.is_none())
            .map(|(no, _)| *no)
            .collect()
    }

    /// The due time of something still owed, or `None` once it is settled.
    pub fn subject_due_at(&self, subject: &Subject) -> Option<Timestamp> {
        match subject {
            Subject::Promise { promise_id } => self
                .promises
                .get(promise_id)
                .filter(|promise| promise.status.is_outstanding())
                .map(|promise| promise.due_at),
            Subject::FollowUp { follow_up_id } => self
                .follow_ups
                .get(follow_up_id)
                .filter(|follow_up| follow_up.status == FollowUpStatus::Open)
                .map(|follow_up| follow_up.due_at),
            Subject::Obligation { obligation_no } => self
                .obligations
                .get(obligation_no)
                .filter(|obligation| obligation.discharged.is_none())
                .map(|obligation| obligation.due_at),
            Subject::Deadline { deadline } => self
                .deadlines
                .get(deadline)
                .filter(|state| state.met.is_none())
                .map(|state| state.due_at),
        }
    }

    /// The next rung due of every ladder still running, soonest first: what the scheduler
    /// will reach. Deadline ladders wait while the clock is paused.
    pub fn next_rungs(&self) -> Vec<(Subject, &ScheduledRung)> {
        let mut next: Vec<(Subject, &ScheduledRung)> = self
            .ladders
            .iter()
            .filter(|(subject, ladder)| {
                self.subject_due_at(subject) == Some(ladder.subject_due_at)
                    && !(self.clock_paused_at.is_some()
                        && matches!(subject, Subject::Deadline { .. }))
            })
            .filter_map(|(subject, ladder)| ladder.next_rung().map(|rung| (*subject, rung)))
            .collect();
        next.sort_by_key(|(subject, rung)| (rung.due_at, *subject));
        next
    }

    /// How `event` changes the complaint. It only moves state: every check was made when the
    /// event was decided, so replaying history never refuses anything.
    pub(crate) fn evolve(&mut self, event: ComplaintEvent) {
        use ComplaintEvent as E;
        match event {
            E::ComplaintFiled {
                customer,
                channel,
                category,
                at,
                ..
            } => {
                self.status = Status::New;
                self.customer_reference = Some(customer.reference);
                self.channel = Some(channel);
                self.category = Some(category);
                self.filed_at = Some(at);
            }
            E::ContactLogged {
                contact_no,
                direction,
                ..
            } => {
                self.contacts = contact_no;
                if direction == Direction::Inbound {
                    self.inbound_without_resolution += 1;
                }
            }
            E::ObligationOpened {
                obligation_no,
                contact_no,
                due_at,
            } => {
                self.obligations.insert(
                    obligation_no,
                    Obligation {
                        contact_no,
                        due_at,
                        discharged: None,
                    },
                );
            }
            E::ObligationDischarged {
                obligation_no, by, ..
            } => {
                if let Some(obligation) = self.obligations.get_mut(&obligation_no) {
                    obligation.discharged = Some(by);
                }
            }
            E::OwnerAssigned {
                owner,
                triage_due_at,
                ..
            } => {
                self.set_owner(owner);
                self.triage_due_at = triage_due_at;
            }
            E::HandoverOffered { from, to, at, .. } => {
                self.pending_handover = Some(HandoverOffer {
                    from,
                    to,
                    offered_at: at,
                });
            }
            E::HandoverAccepted {
                to, triage_due_at, ..
            } => {
                self.set_owner(to);
                self.triage_due_at = triage_due_at;
            }
            E::TakenOver { to, .. } => {
                self.set_owner(to);
                self.triage_due_at = None;
            }
            E::HandoverDeclined { .. } => self.pending_handover = None,
            E::HandedBackToCustomer { .. } => self.hand_backs += 1,
            E::PromiseMade {
                promise_id,
                kind,
                due_at,
                promiser,
                concerns,
                ..
            } => {
                self.promises.insert(
                    promise_id,
                    PromiseState {
                        kind,
                        concerns,
                        promiser,
                        due_at,
                        status: PromiseStatus::Pending,
                        reminders: BTreeSet::new(),
                    },
                );
            }
            E::PromiseKept {
                promise_id,
                on_time,
                ..
            } => self.set_promise_status(promise_id, PromiseStatus::Kept { on_time }),
            E::PromiseRenegotiated {
                promise_id, due_at, ..
            } => {
                if let Some(promise) = self.promises.get_mut(&promise_id) {
                    promise.due_at = due_at;
                    promise.status = PromiseStatus::Pending;
                }
            }
            E::PromiseWithdrawn { promise_id, .. } => {
                self.set_promise_status(promise_id, PromiseStatus::Withdrawn)
            }
            E::PromiseBroken { promise_id, .. } => {
                self.set_promise_status(promise_id, PromiseStatus::Broken)
            }
            E::ReminderRecorded {
                promise_id, rung, ..
            } => {
                if let Some(promise) = self.promises.get_mut(&promise_id) {
                    promise.reminders.insert(rung);
                }
            }
            E::FollowUpScheduled {
                follow_up_id,
                due_at,
                owner,
                ..
            } => {
                self.follow_ups.insert(
                    follow_up_id,
                    FollowUpState {
                        owner,
                        due_at,
                        status: FollowUpStatus::Open,
                    },
                );
            }
            E::FollowUpCompleted {
                follow_up_id,
                on_time,
                ..
            } => {
                if let Some(follow_up) = self.follow_ups.get_mut(&follow_up_id) {
                    follow_up.status = FollowUpStatus::Completed { on_time };
                }
            }
            E::Escalated { to, .. } => {
                self.escalations.insert(to);
            }
            E::ConductIncidentRecorded { incident_no, .. } => self.conduct_incidents = incident_no,
            E::SensitiveCaseFlagged { reason, .. } => self.sensitive = Some(reason),
            E::SensitiveFlagCleared { .. } => self.sensitive = None,
            E::NonNegotiableElementFlagged {
                element,
                explanation,
                referral,
                ..
            } => {
                self.non_negotiable.insert(
                    element,
                    NonNegotiable {
                        explanation,
                        referral,
                    },
                );
            }
            E::ResolutionProposed { proposal_no, .. } => {
                self.proposals = proposal_no;
                self.resolution = ResolutionState::Proposed { proposal_no };
            }
            E::ResolutionAccepted { proposal_no, .. } => {
                self.resolution = ResolutionState::Accepted { proposal_no };
            }
            E::ResolutionRejected { proposal_no, .. } => {
                self.resolution = ResolutionState::Rejected { proposal_no };
            }
            E::ComplaintResolved { .. } => {
                self.status = Status::Resolved;
                self.inbound_without_resolution = 0;
            }
            E::ComplaintClosed { .. } => self.status = Status::Closed,
            E::ComplaintReopened { .. } => {
                self.status = Status::Open;
                self.resolution = ResolutionState::None;
            }
            E::DeadlinesSet {
                regime, deadlines, ..
            } => {
                self.regime = Some(regime);
                self.deadlines.retain(|_, state| state.met.is_some());
                for due in deadlines {
                    self.deadlines.insert(
                        due.deadline,
                        DeadlineState {
                            due_at: due.due_at,
                            extended: false,
                            met: None,
                        },
                    );
                }
            }
            E::DeadlineExtended {
                deadline, due_at, ..
            } => {
                if let Some(state) = self.deadlines.get_mut(&deadline) {
                    state.due_at = due_at;
                    state.extended = true;
                }
            }
            E::DeadlineMet {
                deadline, on_time, ..
            } => {
                if let Some(state) = self.deadlines.get_mut(&deadline) {
                    state.met = Some(on_time);
                }
            }
            E::ClockPaused { at, .. } => self.clock_paused_at = Some(at),
            E::ClockResumed { deadlines, .. } => {
                self.clock_paused_at = None;
                for due in deadlines {
                    if let Some(state) = self.deadlines.get_mut(&due.deadline) {
                        state.due_at = due.due_at;
                    }
                }
            }
            E::PausedClockContacted { .. } => {}
            E::LadderScheduled {
                subject,
                subject_due_at,
                rungs,
                ..
            } => {
                self.ladders.insert(
                    subject,
                    LadderState {
                        subject_due_at,
                        rungs,
                        reached: BTreeSet::new(),
                    },
                );
            }
            E::RungReached { subject, rung, .. } => {
                if let Some(ladder) = self.ladders.get_mut(&subject) {
                    ladder.reached.insert(rung);
                }
            }
        }
    }

    fn set_owner(&mut self, owner: Owner) {
        self.owner = Some(owner);
        self.pending_handover = None;
        if self.status == Status::New {
            self.status = Status::Open;
        }
    }

    fn set_promise_status(&mut self, promise_id: PromiseId, status: PromiseStatus) {
        if let Some(promise) = self.promises.get_mut(&promise_id) {
            promise.status = status;
        }
    }
}
