//! Follow-ups: work staff schedule for themselves on a complaint, and its completion, on time
//! or late.

use jiff::Timestamp;

use super::misrouted;
use super::shared::schedule;
use crate::aggregate::{Complaint, FollowUpStatus};
use crate::command::ComplaintCommand;
use crate::error::ComplaintError;
use crate::event::ComplaintEvent;
use crate::ladder::Subject;
use crate::policy::Policy;
use crate::values::{SealedText, StaffId};

impl Complaint {
    pub(super) fn decide_follow_up(
        &self,
        actor: StaffId,
        command: ComplaintCommand<SealedText>,
        now: Timestamp,
        policy: &Policy,
    ) -> Result<Vec<ComplaintEvent>, ComplaintError> {
        use ComplaintCommand as C;
        use ComplaintEvent as E;

        match command {
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
            other => misrouted("follow-up", &other),
        }
    }
}
