//! Business calendars: when a team works, in its own time zone, and the arithmetic of business
//! time over them. Deadlines such as "respond within 16 business hours" or "by the end of the
//! third business day" are computed here, by pure functions, and then recorded in events, so a
//! calendar that changes later never rewrites a deadline already set.
//!
//! A calendar is a time zone, weekly working hours (several shifts a day allowed), public
//! holidays (whole days off) and closures (local date-time ranges off, such as a Christmas Eve
//! afternoon). Working hours are civil times in the calendar's zone, so a shift from 09:00 to
//! 17:00 stays 09:00 to 17:00 across a daylight-saving change; the day of the change simply
//! holds one hour more or less of elapsed time if a shift spans the jump.

use std::collections::BTreeSet;
use std::fmt;

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// How far the arithmetic looks for working time before it gives up: adding more business time
/// than a calendar holds in ten years saturates to the end of representable time instead of
/// looping, and measuring counts at most ten years from its start.
const HORIZON_DAYS: u32 = 3_660;

const MINUTES_PER_DAY: u16 = 24 * 60;

/// Why a calendar could not be built from its configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    #[error("unknown time zone {0:?}")]
    UnknownTimeZone(String),
    #[error("unknown weekday {0:?} (use monday … sunday)")]
    UnknownWeekday(String),
    #[error("working hours {0:?} are not of the form HH:MM-HH:MM with the start before the end")]
    InvalidShift(String),
    #[error("working hours on {weekday} overlap: {first} and {second}")]
    OverlappingShifts {
        weekday: String,
        first: String,
        second: String,
    },
    #[error("a closure must end after it starts ({from} to {to})")]
    InvalidClosure { from: DateTime, to: DateTime },
    #[error("the calendar has no working hours on any day")]
    NoWorkingHours,
}

/// One stretch of working time on a day, in minutes after local midnight (`end` may be 1440,
/// the end of the day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Shift {
    start: u16,
    end: u16,
}

impl Shift {
    /// Parses `HH:MM-HH:MM`; `24:00` is allowed as an end.
    pub fn parse(text: &str) -> Result<Self, CalendarError> {
        let invalid = || CalendarError::InvalidShift(text.to_owned());
        let (start, end) = text.split_once('-').ok_or_else(invalid)?;
        let minutes = |part: &str| -> Option<u16> {
            let (hours, minutes) = part.trim().split_once(':')?;
            let (hours, minutes): (u16, u16) = (hours.parse().ok()?, minutes.parse().ok()?);
            (minutes < 60 && hours * 60 + minutes <= MINUTES_PER_DAY)
                .then_some(hours * 60 + minutes)
        };
        let (start, end) = (
            minutes(start).ok_or_else(invalid)?,
            minutes(end).ok_or_else(invalid)?,
        );
        if start >= end {
            return Err(invalid());
        }
        Ok(Self { start, end })
    }

    fn time(minutes: u16) -> Time {
        Time::constant((minutes / 60) as i8, (minutes % 60) as i8, 0, 0)
    }
}

impl fmt::Display for Shift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start / 60,
            self.start % 60,
            self.end / 60,
            self.end % 60
        )
    }
}

/// A stretch of local time when nobody works although the weekly hours say otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Closure {
    pub from: DateTime,
    pub to: DateTime,
}

/// An offset from a due time along a calendar: business time (`-24h`, `30m`) or whole business
/// days (`+1d`, `3d`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "unit", content = "amount")]
pub enum Offset {
    /// Business time, in minutes; negative is before.
    BusinessMinutes(i64),
    /// Business days; negative is before. The same wall-clock time on the business day that
    /// many days away, moved into that day's working hours if it falls outside them.
    BusinessDays(i32),
}

impl Offset {
    pub const ZERO: Self = Self::BusinessMinutes(0);

    /// Parses `0`, `[+-]N{m,h,d}` (business minutes, business hours, business days).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if text == "0" {
            return Some(Self::ZERO);
        }
        let (sign, rest) = match text.strip_prefix('-') {
            Some(rest) => (-1, rest),
            None => (1, text.strip_prefix('+').unwrap_or(text)),
        };
        let unit = rest.chars().last()?;
        let digits = &rest[..rest.len() - unit.len_utf8()];
        if !digits.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        let amount = sign * digits.parse::<i64>().ok()?;
        match unit {
            'm' => Some(Self::BusinessMinutes(amount)),
            'h' => Some(Self::BusinessMinutes(amount.checked_mul(60)?)),
            'd' => Some(Self::BusinessDays(i32::try_from(amount).ok()?)),
            _ => None,
        }
    }
}

impl fmt::Display for Offset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::BusinessMinutes(0) => write!(f, "0"),
            Self::BusinessMinutes(minutes) if minutes % 60 == 0 => write!(f, "{:+}h", minutes / 60),
            Self::BusinessMinutes(minutes) => write!(f, "{minutes:+}m"),
            Self::BusinessDays(days) => write!(f, "{days:+}d"),
        }
    }
}

/// The calendar part of a policy file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarConfig {
    /// An IANA time zone name, such as `Europe/Amsterdam`.
    pub time_zone: String,
    /// Weekday name (`monday` … `sunday`) to its shifts (`"09:00-12:30"`). Days not listed are
    /// days off.
    #[serde(default)]
    pub hours: std::collections::BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub holidays: Vec<Date>,
    #[serde(default)]
    pub closures: Vec<Closure>,
}

/// When a team works. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessCalendar {
    time_zone: TimeZone,
    /// Indexed by weekday, Monday first; each day's shifts sorted and disjoint.
    week: [Vec<Shift>; 7],
    holidays: BTreeSet<Date>,
    closures: Vec<(Timestamp, Timestamp)>,
}

impl Default for BusinessCalendar {
    /// Always open, in UTC: business time is elapsed time.
    fn default() -> Self {
        Self::always_open()
    }
}

impl BusinessCalendar {
    /// Every hour of every day, in UTC: business time equals elapsed time.
    pub fn always_open() -> Self {
        let all_day = Shift {
            start: 0,
            end: MINUTES_PER_DAY,
        };
        Self {
            time_zone: TimeZone::UTC,
            week: std::array::from_fn(|_| vec![all_day]),
            holidays: BTreeSet::new(),
            closures: Vec::new(),
        }
    }

    /// Monday to Friday, 09:00 to 17:00, in `time_zone`, no holidays.
    pub fn office_hours(time_zone: TimeZone) -> Self {
        let day = Shift {
            start: 9 * 60,
            end: 17 * 60,
        };
        let mut week: [Vec<Shift>; 7] = Default::default();
        for weekday in week.iter_mut().take(5) {
            weekday.push(day);
        }
        Self {
            time_zone,
            week,
            holidays: BTreeSet::new(),
            closures: Vec::new(),
        }
    }

    pub fn from_config(config: &CalendarConfig) -> Result<Self, CalendarError> {
        let time_zone = TimeZone::get(&config.time_zone)
            .map_err(|_| CalendarError::UnknownTimeZone(config.time_zone.clone()))?;
        let mut week: [Vec<Shift>; 7] = Default::default();
        for (weekday_name, shifts) in &config.hours {
            let weekday = parse_weekday(weekday_name)?;
            let day = &mut week[weekday.to_monday_zero_offset() as usize];
            for shift in shifts {
                day.push(Shift::parse(shift)?);
            }
            day.sort();
            for pair in day.windows(2) {
                if pair[0].end > pair[1].start {
                    return Err(CalendarError::OverlappingShifts {
                        weekday: weekday_name.clone(),
                        first: pair[0].to_string(),
                        second: pair[1].to_string(),
                    });
                }
            }
        }
        if week.iter().all(Vec::is_empty) {
            return Err(CalendarError::NoWorkingHours);
        }
        let mut closures = Vec::new();
        for closure in &config.closures {
            if closure.to <= closure.from {
                return Err(CalendarError::InvalidClosure {
                    from: closure.from,
                    to: closure.to,
                });
            }
            closures.push((
                local_instant(&time_zone, closure.from),
                local_instant(&time_zone, closure.to),
            ));
        }
        closures.sort();
        Ok(Self {
            time_zone,
            week,
            holidays: config.holidays.iter().copied().collect(),
            closures,
        })
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.time_zone
    }

    /// The local calendar date of an instant.
    pub fn date_of(&self, at: Timestamp) -> Date {
        self.time_zone.to_datetime(at).date()
    }

    /// The working intervals of a local date, as half-open instants, sorted and disjoint.
    pub fn intervals_on(&self, date: Date) -> Vec<(Timestamp, Timestamp)> {
        if self.holidays.contains(&date) {
            return Vec::new();
        }
        let shifts = &self.week[date.weekday().to_monday_zero_offset() as usize];
        let mut intervals = Vec::with_capacity(shifts.len());
        for shift in shifts {
            let start = local_instant(&self.time_zone, date.to_datetime(Shift::time(shift.start)));
            let end = if shift.end == MINUTES_PER_DAY {
                match date.tomorrow() {
                    Ok(next) => local_instant(&self.time_zone, next.to_datetime(Time::midnight())),
                    Err(_) => Timestamp::MAX,
                }
            } else {
                local_instant(&self.time_zone, date.to_datetime(Shift::time(shift.end)))
            };
            if start < end {
                subtract_closures(&self.closures, start, end, &mut intervals);
            }
        }
        intervals
    }

    /// Whether a date holds any working time.
    pub fn is_business_day(&self, date: Date) -> bool {
        !self.intervals_on(date).is_empty()
    }

    /// Whether `at` falls inside working time (shifts are half open: 17:00 is after a shift
    /// that ends at 17:00).
    pub fn is_working(&self, at: Timestamp) -> bool {
        self.intervals_on(self.date_of(at))
            .iter()
            .any(|&(start, end)| start <= at && at < end)
    }

    /// Working intervals from `from` onwards, the first clipped to start at `from`.
    fn forward(&self, from: Timestamp) -> impl Iterator<Item = (Timestamp, Timestamp)> + '_ {
        let first = self.date_of(from);
        days_from(first, 1)
            .flat_map(move |date| self.intervals_on(date))
            .filter(move |&(_, end)| end > from)
            .map(move |(start, end)| (start.max(from), end))
    }

    /// Working intervals before `until`, latest first, the first clipped to end at `until`.
    fn backward(&self, until: Timestamp) -> impl Iterator<Item = (Timestamp, Timestamp)> + '_ {
        let first = self.date_of(until);
        days_from(first, -1)
            .flat_map(move |date| self.intervals_on(date).into_iter().rev())
            .filter(move |&(start, _)| start < until)
            .map(move |(start, end)| (start, end.min(until)))
    }

    /// The earliest instant at or after `at` that is working time.
    pub fn next_working(&self, at: Timestamp) -> Timestamp {
        self.forward(at)
            .next()
            .map_or(Timestamp::MAX, |(start, _)| start)
    }

    /// The instant reached by working `duration` of business time from `start`. For a positive
    /// duration it is the earliest such instant, so it falls inside a shift or at its end; a
    /// negative duration works backwards. Saturates if the calendar runs out of working time.
    pub fn add(&self, start: Timestamp, duration: SignedDuration) -> Timestamp {
        if duration.is_zero() {
            return start;
        }
        if duration.is_negative() {
            return self.subtract(start, duration.checked_neg().unwrap_or(SignedDuration::MAX));
        }
        let mut remaining = duration;
        for (from, to) in self.forward(start) {
            let length = to.duration_since(from);
            if remaining <= length {
                return from.checked_add(remaining).unwrap_or(Timestamp::MAX);
            }
            remaining -= length;
        }
        Timestamp::MAX
    }

    /// The latest instant from which `duration` of business time ends at `end`.
    fn subtract(&self, end: Timestamp, duration: SignedDuration) -> Timestamp {
        let mut remaining = duration;
        for (from, to) in self.backward(end) {
            let length = to.duration_since(from);
            if remaining <= length {
                return to.checked_sub(remaining).unwrap_or(Timestamp::MIN);
            }
            remaining -= length;
        }
        Timestamp::MIN
    }

    /// The business time between two instants (negative if `to` is before `from`).
    pub fn between(&self, from: Timestamp, to: Timestamp) -> SignedDuration {
        if to < from {
            return -self.between(to, from);
        }
        let mut total = SignedDuration::ZERO;
        for (start, end) in self.forward(from) {
            if start >= to {
                break;
            }
            total += end.min(to).duration_since(start);
            if end >= to {
                break;
            }
        }
        total
    }

    /// The business day `days` business days after (or before, if negative) the local date of
    /// `at`. Day zero is the date itself, whether or not it is a business day.
    pub fn business_day(&self, at: Timestamp, days: i32) -> Option<Date> {
        let start = self.date_of(at);
        if days == 0 {
            return Some(start);
        }
        let step = days.signum();
        days_from(start, step)
            .skip(1)
            .filter(|date| self.is_business_day(*date))
            .nth(days.unsigned_abs() as usize - 1)
    }

    /// The close of business (the end of the last shift) on the `days`-th business day after
    /// the local date of `at`: "by the end of the third business day after receipt".
    pub fn end_of_business_day(&self, at: Timestamp, days: i32) -> Timestamp {
        self.business_day(at, days)
            .and_then(|date| self.intervals_on(date).last().map(|&(_, end)| end))
            .unwrap_or(Timestamp::MAX)
    }

    /// The same wall-clock time `days` business days away, moved into that day's working hours
    /// (to its first shift's start if earlier, its last shift's end if later, or the next shift's
    /// start if between two shifts).
    pub fn add_business_days(&self, at: Timestamp, days: i32) -> Timestamp {
        if days == 0 {
            return at;
        }
        let Some(date) = self.business_day(at, days) else {
            return if days > 0 {
                Timestamp::MAX
            } else {
                Timestamp::MIN
            };
        };
        let wall_clock = self.time_zone.to_datetime(at).time();
        let target = local_instant(&self.time_zone, date.to_datetime(wall_clock));
        let intervals = self.intervals_on(date);
        for &(start, end) in &intervals {
            if target < start {
                return start;
            }
            if target <= end {
                return target;
            }
        }
        intervals.last().map_or(target, |&(_, end)| end)
    }

    /// Moves `at` by an offset along this calendar.
    pub fn offset(&self, at: Timestamp, offset: Offset) -> Timestamp {
        match offset {
            Offset::BusinessMinutes(minutes) => self.add(at, SignedDuration::from_mins(minutes)),
            Offset::BusinessDays(days) => self.add_business_days(at, days),
        }
    }

    /// `at` plus whole calendar weeks in this calendar's zone (the same wall-clock time).
    pub fn add_weeks(&self, at: Timestamp, weeks: i64) -> Timestamp {
        at.to_zoned(self.time_zone.clone())
            .checked_add(jiff::Span::new().weeks(weeks))
            .map_or(Timestamp::MAX, |zoned| zoned.timestamp())
    }
}

fn parse_weekday(name: &str) -> Result<Weekday, CalendarError> {
    Ok(match name.to_ascii_lowercase().as_str() {
        "monday" | "mon" => Weekday::Monday,
        "tuesday" | "tue" => Weekday::Tuesday,
        "wednesday" | "wed" => Weekday::Wednesday,
        "thursday" | "thu" => Weekday::Thursday,
        "friday" | "fri" => Weekday::Friday,
        "saturday" | "sat" => Weekday::Saturday,
        "sunday" | "sun" => Weekday::Sunday,
        _ => return Err(CalendarError::UnknownWeekday(name.to_owned())),
    })
}

/// A local date-time as an instant; a time skipped by a daylight-saving jump maps to the instant
/// after the jump, a repeated one to its first occurrence.
fn local_instant(time_zone: &TimeZone, at: DateTime) -> Timestamp {
    time_zone.to_timestamp(at).unwrap_or(Timestamp::MAX)
}

/// Dates from `start` stepping by one day forwards (`step` 1) or backwards (-1), for at most the
/// horizon.
fn days_from(start: Date, step: i32) -> impl Iterator<Item = Date> {
    std::iter::successors(Some(start), move |date| {
        if step > 0 {
            date.tomorrow().ok()
        } else {
            date.yesterday().ok()
        }
    })
    .take(HORIZON_DAYS as usize)
}

/// Pushes `[start, end)` minus every closure onto `out`.
fn subtract_closures(
    closures: &[(Timestamp, Timestamp)],
    start: Timestamp,
    end: Timestamp,
    out: &mut Vec<(Timestamp, Timestamp)>,
) {
    let mut cursor = start;
    for &(closed_from, closed_to) in closures {
        if closed_to <= cursor || closed_from >= end {
            continue;
        }
        if closed_from > cursor {
            out.push((cursor, closed_from));
        }
        cursor = cursor.max(closed_to);
        if cursor >= end {
            return;
        }
    }
    out.push((cursor, end));
}

#[cfg(test)]
mod tests;
