//! Ownership: who is accountable for a complaint. Assignment, a handover offered and then
//! accepted or declined, a take-over, and handing the complaint back to the customer. The owner
//! only ever changes to someone, never to no one.

use super::{misrouted, Command, Decided, Decision};
use crate::aggregate::{Complaint, HandoverOffer};
use crate::command::ComplaintCommand as C;
use crate::error::ComplaintError;
use crate::event::ComplaintEvent as E;
use crate::values::{HandBackReason, Owner, StaffId};

impl Complaint {
    pub(super) fn decide_ownership(&self, command: Command, decision: Decision<'_>) -> Decided {
        let Decision { actor, now, policy } = decision;

        match command {
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
            other => misrouted("ownership", &other),
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
}
