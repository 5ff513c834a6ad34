//! Timestamp arithmetic shared by the clock port ([`FixedClock`](crate::FixedClock)) and the
//! aggregate. It lives on its own, below both, so that neither `policy` nor `aggregate` has to
//! import the other for it.

use jiff::{SignedDuration, Timestamp};

/// `at + duration`, saturating at the end of representable time.
pub(crate) fn later(at: Timestamp, duration: SignedDuration) -> Timestamp {
    at.checked_add(duration).unwrap_or(Timestamp::MAX)
}
