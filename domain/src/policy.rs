//! The ports and settings a command needs besides the complaint itself: the clock (time enters
//! the domain only here) and the deadline policy.

use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};

/// The source of "now" for command handling. Production uses the system clock (in the binary);
/// tests use [`FixedClock`] and move it by hand.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// A clock that stands still until it is told to move.
#[derive(Debug, Clone)]
pub struct FixedClock(Arc<Mutex<Timestamp>>);

impl FixedClock {
    pub fn new(at: Timestamp) -> Self {
        Self(Arc::new(Mutex::new(at)))
    }

    pub fn set(&self, at: Timestamp) {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = at;
    }

    pub fn advance(&self, by: SignedDuration) {
        let mut now = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *now = crate::aggregate::later(*now, by);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Deadlines and thresholds applied when a complaint is handled. Business calendars come later;
/// for now every duration is elapsed time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// How long we have to respond to an inbound contact that asks for something.
    pub respond_within: SignedDuration,
    /// How long a team queue may hold a complaint before a person must pick it up.
    pub triage_within: SignedDuration,
    /// Inbound contacts without a resolution after which the complaint goes to Special Care.
    pub repeat_contact_threshold: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            respond_within: SignedDuration::from_hours(48),
            triage_within: SignedDuration::from_hours(4),
            repeat_contact_threshold: 3,
        }
    }
}

/// The `Services` of the `Complaint` aggregate.
#[derive(Clone)]
pub struct ComplaintServices {
    pub clock: Arc<dyn Clock>,
    pub policy: Policy,
}

impl ComplaintServices {
    pub fn new(clock: Arc<dyn Clock>, policy: Policy) -> Self {
        Self { clock, policy }
    }
}
