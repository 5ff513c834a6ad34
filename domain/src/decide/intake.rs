//! Intake: filing a complaint, with the regulatory deadlines (and their ladders) the policy sets
//! from the moment it is filed.

use super::shared::schedule_deadlines;
use super::{misrouted, Command, Decided, Decision};
use crate::aggregate::{Complaint, Status};
use crate::command::ComplaintCommand as C;
use crate::deadline::Regime;
use crate::error::ComplaintError;
use crate::event::ComplaintEvent as E;

impl Complaint {
    pub(super) fn decide_intake(&self, command: Command, decision: Decision<'_>) -> Decided {
        let Decision { actor, now, policy } = decision;

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
