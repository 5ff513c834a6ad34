//! Contacts: logging a contact with the customer. An inbound request opens an obligation to
//! respond, repeated inbound contacts send the complaint to Special Care, and a reply discharges
//! what is owed and meets the acknowledgement deadline.

use super::shared::schedule;
use super::{misrouted, Command, Decided, Decision};
use crate::aggregate::{Complaint, Status};
use crate::command::ComplaintCommand as C;
use crate::deadline::DeadlineKind;
use crate::event::{ComplaintEvent as E, Discharge};
use crate::ladder::Subject;
use crate::values::{Direction, EscalationReason, EscalationTarget};

impl Complaint {
    pub(super) fn decide_contact(&self, command: Command, decision: Decision<'_>) -> Decided {
        let Decision { actor, now, policy } = decision;

        match command {
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
            other => misrouted("contacts", &other),
        }
    }
}
