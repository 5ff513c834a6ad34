//! The promise clock: regulatory deadlines recalculated or extended, the deadline clock paused
//! and resumed while we wait for the customer, and ladder rungs reached in order, once, when
//! due (issued by the scheduler).

use jiff::Timestamp;

use super::shared::{schedule, schedule_deadlines};
use super::{misrouted, Command, Decided, Decision};
use crate::aggregate::{Complaint, PromiseStatus, Status};
use crate::command::ComplaintCommand as C;
use crate::deadline::{DeadlineDue, Regime};
use crate::error::ComplaintError;
use crate::event::ComplaintEvent as E;
use crate::ladder::{Notified, Recipient, Subject};
use crate::values::EscalationReason;

impl Complaint {
    pub(super) fn decide_clock(&self, command: Command, decision: Decision<'_>) -> Decided {
        let Decision { actor, now, policy } = decision;

        match command {
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
            other => misrouted("clock", &other),
        }
    }

    /// The events of reaching rung `rung` of `subject`'s ladder at `now`.
    fn reach_rung(&self, subject: Subject, rung: u32, now: Timestamp) -> Decided {
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
}
