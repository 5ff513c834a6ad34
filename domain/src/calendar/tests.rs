//! The calendar arithmetic: worked examples across daylight-saving changes and holidays, and
//! property tests that adding and measuring business time round-trip and land in working hours.

use jiff::civil::date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

use super::*;

fn amsterdam_config() -> CalendarConfig {
    let week = ["monday", "tuesday", "wednesday", "thursday", "friday"];
    CalendarConfig {
        time_zone: "Europe/Amsterdam".to_owned(),
        hours: week
            .iter()
            .map(|day| ((*day).to_owned(), vec!["09:00-17:00".to_owned()]))
            .collect(),
        holidays: vec![date(2026, 12, 25), date(2026, 12, 26)],
        closures: Vec::new(),
    }
}

fn amsterdam() -> BusinessCalendar {
    BusinessCalendar::from_config(&amsterdam_config()).expect("valid calendar")
}

fn at(text: &str) -> Timestamp {
    text.parse().expect("timestamp")
}

fn local(calendar: &BusinessCalendar, at: Timestamp) -> String {
    at.to_zoned(calendar.time_zone().clone())
        .strftime("%a %Y-%m-%d %H:%M %:z")
        .to_string()
}

#[test]
fn business_hours_skip_nights_and_weekends() {
    let calendar = amsterdam();
    // Friday 16:00 (CEST) plus 2 business hours: one on Friday, one on Monday.
    let friday = at("2026-10-16T14:00:00Z");
    let due = calendar.add(friday, SignedDuration::from_hours(2));
    assert_eq!(local(&calendar, due), "Mon 2026-10-19 10:00 +02:00");
    assert_eq!(calendar.between(friday, due), SignedDuration::from_hours(2));
}

#[test]
fn the_october_change_keeps_wall_clock_hours() {
    let calendar = amsterdam();
    // Friday 23 October 2026, 17:00 CEST; summer time ends on Sunday 25 October.
    let due = at("2026-10-23T15:00:00Z");
    // One business day later is Monday 17:00, now CET: 16:00Z, 73 elapsed hours later.
    let next = calendar.add_business_days(due, 1);
    assert_eq!(next, at("2026-10-26T16:00:00Z"));
    assert_eq!(local(&calendar, next), "Mon 2026-10-26 17:00 +01:00");
    // Eight business hours after Friday 17:00 is also Monday 17:00.
    assert_eq!(calendar.add(due, SignedDuration::from_hours(8)), next);
    // The elapsed time differs from the wall-clock difference by the extra hour.
    assert_eq!(next.duration_since(due), SignedDuration::from_hours(73));
}

#[test]
fn a_shift_spanning_the_jump_holds_one_hour_more_or_less() {
    let mut config = amsterdam_config();
    config
        .hours
        .insert("sunday".to_owned(), vec!["00:00-06:00".to_owned()]);
    let calendar = BusinessCalendar::from_config(&config).expect("valid");
    // 25 October 2026: 03:00 CEST becomes 02:00 CET, so 00:00-06:00 lasts seven hours.
    let (start, end) = calendar.intervals_on(date(2026, 10, 25))[0];
    assert_eq!(end.duration_since(start), SignedDuration::from_hours(7));
    // 29 March 2026: 02:00 CET becomes 03:00 CEST, so it lasts five.
    let (start, end) = calendar.intervals_on(date(2026, 3, 29))[0];
    assert_eq!(end.duration_since(start), SignedDuration::from_hours(5));
}

#[test]
fn holidays_and_closures_are_not_working_time() {
    let mut config = amsterdam_config();
    config.closures.push(Closure {
        from: date(2026, 12, 24).at(12, 0, 0, 0),
        to: date(2026, 12, 24).at(23, 59, 0, 0),
    });
    let calendar = BusinessCalendar::from_config(&config).expect("valid");
    // Thursday 24 December 11:00 CET plus 2 business hours: one hour before the closure, then
    // Christmas (Friday 25) and Boxing Day (Saturday) and Sunday pass, then Monday 09:00-10:00.
    let start = at("2026-12-24T10:00:00Z");
    let due = calendar.add(start, SignedDuration::from_hours(2));
    assert_eq!(local(&calendar, due), "Mon 2026-12-28 10:00 +01:00");
    assert!(!calendar.is_business_day(date(2026, 12, 25)));
    assert!(!calendar.is_working(at("2026-12-24T12:00:00Z")));
    assert!(calendar.is_working(at("2026-12-24T10:30:00Z")));
}

#[test]
fn the_end_of_the_third_business_day() {
    let calendar = amsterdam();
    // Received Wednesday 23 December 2026 at 20:00: Thursday 24, Monday 28, Tuesday 29.
    let received = at("2026-12-23T19:00:00Z");
    let due = calendar.end_of_business_day(received, 3);
    assert_eq!(local(&calendar, due), "Tue 2026-12-29 17:00 +01:00");
}

#[test]
fn negative_offsets_find_the_latest_start() {
    let calendar = amsterdam();
    // 24 business hours before Friday 17:00 is Wednesday 09:00.
    let due = at("2026-10-23T15:00:00Z");
    let warning = calendar.offset(due, Offset::BusinessMinutes(-24 * 60));
    assert_eq!(local(&calendar, warning), "Wed 2026-10-21 09:00 +02:00");
    assert_eq!(
        calendar.between(warning, due),
        SignedDuration::from_hours(24)
    );
}

#[test]
fn weeks_are_calendar_weeks_in_the_zone() {
    let calendar = amsterdam();
    let received = at("2026-09-15T08:00:00Z"); // 10:00 CEST
    let due = calendar.add_weeks(received, 8);
    assert_eq!(local(&calendar, due), "Tue 2026-11-10 10:00 +01:00");
}

#[test]
fn always_open_is_elapsed_time() {
    let calendar = BusinessCalendar::always_open();
    let start = at("2026-03-07T23:30:00Z");
    let hours = SignedDuration::from_hours(50);
    assert_eq!(
        calendar.add(start, hours),
        start.checked_add(hours).unwrap()
    );
    assert_eq!(
        calendar.between(start, start.checked_add(hours).unwrap()),
        hours
    );
}

#[test]
fn bad_configuration_is_refused_with_the_reason() {
    let mut config = amsterdam_config();
    config.time_zone = "Mars/Olympus".to_owned();
    assert_eq!(
        BusinessCalendar::from_config(&config),
        Err(CalendarError::UnknownTimeZone("Mars/Olympus".to_owned()))
    );
    let mut config = amsterdam_config();
    config.hours.insert(
        "friday".to_owned(),
        vec!["09:00-13:00".into(), "12:00-17:00".into()],
    );
    assert!(matches!(
        BusinessCalendar::from_config(&config),
        Err(CalendarError::OverlappingShifts { .. })
    ));
    for bad in ["9-17", "17:00-09:00", "09:00-25:00", "09:60-10:00", "09:00"] {
        assert_eq!(
            Shift::parse(bad),
            Err(CalendarError::InvalidShift(bad.to_owned())),
            "{bad}"
        );
    }
    let mut config = amsterdam_config();
    config.hours.clear();
    assert_eq!(
        BusinessCalendar::from_config(&config),
        Err(CalendarError::NoWorkingHours)
    );
}

#[test]
fn offsets_parse_and_print() {
    assert_eq!(Offset::parse("-24h"), Some(Offset::BusinessMinutes(-1440)));
    assert_eq!(Offset::parse("+1d"), Some(Offset::BusinessDays(1)));
    assert_eq!(Offset::parse("3d"), Some(Offset::BusinessDays(3)));
    assert_eq!(Offset::parse("90m"), Some(Offset::BusinessMinutes(90)));
    assert_eq!(Offset::parse("0"), Some(Offset::ZERO));
    for bad in ["", "h", "1w", "--1h", "1.5h"] {
        assert_eq!(Offset::parse(bad), None, "{bad}");
    }
    for text in ["-24h", "+1d", "+90m", "0"] {
        assert_eq!(Offset::parse(text).unwrap().to_string(), text);
    }
}

const ZONES: &[&str] = &[
    "Europe/Amsterdam",
    "Europe/London",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "UTC",
];

prop_compose! {
    fn shifts()(cuts in proptest::collection::btree_set(0u16..=96, 0..=4)) -> Vec<String> {
        // Quarter-hour cut points, paired into disjoint shifts.
        let cuts: Vec<u16> = cuts.into_iter().map(|cut| cut * 15).collect();
        cuts.chunks_exact(2)
            .filter(|pair| pair[0] < pair[1])
            .map(|pair| format!("{:02}:{:02}-{:02}:{:02}", pair[0] / 60, pair[0] % 60, pair[1] / 60, pair[1] % 60))
            .collect()
    }
}

prop_compose! {
    fn calendars()(
        zone in proptest::sample::select(ZONES),
        week in proptest::collection::vec(shifts(), 7),
        holidays in proptest::collection::vec(0i32..400, 0..12),
    ) -> BusinessCalendar {
        let names = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
        let mut hours: std::collections::BTreeMap<String, Vec<String>> = names
            .iter()
            .zip(week)
            .map(|(name, shifts)| ((*name).to_owned(), shifts))
            .collect();
        if hours.values().all(Vec::is_empty) {
            hours.insert("wednesday".to_owned(), vec!["10:00-11:00".to_owned()]);
        }
        let base = date(2026, 1, 1);
        let config = CalendarConfig {
            time_zone: (*zone).to_owned(),
            hours,
            holidays: holidays
                .into_iter()
                .map(|days| base.checked_add(jiff::Span::new().days(days)).unwrap())
                .collect(),
            closures: Vec::new(),
        };
        BusinessCalendar::from_config(&config).expect("generated calendars are valid")
    }
}

fn instants() -> impl Strategy<Value = Timestamp> {
    // Any second of 2026 and early 2027, both daylight-saving changes included.
    (1_767_225_600i64..1_800_000_000).prop_map(|seconds| Timestamp::from_second(seconds).unwrap())
}

fn in_working_hours(calendar: &BusinessCalendar, at: Timestamp) -> bool {
    calendar.is_working(at) || calendar.is_working(at - SignedDuration::from_nanos(1))
}

proptest! {
    #[test]
    fn adding_then_measuring_round_trips(
        calendar in calendars(),
        start in instants(),
        minutes in 1i64..20_000,
    ) {
        let duration = SignedDuration::from_mins(minutes);
        let due = calendar.add(start, duration);
        // Sparse calendars can run past the ten-year horizon, which saturates (tested below).
        prop_assume!(due != Timestamp::MAX);
        prop_assert!(due > start);
        prop_assert_eq!(calendar.between(start, due), duration);
        prop_assert!(in_working_hours(&calendar, due), "{} is outside working hours", due);
    }

    #[test]
    fn subtracting_then_measuring_round_trips(
        calendar in calendars(),
        end in instants(),
        minutes in 1i64..20_000,
    ) {
        let duration = SignedDuration::from_mins(minutes);
        let start = calendar.add(end, -duration);
        prop_assume!(start != Timestamp::MIN);
        prop_assert!(start < end);
        prop_assert_eq!(calendar.between(start, end), duration);
        prop_assert!(calendar.is_working(start), "{} is outside working hours", start);
    }

    #[test]
    fn measuring_is_additive(
        calendar in calendars(),
        a in instants(),
        b in instants(),
        c in instants(),
    ) {
        let mut points = [a, b, c];
        points.sort();
        let [a, b, c] = points;
        prop_assert_eq!(calendar.between(a, b) + calendar.between(b, c), calendar.between(a, c));
        prop_assert_eq!(calendar.between(c, a), -calendar.between(a, c));
    }

    #[test]
    fn business_days_land_in_working_hours(
        calendar in calendars(),
        start in instants(),
        days in -30i32..30,
    ) {
        prop_assume!(days != 0);
        let moved = calendar.add_business_days(start, days);
        prop_assert!(in_working_hours(&calendar, moved), "{} is outside working hours", moved);
        let date = calendar.date_of(moved);
        prop_assert!(calendar.is_business_day(date));
        prop_assert_eq!(calendar.business_day(start, days), Some(date));
        let close = calendar.end_of_business_day(start, days);
        prop_assert!(close >= moved);
        prop_assert!(in_working_hours(&calendar, close));
    }
}

#[test]
fn arithmetic_saturates_past_the_horizon() {
    let mut config = amsterdam_config();
    config.hours = [("monday".to_owned(), vec!["03:30-04:00".to_owned()])].into();
    let calendar = BusinessCalendar::from_config(&config).expect("valid");
    let start = at("2026-01-01T00:00:00Z");
    // Half an hour a week: 300 business hours take more than the ten-year horizon.
    let hours = SignedDuration::from_hours(300);
    assert_eq!(calendar.add(start, hours), Timestamp::MAX);
    assert_eq!(calendar.add(start, -hours), Timestamp::MIN);
    assert_eq!(
        calendar.add(start, SignedDuration::from_hours(2)),
        at("2026-01-26T03:00:00Z"),
        "four Monday half-hours: 5, 12, 19 and 26 January"
    );
}

#[test]
fn the_default_zone_database_is_bundled() {
    // Deadlines must not depend on the host's zone files.
    assert!(TimeZone::get("Europe/Amsterdam").is_ok());
}
