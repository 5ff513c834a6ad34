//! Escalation: sending a complaint to a team on request, and recording a conduct incident, which
//! reaches Security by itself when it is a threat or Security was involved.

use super::{misrouted, Command, Decided, Decision};
use crate::aggregate::Complaint;
use crate::command::ComplaintCommand as C;
use crate::error::ComplaintError;
use crate::event::ComplaintEvent as E;
use crate::values::{ConductKind, ConductResponse, EscalationReason, EscalationTarget};

impl Complaint {
    pub(super) fn decide_escalation(&self, command: Command, decision: Decision<'_>) -> Decided {
        let Decision { actor, now, .. } = decision;

        match command {
            C::Escalate { to, reason } => {
                if self.escalations.contains(&to) {
                    return Err(ComplaintError::AlreadyEscalated { to });
                }
                Ok(vec![E::Escalated {
                    to,
                    reason: EscalationReason::Requested,
                    note: Some(reason),
                    by: Some(actor),
                    at: now,
                }])
            }
            C::RecordConductIncident {
                kind,
                response,
                description,
                alias,
            } => {
                let mut events = vec![E::ConductIncidentRecorded {
                    incident_no: self.conduct_incidents + 1,
                    kind,
                    response,
                    description,
                    staff: actor,
                    alias,
                    at: now,
                }];
                // A threat, or a response that involves Security, always reaches Security.
                let security_reason = if kind == ConductKind::Threat {
                    Some(EscalationReason::Threat)
                } else if matches!(
                    response,
                    ConductResponse::Security | ConductResponse::PoliceReport
                ) {
                    Some(EscalationReason::ConductResponse)
                } else {
                    None
                };
                if let Some(reason) = security_reason {
                    if !self.escalations.contains(&EscalationTarget::Security) {
                        events.push(E::Escalated {
                            to: EscalationTarget::Security,
                            reason,
                            note: None,
                            by: None,
                            at: now,
                        });
                    }
                }
                Ok(events)
            }
            other => misrouted("escalation", &other),
        }
    }
}
