//! The `Complaint` aggregate: its state, the rules that decide which events a command produces,
//! and how each event changes the state. Every invariant of the design is enforced here:
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

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::command::{ComplaintCommand, IssuedCommand};
use crate::deadline::{DeadlineDue, DeadlineKind, Regime};
use crate::error::ComplaintError;
use crate::event::{ComplaintEvent, Discharge};
use crate::ladder::{self, Notified, Recipient, ScheduledRung, Subject};
use crate::policy::{ComplaintServices, Policy};
use crate::values::{
    Category, Channel, ConductKind, ConductResponse, CustomerReference, Direction, ElementName,
    EscalationReason, EscalationTarget, FollowUpId, HandBackReason, Owner, PromiseId, PromiseKind,
    PublicText, SealedText, SensitiveReason, StaffId,
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
    pub fn as_str(&self) -> &'static str {
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
            complaint.apply(event.clone());
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

    /// Decides which events `command`, issued by `actor` at `now`, produces. Pure: the same
    /// state, command, time and policy always give the same answer.
    pub fn decide(
        &self,
        actor: &StaffId,
        command: ComplaintCommand<SealedText>,
        now: Timestamp,
        policy: &Policy,
    ) -> Result<Vec<ComplaintEvent>, ComplaintError> {
        use ComplaintCommand as C;
        use ComplaintEvent as E;

        if let C::FileComplaint {
            customer,
            channel,
            category,
            description,
        } = command
        {
            if self.status != Status::NotFiled {
                return Err(ComplaintError::AlreadyFiled);
            }
            let regime = policy.regime_for(&category, channel);
            let deadlines = regime.deadlines(now, &policy.calendar, policy.acknowledge_within);
            let mut events = vec![E::ComplaintFiled {
                customer,
                channel,
                category,
                description,
                filed_by: actor.clone(),
                at: now,
            }];
            if regime != Regime::None || !deadlines.is_empty() {
                events.extend(schedule_deadlines(&deadlines, policy, now));
                events.insert(
                    1,
                    E::DeadlinesSet {
                        regime,
                        deadlines,
                        reason: None,
                        by: actor.clone(),
                        at: now,
                    },
                );
            }
            return Ok(events);
        }
        match self.status {
            Status::NotFiled => return Err(ComplaintError::NotFiled),
            Status::Closed if !matches!(command, C::Reopen { .. }) => {
                return Err(ComplaintError::Closed)
            }
            _ => {}
        }
        let actor = actor.clone();

        match command {
            C::FileComplaint { .. } => unreachable!("handled above"),
            C::LogContact {
                direction,
                channel,
                summary,
                request,
                alias,
            } => {
                let contact_no = self.contacts + 1;
                let mut events = vec![E::ContactLogged {
                    contact_no,
                    direction,
                    channel,
                    summary,
                    request,
                    staff: actor,
                    alias,
                    at: now,
                }];
                match direction {
                    Direction::Inbound => {
                        if let Some(paused_at) = self.clock_paused_at {
                            events.push(E::PausedClockContacted {
                                contact_no,
                                paused_at,
                                at: now,
                            });
                        }
                        if request {
                            let obligation_no = self.obligations.len() as u32 + 1;
                            let due_at = policy.calendar.add(now, policy.respond_within);
                            events.push(E::ObligationOpened {
                                obligation_no,
                                contact_no,
                                due_at,
                            });
                            events.extend(schedule(
                                Subject::Obligation { obligation_no },
                                due_at,
                                policy,
                                now,
                            ));
                        }
                        let repeats = self.inbound_without_resolution + 1;
                        if policy.repeat_contact_threshold > 0
                            && repeats >= policy.repeat_contact_threshold
                            && self.status != Status::Resolved
                            && !self.escalations.contains(&EscalationTarget::SpecialCare)
                        {
                            events.push(E::Escalated {
                                to: EscalationTarget::SpecialCare,
                                reason: EscalationReason::RepeatContacts,
                                note: None,
                                by: None,
                                at: now,
                            });
                        }
                    }
                    Direction::Outbound => {
                        events.extend(self.discharge_all(Discharge::Reply { contact_no }, now));
                        events.extend(self.meet(&[DeadlineKind::Acknowledge], now, policy));
                    }
                }
                Ok(events)
            }
            C::AssignOwner { owner } => match &self.owner {
                Some(current) if *current == owner => Err(ComplaintError::AlreadyOwner { owner }),
                Some(Owner::Person(_)) => Err(ComplaintError::AlreadyOwned {
                    owner: self.owner.clone().expect("matched Some"),
                }),
                current => {
                    let triage_due_at = owner
                        .is_team()
                        .then(|| policy.calendar.add(now, policy.triage_within));
                    Ok(vec![E::OwnerAssigned {
                        owner,
                        previous: current.clone(),
                        triage_due_at,
                        by: actor,
                        at: now,
                    }])
                }
            },
            C::OfferHandover { to, note } => {
                let from = self.owner.clone().ok_or(ComplaintError::NoOwner)?;
                if from == to {
                    return Err(ComplaintError::AlreadyOwner { owner: to });
                }
                if let Some(offer) = &self.pending_handover {
                    return Err(ComplaintError::HandoverPending {
                        to: offer.to.clone(),
                    });
                }
                Ok(vec![E::HandoverOffered {
                    from,
                    to,
                    note,
                    by: actor,
                    at: now,
                }])
            }
            C::AcceptHandover => {
                let offer = self.answerable_offer(&actor)?;
                Ok(vec![E::HandoverAccepted {
                    from: offer.from.clone(),
                    to: offer.to.clone(),
                    triage_due_at: offer
                        .to
                        .is_team()
                        .then(|| policy.calendar.add(now, policy.triage_within)),
                    by: actor,
                    at: now,
                }])
            }
            C::DeclineHandover { reason } => {
                let offer = self.answerable_offer(&actor)?;
                Ok(vec![E::HandoverDeclined {
                    to: offer.to.clone(),
                    reason,
                    by: actor,
                    at: now,
                }])
            }
            C::TakeOver { reason } => {
                let from = self.owner.clone().ok_or(ComplaintError::NoOwner)?;
                let to = Owner::Person(actor);
                if from == to {
                    return Err(ComplaintError::AlreadyOwner { owner: to });
                }
                Ok(vec![E::TakenOver {
                    from,
                    to,
                    reason,
                    at: now,
                }])
            }
            C::HandBackToCustomer { reason, note } => {
                if reason == HandBackReason::ThirdPartyDependency {
                    return Err(ComplaintError::HandBackRefused { reason });
                }
                Ok(vec![E::HandedBackToCustomer {
                    reason,
                    note,
                    by: actor,
                    at: now,
                }])
            }
            C::MakePromise {
                promise_id,
                kind,
                description,
                due_at,
                concerns,
            } => {
                if self.promises.contains_key(&promise_id) {
                    return Err(ComplaintError::PromiseExists { promise_id });
                }
                if due_at <= now {
                    return Err(ComplaintError::DueInPast { due_at, now });
                }
                self.refuse_non_negotiable(concerns.as_ref())?;
                let mut events = vec![E::PromiseMade {
                    promise_id,
                    kind,
                    description,
                    due_at,
                    promiser: actor,
                    concerns,
                    at: now,
                }];
                events.extend(schedule(
                    Subject::Promise { promise_id },
                    due_at,
                    policy,
                    now,
                ));
                events.extend(self.discharge_all(Discharge::Promise { promise_id }, now));
                events.extend(self.meet(&[DeadlineKind::Acknowledge], now, policy));
                Ok(events)
            }
            C::KeepPromise {
                promise_id,
                evidence,
            } => {
                let promise = self.outstanding_promise(promise_id)?;
                Ok(vec![E::PromiseKept {
                    promise_id,
                    evidence,
                    on_time: now <= promise.due_at,
                    by: actor,
                    at: now,
                }])
            }
            C::RenegotiatePromise {
                promise_id,
                due_at,
                reason,
                customer_agreed,
            } => {
                let promise = self.outstanding_promise(promise_id)?;
                self.refuse_non_negotiable(promise.concerns.as_ref())?;
                if due_at == promise.due_at {
                    return Err(ComplaintError::DueTimeUnchanged { promise_id, due_at });
                }
                if due_at <= now {
                    return Err(ComplaintError::DueInPast { due_at, now });
                }
                let mut events = vec![E::PromiseRenegotiated {
                    promise_id,
                    previous_due_at: promise.due_at,
                    due_at,
                    reason,
                    customer_agreed,
                    by: actor,
                    at: now,
                }];
                events.extend(schedule(
                    Subject::Promise { promise_id },
                    due_at,
                    policy,
                    now,
                ));
                Ok(events)
            }
            C::WithdrawPromise {
                promise_id,
                reason,
                customer_consented,
            } => {
                self.outstanding_promise(promise_id)?;
                if !customer_consented {
                    return Err(ComplaintError::ConsentRequired { promise_id });
                }
                Ok(vec![E::PromiseWithdrawn {
                    promise_id,
                    reason,
                    by: actor,
                    at: now,
                }])
            }
            C::MarkPromiseBroken { promise_id } => {
                let promise = self.outstanding_promise(promise_id)?;
                if promise.status == PromiseStatus::Broken {
                    return Err(ComplaintError::PromiseAlreadyBroken { promise_id });
                }
                if now <= promise.due_at {
                    return Err(ComplaintError::PromiseNotDue {
                        promise_id,
                        due_at: promise.due_at,
                    });
                }
                Ok(vec![E::PromiseBroken {
                    promise_id,
                    due_at: promise.due_at,
                    at: now,
                }])
            }
            C::RecordReminder { promise_id, rung } => {
                let promise = self.outstanding_promise(promise_id)?;
                if promise.reminders.contains(&rung) {
                    return Err(ComplaintError::ReminderAlreadyRecorded { promise_id, rung });
                }
                Ok(vec![E::ReminderRecorded {
                    promise_id,
                    rung,
                    at: now,
                }])
            }
            C::ScheduleFollowUp {
                follow_up_id,
                description,
                due_at,
            } => {
                if self.follow_ups.contains_key(&follow_up_id) {
                    return Err(ComplaintError::FollowUpExists { follow_up_id });
                }
                if due_at <= now {
                    return Err(ComplaintError::DueInPast { due_at, now });
                }
                let mut events = vec![E::FollowUpScheduled {
                    follow_up_id,
                    description,
                    due_at,
                    owner: actor,
                    at: now,
                }];
                events.extend(schedule(
                    Subject::FollowUp { follow_up_id },
                    due_at,
                    policy,
                    now,
                ));
                Ok(events)
            }
            C::CompleteFollowUp {
                follow_up_id,
                outcome,
            } => {
                let follow_up = self
                    .follow_ups
                    .get(&follow_up_id)
                    .ok_or(ComplaintError::FollowUpNotFound { follow_up_id })?;
                if follow_up.status != FollowUpStatus::Open {
                    return Err(ComplaintError::FollowUpAlreadyCompleted { follow_up_id });
                }
                Ok(vec![E::FollowUpCompleted {
                    follow_up_id,
                    outcome,
                    on_time: now <= follow_up.due_at,
                    by: actor,
                    at: now,
                }])
            }
            C::Escalate { to, reason } => {
                if self.escalations.contains(&to) {
                    return Err(ComplaintError::AlreadyEscalated { to });
                }
                Ok(vec![E::Escalated {
                    to,
                    reason: EscalationReason::Requested,
                    note: Some(reason),
                    by: Some(actor),
                    at: now,
                }])
            }
            C::RecordConductIncident {
                kind,
                response,
                description,
                alias,
            } => {
                let mut events = vec![E::ConductIncidentRecorded {
                    incident_no: self.conduct_incidents + 1,
                    kind,
                    response,
                    description,
                    staff: actor,
                    alias,
                    at: now,
                }];
                // A threat, or a response that involves Security, always reaches Security.
                let security_reason = if kind == ConductKind::Threat {
                    Some(EscalationReason::Threat)
                } else if matches!(
                    response,
                    ConductResponse::Security | ConductResponse::PoliceReport
                ) {
                    Some(EscalationReason::ConductResponse)
                } else {
                    None
                };
                if let Some(reason) = security_reason {
                    if !self.escalations.contains(&EscalationTarget::Security) {
                        events.push(E::Escalated {
                            to: EscalationTarget::Security,
                            reason,
                            note: None,
                            by: None,
                            at: now,
                        });
                    }
                }
                Ok(events)
            }
            C::FlagSensitive { reason, note } => {
                if self.sensitive.is_some() {
                    return Err(ComplaintError::AlreadySensitive);
                }
                Ok(vec![E::SensitiveCaseFlagged {
                    reason,
                    note,
                    by: actor,
                    at: now,
                }])
            }
            C::ClearSensitiveFlag { reason } => {
                if self.sensitive.is_none() {
                    return Err(ComplaintError::NotSensitive);
                }
                Ok(vec![E::SensitiveFlagCleared {
                    reason,
                    by: actor,
                    at: now,
                }])
            }
            C::FlagNonNegotiable {
                element,
                explanation,
                referral,
            } => {
                if self.non_negotiable.contains_key(&element) {
                    return Err(ComplaintError::ElementAlreadyFlagged { element });
                }
                Ok(vec![E::NonNegotiableElementFlagged {
                    element,
                    explanation,
                    referral,
                    by: actor,
                    at: now,
                }])
            }
            C::ProposeResolution { summary } => {
                self.owner.as_ref().ok_or(ComplaintError::NoOwner)?;
                if self.status == Status::Resolved {
                    return Err(ComplaintError::AlreadyResolved);
                }
                if let ResolutionState::Proposed { proposal_no } = self.resolution {
                    return Err(ComplaintError::ProposalPending { proposal_no });
                }
                let proposal_no = self.proposals + 1;
                let mut events = vec![E::ResolutionProposed {
                    proposal_no,
                    summary,
                    by: actor,
                    at: now,
                }];
                events.extend(self.discharge_all(Discharge::Resolution { proposal_no }, now));
                events.extend(self.meet(&[DeadlineKind::Acknowledge], now, policy));
                Ok(events)
            }
            C::RecordCustomerResponse { accepted, comment } => {
                if self.status == Status::Resolved {
                    return Err(ComplaintError::AlreadyResolved);
                }
                let ResolutionState::Proposed { proposal_no } = self.resolution else {
                    return Err(ComplaintError::NoPendingProposal);
                };
                Ok(vec![if accepted {
                    E::ResolutionAccepted {
                        proposal_no,
                        comment,
                        at: now,
                    }
                } else {
                    E::ResolutionRejected {
                        proposal_no,
                        comment,
                        at: now,
                    }
                }])
            }
            C::Resolve { override_reason } => {
                self.owner.as_ref().ok_or(ComplaintError::NoOwner)?;
                if self.status == Status::Resolved {
                    return Err(ComplaintError::AlreadyResolved);
                }
                let accepted = matches!(self.resolution, ResolutionState::Accepted { .. });
                if !accepted && override_reason.is_none() {
                    return Err(ComplaintError::ResolutionNotAccepted);
                }
                // The resolution ends any wait for the customer: the pause is over first, so the
                // deadlines it met are judged against their moved due times.
                let mut events = Vec::new();
                let mut resumed = self.clone();
                if let Some(paused_at) = self.clock_paused_at {
                    let event = self.resume(paused_at, &actor, now, policy);
                    resumed.apply(event.clone());
                    events.push(event);
                }
                events.push(E::ComplaintResolved {
                    override_reason,
                    by: actor,
                    at: now,
                });
                events.extend(self.discharge_all(Discharge::FinalResponse, now));
                events.extend(resumed.meet(
                    &[
                        DeadlineKind::Acknowledge,
                        DeadlineKind::SummaryResolution,
                        DeadlineKind::FinalResponse,
                    ],
                    now,
                    policy,
                ));
                Ok(events)
            }
            C::Close => {
                let promise_ids = self.open_promise_ids();
                if !promise_ids.is_empty() {
                    return Err(ComplaintError::OpenPromises { promise_ids });
                }
                let follow_up_ids = self.open_follow_up_ids();
                if !follow_up_ids.is_empty() {
                    return Err(ComplaintError::OpenFollowUps { follow_up_ids });
                }
                let obligation_nos = self.unmet_obligation_nos();
                if !obligation_nos.is_empty() {
                    return Err(ComplaintError::UnmetObligations { obligation_nos });
                }
                if self.status != Status::Resolved {
                    return Err(ComplaintError::NotResolved);
                }
                Ok(vec![E::ComplaintClosed { by: actor, at: now }])
            }
            C::Reopen { reason } => {
                if !matches!(self.status, Status::Resolved | Status::Closed) {
                    return Err(ComplaintError::NotReopenable);
                }
                Ok(vec![E::ComplaintReopened {
                    reason,
                    by: actor,
                    at: now,
                }])
            }
            C::RecalculateDeadlines { regime, reason } => {
                // A resolved complaint has had its final response; new deadlines would run
                // ladders on it.
                if self.status == Status::Resolved {
                    return Err(ComplaintError::AlreadyResolved);
                }
                let (Some(category), Some(channel), Some(filed_at)) =
                    (&self.category, self.channel, self.filed_at)
                else {
                    return Err(ComplaintError::NotFiled);
                };
                let regime = regime.unwrap_or_else(|| policy.regime_for(category, channel));
                let deadlines: Vec<DeadlineDue> = regime
                    .deadlines(filed_at, &policy.calendar, policy.acknowledge_within)
                    .into_iter()
                    .filter(|due| {
                        self.deadlines
                            .get(&due.deadline)
                            .is_none_or(|state| state.met.is_none())
                    })
                    .collect();
                let mut events = vec![E::DeadlinesSet {
                    regime,
                    deadlines: deadlines.clone(),
                    reason: Some(reason),
                    by: actor,
                    at: now,
                }];
                events.extend(schedule_deadlines(&deadlines, policy, now));
                Ok(events)
            }
            C::ExtendDeadline {
                deadline,
                due_at,
                notice,
            } => {
                let state = self
                    .deadlines
                    .get(&deadline)
                    .ok_or(ComplaintError::NoSuchDeadline { deadline })?;
                if state.met.is_some() {
                    return Err(ComplaintError::DeadlineAlreadyMet { deadline });
                }
                let regime = self.regime.unwrap_or(Regime::None);
                let limit = regime
                    .extension_limit(deadline, state.due_at, &policy.calendar)
                    .ok_or(ComplaintError::ExtensionNotAllowed { regime, deadline })?;
                if state.extended {
                    return Err(ComplaintError::AlreadyExtended { deadline });
                }
                let extended_to = due_at.unwrap_or(limit);
                if extended_to <= state.due_at {
                    return Err(ComplaintError::ExtensionNotLater {
                        deadline,
                        due_at: state.due_at,
                    });
                }
                if extended_to > limit {
                    return Err(ComplaintError::ExtensionBeyondLimit { deadline, limit });
                }
                let mut events = vec![E::DeadlineExtended {
                    deadline,
                    previous_due_at: state.due_at,
                    due_at: extended_to,
                    notice,
                    by: actor,
                    at: now,
                }];
                events.extend(schedule(
                    Subject::Deadline { deadline },
                    extended_to,
                    policy,
                    now,
                ));
                Ok(events)
            }
            C::PauseClock { reason } => {
                if let Some(paused_at) = self.clock_paused_at {
                    return Err(ComplaintError::ClockAlreadyPaused { paused_at });
                }
                if self.deadlines.values().all(|state| state.met.is_some()) {
                    return Err(ComplaintError::NothingToPause);
                }
                Ok(vec![E::ClockPaused {
                    reason,
                    by: actor,
                    at: now,
                }])
            }
            C::ResumeClock => {
                let paused_at = self.clock_paused_at.ok_or(ComplaintError::ClockNotPaused)?;
                let resumed = self.resume(paused_at, &actor, now, policy);
                let E::ClockResumed { deadlines, .. } = &resumed else {
                    unreachable!("resume() returns ClockResumed")
                };
                let schedules = schedule_deadlines(deadlines, policy, now);
                Ok(std::iter::once(resumed).chain(schedules).collect())
            }
            C::ReachRung { subject, rung } => self.reach_rung(subject, rung, now),
        }
    }

    /// The events of reaching rung `rung` of `subject`'s ladder at `now`.
    fn reach_rung(
        &self,
        subject: Subject,
        rung: u32,
        now: Timestamp,
    ) -> Result<Vec<ComplaintEvent>, ComplaintError> {
        use ComplaintEvent as E;
        let subject_due_at = self
            .subject_due_at(&subject)
            .ok_or(ComplaintError::SubjectSettled { subject })?;
        if self.clock_paused_at.is_some() && matches!(subject, Subject::Deadline { .. }) {
            return Err(ComplaintError::ClockPaused { subject });
        }
        let ladder = self
            .ladders
            .get(&subject)
            .filter(|ladder| ladder.subject_due_at == subject_due_at)
            .ok_or(ComplaintError::RungNotScheduled { subject, rung })?;
        let scheduled = ladder
            .rungs
            .iter()
            .find(|scheduled| scheduled.rung == rung)
            .ok_or(ComplaintError::RungNotScheduled { subject, rung })?;
        if ladder.reached.contains(&rung) {
            return Err(ComplaintError::RungAlreadyReached { subject, rung });
        }
        if let Some(next) = ladder.next_rung().filter(|next| next.rung != rung) {
            return Err(ComplaintError::RungOutOfOrder {
                subject,
                rung,
                next: next.rung,
            });
        }
        if now < scheduled.due_at {
            return Err(ComplaintError::RungNotDue {
                subject,
                rung,
                due_at: scheduled.due_at,
            });
        }

        let mut notified = Vec::new();
        let mut muted = Vec::new();
        for recipient in &scheduled.remind {
            let who = match recipient {
                Recipient::Promiser => match subject {
                    Subject::Promise { promise_id } => self
                        .promises
                        .get(&promise_id)
                        .map(|p| p.promiser.to_string()),
                    Subject::FollowUp { follow_up_id } => self
                        .follow_ups
                        .get(&follow_up_id)
                        .map(|f| f.owner.to_string()),
                    _ => None,
                },
                Recipient::Owner => self.owner.as_ref().map(ToString::to_string),
                Recipient::Customer if self.sensitive.is_some() => {
                    muted.push(*recipient);
                    continue;
                }
                _ => None,
            };
            notified.push(Notified {
                recipient: *recipient,
                who,
            });
        }
        let mut events = vec![E::RungReached {
            subject,
            rung,
            name: scheduled.name.clone(),
            due_at: scheduled.due_at,
            subject_due_at,
            notified,
            muted,
            at: now,
        }];
        if scheduled.mark_broken {
            if let Subject::Promise { promise_id } = subject {
                if self.promises.get(&promise_id).map(|p| p.status) == Some(PromiseStatus::Pending)
                {
                    events.push(E::PromiseBroken {
                        promise_id,
                        due_at: subject_due_at,
                        at: now,
                    });
                }
            }
        }
        if let Some(target) = scheduled.escalate {
            if !self.escalations.contains(&target) {
                events.push(E::Escalated {
                    to: target,
                    reason: EscalationReason::Ladder,
                    note: None,
                    by: None,
                    at: now,
                });
            }
        }
        Ok(events)
    }

    /// `ClockResumed` for a pause from `paused_at` to `now`, moving every deadline that was
    /// still running when the clock paused (one already overdue stays overdue).
    fn resume(
        &self,
        paused_at: Timestamp,
        actor: &StaffId,
        now: Timestamp,
        policy: &Policy,
    ) -> ComplaintEvent {
        let regime = self.regime.unwrap_or(Regime::None);
        let deadlines = self
            .deadlines
            .iter()
            .filter(|(_, state)| state.met.is_none() && state.due_at > paused_at)
            .map(|(deadline, state)| DeadlineDue {
                deadline: *deadline,
                due_at: regime.resume(*deadline, state.due_at, paused_at, now, &policy.calendar),
            })
            .collect();
        ComplaintEvent::ClockResumed {
            paused_at,
            deadlines,
            by: actor.clone(),
            at: now,
        }
    }

    /// `DeadlineMet` for each of `kinds` not yet met. While the clock is paused, a deadline that
    /// was running when it paused is judged against the due time the pause so far moves it to.
    fn meet(&self, kinds: &[DeadlineKind], now: Timestamp, policy: &Policy) -> Vec<ComplaintEvent> {
        let regime = self.regime.unwrap_or(Regime::None);
        kinds
            .iter()
            .filter_map(|deadline| {
                let state = self.deadlines.get(deadline)?;
                if state.met.is_some() {
                    return None;
                }
                let effective_due_at = match self.clock_paused_at {
                    Some(paused_at) if state.due_at > paused_at => {
                        regime.resume(*deadline, state.due_at, paused_at, now, &policy.calendar)
                    }
                    _ => state.due_at,
                };
                Some(ComplaintEvent::DeadlineMet {
                    deadline: *deadline,
                    due_at: state.due_at,
                    on_time: now <= effective_due_at,
                    at: now,
                })
            })
            .collect()
    }

    fn discharge_all(&self, by: Discharge, now: Timestamp) -> Vec<ComplaintEvent> {
        self.obligations
            .iter()
            .filter(|(_, obligation)| obligation.discharged.is_none())
            .map(
                |(obligation_no, obligation)| ComplaintEvent::ObligationDischarged {
                    obligation_no: *obligation_no,
                    by: by.clone(),
                    on_time: now <= obligation.due_at,
                    at: now,
                },
            )
            .collect()
    }

    /// Refuses a promise about an element flagged non-negotiable, with the explanation and
    /// referral the customer is owed instead.
    fn refuse_non_negotiable(&self, concerns: Option<&ElementName>) -> Result<(), ComplaintError> {
        let Some(element) = concerns else {
            return Ok(());
        };
        match self.non_negotiable.get(element) {
            Some(rule) => Err(ComplaintError::NonNegotiableElement {
                element: element.clone(),
                explanation: rule.explanation.clone(),
                referral: rule.referral.clone(),
            }),
            None => Ok(()),
        }
    }

    fn answerable_offer(&self, actor: &StaffId) -> Result<&HandoverOffer, ComplaintError> {
        let offer = self
            .pending_handover
            .as_ref()
            .ok_or(ComplaintError::NoHandoverPending)?;
        // A person's offer is answered by that person; a team's by anyone but the offerer,
        // who cannot move a complaint into a queue by accepting their own offer.
        let may_answer = match &offer.to {
            Owner::Person(receiver) => receiver == actor,
            Owner::Team(_) => offer.from != Owner::Person(actor.clone()),
        };
        if may_answer {
            Ok(offer)
        } else {
            Err(ComplaintError::NotHandoverReceiver {
                to: offer.to.clone(),
            })
        }
    }

    fn outstanding_promise(&self, promise_id: PromiseId) -> Result<&PromiseState, ComplaintError> {
        let promise = self
            .promises
            .get(&promise_id)
            .ok_or(ComplaintError::PromiseNotFound { promise_id })?;
        match promise.status {
            PromiseStatus::Kept { .. } => Err(ComplaintError::PromiseAlreadyKept { promise_id }),
            PromiseStatus::Withdrawn => Err(ComplaintError::PromiseWithdrawn { promise_id }),
            PromiseStatus::Pending | PromiseStatus::Broken => Ok(promise),
        }
    }
}

impl Aggregate for Complaint {
    const TYPE: &'static str = "Complaint";
    type Command = IssuedCommand;
    type Event = ComplaintEvent;
    type Error = ComplaintError;
    type Services = ComplaintServices;

    async fn handle(
        &mut self,
        command: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        let now = services.clock.now();
        let events = self.decide(&command.actor, command.command, now, &services.policy)?;
        for event in events {
            sink.write(event, self).await;
        }
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
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
}

/// `LadderScheduled` for a subject due at `due_at`, if the policy has a ladder for its kind.
fn schedule(
    subject: Subject,
    due_at: Timestamp,
    policy: &Policy,
    now: Timestamp,
) -> Option<ComplaintEvent> {
    let rungs = policy.ladder(subject.kind());
    if rungs.is_empty() {
        return None;
    }
    Some(ComplaintEvent::LadderScheduled {
        subject,
        subject_due_at: due_at,
        rungs: ladder::schedule(rungs, due_at, &policy.calendar),
        at: now,
    })
}

fn schedule_deadlines(
    deadlines: &[DeadlineDue],
    policy: &Policy,
    now: Timestamp,
) -> Vec<ComplaintEvent> {
    deadlines
        .iter()
        .filter_map(|due| {
            schedule(
                Subject::Deadline {
                    deadline: due.deadline,
                },
                due.due_at,
                policy,
                now,
            )
        })
        .collect()
}

/// `at + duration`, saturating at the end of representable time.
pub(crate) fn later(at: Timestamp, duration: jiff::SignedDuration) -> Timestamp {
    at.checked_add(duration).unwrap_or(Timestamp::MAX)
}

impl Complaint {
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
