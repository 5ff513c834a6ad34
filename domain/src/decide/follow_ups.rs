//! Follow-ups: work staff schedule for themselves on a complaint, and its completion, on time
//! or late.

use super::shared::schedule_ahead;
use super::{misrouted, Command, Decided, Decision};
use crate::aggregate::{Complaint, FollowUpStatus};
use crate::command::ComplaintCommand as C;
use crate::error::ComplaintError;
use crate::event::ComplaintEvent as E;
use crate::ladder::Subject;

impl Complaint {
    pub(super) fn decide_follow_up(&self, command: Command, decision: Decision<'_>) -> Decided {
        let Decision { actor, now, policy } = decision;

        match command {
            C::ScheduleFollowUp {
                follow_up_id,
                description,
                due_at,
            } => {
                if self.follow_ups.contains_key(&follow_up_id) {
                    return Err(ComplaintError::FollowUpExists { follow_up_id });
                }
                let ladder =
                    schedule_ahead(Subject::FollowUp { follow_up_id }, due_at, policy, now)?;
                let mut events = vec![E::FollowUpScheduled {
                    follow_up_id,
                    description,
                    due_at,
                    owner: actor,
                    at: now,
                }];
                events.extend(ladder);
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
            other => misrouted("follow-up", &other),
        }
    }
}
