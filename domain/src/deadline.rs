//! Regulatory deadlines: the rules complaint handlers live under, as pure functions from the
//! moment a complaint was received to its due times. The aggregate records the results in a
//! `DeadlinesSet` event when a complaint is filed, so a policy changed later never rewrites a
//! deadline; a recalculation, an extension or a pause is a new event.
//!
//! The presets:
//! - `fca-disp` (UK FCA DISP 1.5 and 1.6): a summary resolution by the close of business on the
//!   third business day after the day of receipt; a final response within eight weeks.
//! - `fca-payment-services` (DISP 1.6.2A): a final response by the end of the fifteenth business
//!   day after receipt; once, with a holding reply, up to the thirty-fifth business day.
//! - `kifid` (the Dutch financial services complaints institute): the firm's final position
//!   within eight weeks, after which the customer may go to Kifid.
//! - `awb` (Dutch General Administrative Law Act, article 9:11): a decision within six weeks,
//!   extendable once by at most four weeks with written notice.
//! - `none`: only the acknowledgement the policy asks for.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::calendar::BusinessCalendar;

crate::values::slug_enum!(
    /// The set of rules a complaint's deadlines follow.
    Regime {
        None = "none",
        FcaDisp = "fca-disp",
        FcaPaymentServices = "fca-payment-services",
        Kifid = "kifid",
        Awb = "awb"
    }
);

crate::values::slug_enum!(
    /// A deadline a complaint can be under.
    DeadlineKind {
        Acknowledge = "acknowledge",
        SummaryResolution = "summary-resolution",
        FinalResponse = "final-response"
    }
);

/// How a deadline moves when the clock is paused: business deadlines by the business time the
/// pause lasted, calendar deadlines by its elapsed time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    Business,
    Calendar,
}

/// A deadline and when it falls due, as recorded in events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineDue {
    pub deadline: DeadlineKind,
    pub due_at: Timestamp,
}

impl Regime {
    /// The deadlines of a complaint received at `received`, earliest kind first. The
    /// acknowledgement deadline comes from the policy, not the regime.
    pub fn deadlines(
        self,
        received: Timestamp,
        calendar: &BusinessCalendar,
        acknowledge_within: Option<SignedDuration>,
    ) -> Vec<DeadlineDue> {
        let mut deadlines = Vec::new();
        if let Some(within) = acknowledge_within {
            deadlines.push(DeadlineDue {
                deadline: DeadlineKind::Acknowledge,
                due_at: calendar.add(received, within),
            });
        }
        let mut push = |deadline, due_at| deadlines.push(DeadlineDue { deadline, due_at });
        match self {
            Self::None => {}
            Self::FcaDisp => {
                push(
                    DeadlineKind::SummaryResolution,
                    calendar.end_of_business_day(received, 3),
                );
                push(DeadlineKind::FinalResponse, calendar.add_weeks(received, 8));
            }
            Self::FcaPaymentServices => push(
                DeadlineKind::FinalResponse,
                calendar.end_of_business_day(received, 15),
            ),
            Self::Kifid => push(DeadlineKind::FinalResponse, calendar.add_weeks(received, 8)),
            Self::Awb => push(DeadlineKind::FinalResponse, calendar.add_weeks(received, 6)),
        }
        deadlines
    }

    pub fn measure(self, deadline: DeadlineKind) -> Measure {
        match (self, deadline) {
            (Self::FcaDisp | Self::Kifid | Self::Awb, DeadlineKind::FinalResponse) => {
                Measure::Calendar
            }
            _ => Measure::Business,
        }
    }

    /// The latest a deadline may be extended to, once, from its current due time; `None` when
    /// the regime allows no extension of it.
    pub fn extension_limit(
        self,
        deadline: DeadlineKind,
        current_due_at: Timestamp,
        calendar: &BusinessCalendar,
    ) -> Option<Timestamp> {
        match (self, deadline) {
            // From the fifteenth to the thirty-fifth business day after receipt.
            (Self::FcaPaymentServices, DeadlineKind::FinalResponse) => {
                Some(calendar.end_of_business_day(current_due_at, 20))
            }
            (Self::Awb, DeadlineKind::FinalResponse) => Some(calendar.add_weeks(current_due_at, 4)),
            _ => None,
        }
    }

    /// Moves a deadline by a pause from `paused_at` to `resumed_at`.
    pub fn resume(
        self,
        deadline: DeadlineKind,
        due_at: Timestamp,
        paused_at: Timestamp,
        resumed_at: Timestamp,
        calendar: &BusinessCalendar,
    ) -> Timestamp {
        match self.measure(deadline) {
            Measure::Business => calendar.add(due_at, calendar.between(paused_at, resumed_at)),
            Measure::Calendar => due_at
                .checked_add(resumed_at.duration_since(paused_at))
                .unwrap_or(Timestamp::MAX),
        }
    }
}
