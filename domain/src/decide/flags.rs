//! Flags on a complaint: sensitive (which mutes reminders to the customer) set and cleared, and
//! elements flagged non-negotiable, which no promise may change.

use super::{misrouted, Command, Decided, Decision};
use crate::aggregate::Complaint;
use crate::command::ComplaintCommand as C;
use crate::error::ComplaintError;
use crate::event::ComplaintEvent as E;

impl Complaint {
    pub(super) fn decide_flag(&self, command: Command, decision: Decision<'_>) -> Decided {
        let Decision { actor, now, .. } = decision;

        match command {
            C::FlagSensitive { reason, note } => {
                if self.sensitive.is_some() {
                    return Err(ComplaintError::AlreadySensitive);
                }
                Ok(vec![E::SensitiveCaseFlagged {
                    reason,
                    note,
                    by: actor,
                    at: now,
                }])
            }
            C::ClearSensitiveFlag { reason } => {
                if self.sensitive.is_none() {
                    return Err(ComplaintError::NotSensitive);
                }
                Ok(vec![E::SensitiveFlagCleared {
                    reason,
                    by: actor,
                    at: now,
                }])
            }
            C::FlagNonNegotiable {
                element,
                explanation,
                referral,
            } => {
                if self.non_negotiable.contains_key(&element) {
                    return Err(ComplaintError::ElementAlreadyFlagged { element });
                }
                Ok(vec![E::NonNegotiableElementFlagged {
                    element,
                    explanation,
                    referral,
                    by: actor,
                    at: now,
                }])
            }
            other => misrouted("flags", &other),
        }
    }
}
