//! Resolution: proposing one, the customer's answer, resolving (with their acceptance or a
//! stated override), closing once nothing is owed any more, and reopening.

use super::{misrouted, Command, Decided, Decision};
use crate::aggregate::{Complaint, ResolutionState, Status};
use crate::command::ComplaintCommand as C;
use crate::deadline::DeadlineKind;
use crate::error::ComplaintError;
use crate::event::{ComplaintEvent as E, Discharge};

impl Complaint {
    pub(super) fn decide_resolution(&self, command: Command, decision: Decision<'_>) -> Decided {
        let Decision { actor, now, policy } = decision;

        match command {
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
                    resumed.evolve(event.clone());
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
            other => misrouted("resolution", &other),
        }
    }
}
