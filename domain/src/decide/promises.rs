//! Promises to the customer: making one (refused about a non-negotiable element), keeping,
//! renegotiating, withdrawing it with consent, marking it broken once overdue, and recording
//! its reminders.

use super::shared::schedule_ahead;
use super::{misrouted, Command, Decided, Decision};
use crate::aggregate::{Complaint, PromiseState, PromiseStatus};
use crate::command::ComplaintCommand as C;
use crate::deadline::DeadlineKind;
use crate::error::ComplaintError;
use crate::event::{ComplaintEvent as E, Discharge};
use crate::ladder::Subject;
use crate::values::{ElementName, PromiseId};

impl Complaint {
    pub(super) fn decide_promise(&self, command: Command, decision: Decision<'_>) -> Decided {
        let Decision { actor, now, policy } = decision;

        match command {
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
                let ladder = schedule_ahead(Subject::Promise { promise_id }, due_at, policy, now)?;
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
                events.extend(ladder);
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
                let ladder = schedule_ahead(Subject::Promise { promise_id }, due_at, policy, now)?;
                let mut events = vec![E::PromiseRenegotiated {
                    promise_id,
                    previous_due_at: promise.due_at,
                    due_at,
                    reason,
                    customer_agreed,
                    by: actor,
                    at: now,
                }];
                events.extend(ladder);
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
            other => misrouted("promises", &other),
        }
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
