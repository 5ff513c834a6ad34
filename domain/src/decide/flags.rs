//! Flags on a complaint: sensitive (which mutes reminders to the customer) set and cleared, and
//! elements flagged non-negotiable, which no promise may change.

use jiff::Timestamp;

use super::misrouted;
use crate::aggregate::Complaint;
use crate::command::ComplaintCommand;
use crate::error::ComplaintError;
use crate::event::ComplaintEvent;
use crate::values::{SealedText, StaffId};

impl Complaint {
    pub(super) fn decide_flag(
        &self,
        actor: StaffId,
        command: ComplaintCommand<SealedText>,
        now: Timestamp,
    ) -> Result<Vec<ComplaintEvent>, ComplaintError> {
        use ComplaintCommand as C;
        use ComplaintEvent as E;

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
