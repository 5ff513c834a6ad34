//! Rules several command families share, kept here once: scheduling the ladder of something
//! owed, meeting deadlines, resuming a paused clock, and discharging open obligations.

use jiff::Timestamp;

use crate::aggregate::Complaint;
use crate::deadline::{DeadlineDue, DeadlineKind, Regime};
use crate::error::ComplaintError;
use crate::event::{ComplaintEvent, Discharge};
use crate::ladder::{self, Subject};
use crate::policy::Policy;
use crate::values::StaffId;

impl Complaint {
    /// `ClockResumed` for a pause from `paused_at` to `now`, moving every deadline that was
    /// still running when the clock paused (one already overdue stays overdue).
    pub(super) fn resume(
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
    pub(super) fn meet(
        &self,
        kinds: &[DeadlineKind],
        now: Timestamp,
        policy: &Policy,
    ) -> Vec<ComplaintEvent> {
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

    pub(super) fn discharge_all(&self, by: Discharge, now: Timestamp) -> Vec<ComplaintEvent> {
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
}

/// `LadderScheduled` for a subject due at `due_at`, if the policy has a ladder for its kind.
pub(super) fn schedule(
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

/// `LadderScheduled` for a subject staff have just made due at `due_at` (a promise, a follow-up),
/// refused unless `due_at` is still ahead of `now`.
pub(super) fn schedule_ahead(
    subject: Subject,
    due_at: Timestamp,
    policy: &Policy,
    now: Timestamp,
) -> Result<Option<ComplaintEvent>, ComplaintError> {
    if due_at <= now {
        return Err(ComplaintError::DueInPast { due_at, now });
    }
    Ok(schedule(subject, due_at, policy, now))
}

pub(super) fn schedule_deadlines(
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
