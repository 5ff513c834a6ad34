//! Intake: filing a complaint, with the regulatory deadlines (and their ladders) the policy sets
//! from the moment it is filed.

use jiff::Timestamp;

use super::misrouted;
use super::shared::schedule_deadlines;
use crate::aggregate::{Complaint, Status};
use crate::command::ComplaintCommand;
use crate::deadline::Regime;
use crate::error::ComplaintError;
use crate::event::ComplaintEvent;
use crate::policy::Policy;
use crate::values::{SealedText, StaffId};

impl Complaint {
    pub(super) fn decide_intake(
        &self,
        actor: StaffId,
        command: ComplaintCommand<SealedText>,
        now: Timestamp,
        policy: &Policy,
    ) -> Result<Vec<ComplaintEvent>, ComplaintError> {
        use ComplaintCommand as C;
        use ComplaintEvent as E;

        match command {
            C::FileComplaint {
                customer,
                channel,
                category,
                description,
            } => {
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
                            by: actor,
                            at: now,
                        },
                    );
                }
                Ok(events)
            }
            other => misrouted("intake", &other),
        }
    }
}
