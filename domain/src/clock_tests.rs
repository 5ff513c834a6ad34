//! The promise clock in the aggregate: deadlines set at filing under a regime, extensions,
//! pauses, and ladders reached in order, once, when due. Times are written in the calendar's
//! own zone so each expectation reads as a person would check it.

use std::collections::BTreeMap;

use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use uuid::Uuid;

use crate::{
    BusinessCalendar, CalendarConfig, Category, Channel, Complaint, ComplaintCommand,
    ComplaintError, ComplaintEvent, Customer, CustomerReference, DeadlineDue, DeadlineKind,
    Direction, EscalationReason, EscalationTarget, Notified, Offset, Policy, PromiseId,
    PromiseKind, PromiseStatus, Recipient, Regime, RegimeRule, RungSpec, SealedText,
    SensitiveReason, StaffId, Subject, SubjectKind,
};

use ComplaintCommand as C;
use ComplaintEvent as E;

const AMSTERDAM: &str = "Europe/Amsterdam";
const LONDON: &str = "Europe/London";

fn calendar(zone: &str, holidays: &[&str]) -> BusinessCalendar {
    let weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday"];
    BusinessCalendar::from_config(&CalendarConfig {
        time_zone: zone.to_owned(),
        hours: weekdays
            .iter()
            .map(|day| ((*day).to_owned(), vec!["09:00-17:00".to_owned()]))
            .collect(),
        holidays: holidays.iter().map(|day| day.parse().unwrap()).collect(),
        closures: Vec::new(),
    })
    .expect("valid calendar")
}

fn rung(name: &str, offset: &str) -> RungSpec {
    RungSpec {
        name: name.to_owned(),
        offset: Offset::parse(offset).expect("valid offset"),
        remind: Vec::new(),
        mark_broken: false,
        escalate: None,
    }
}

/// The first rungs of the promise ladder, `warning` before and `manager` after the due
/// time, each on top of `base`: a warning that reminds the promiser, the breach at the due time
/// that marks the promise broken and reminds owner, lead and customer, and a manager's
/// escalation. The property tests use it with short offsets.
pub(crate) fn warning_breach_manager(
    base: fn(&str, &str) -> RungSpec,
    warning: &str,
    manager: &str,
) -> Vec<RungSpec> {
    vec![
        RungSpec {
            remind: vec![Recipient::Promiser],
            ..base("warning", warning)
        },
        RungSpec {
            remind: vec![Recipient::Owner, Recipient::Lead, Recipient::Customer],
            mark_broken: true,
            ..base("breach", "0")
        },
        RungSpec {
            escalate: Some(EscalationTarget::Manager),
            ..base("manager", manager)
        },
    ]
}

/// The ladder of the issue: a warning 24 business hours before, the breach at the due time,
/// a manager a business day later, Special Care three business days later.
fn promise_ladder() -> Vec<RungSpec> {
    let mut ladder = warning_breach_manager(rung, "-24h", "+1d");
    ladder.push(RungSpec {
        escalate: Some(EscalationTarget::SpecialCare),
        ..rung("special-care", "+3d")
    });
    ladder
}

fn policy(zone: &str, holidays: &[&str], regime: Regime) -> Policy {
    Policy {
        calendar: calendar(zone, holidays),
        acknowledge_within: Some(SignedDuration::from_hours(8)),
        respond_within: SignedDuration::from_hours(16),
        triage_within: SignedDuration::from_hours(4),
        repeat_contact_threshold: 3,
        regime,
        regime_rules: vec![RegimeRule {
            category: Some(Category::parse("permit").unwrap()),
            channel: None,
            regime: Regime::Awb,
        }],
        ladders: BTreeMap::from([
            (SubjectKind::Promise, promise_ladder()),
            (
                SubjectKind::FinalResponse,
                vec![RungSpec {
                    remind: vec![Recipient::Owner],
                    ..rung("warning", "-5d")
                }],
            ),
        ]),
        teams: BTreeMap::new(),
    }
}

/// A local wall-clock time in `zone`.
fn local(zone: &str, text: &str) -> Timestamp {
    let civil: DateTime = text.parse().expect("civil date-time");
    TimeZone::get(zone)
        .unwrap()
        .to_timestamp(civil)
        .expect("in range")
}

fn staff(name: &str) -> StaffId {
    StaffId::parse(name).unwrap()
}

fn sealed(text: &str) -> SealedText {
    SealedText::from_stored(text.to_owned())
}

fn promise_id() -> PromiseId {
    PromiseId::new(Uuid::from_u128(0x0192_f0c4_7d5e_7000_8000_0000_0000_0001))
}

fn file(category: &str) -> ComplaintCommand {
    C::FileComplaint {
        customer: Customer {
            reference: CustomerReference::parse("cust-7").unwrap(),
            name: sealed("sealed:name"),
            email: None,
            phone: None,
        },
        channel: Channel::Letter,
        category: Category::parse(category).unwrap(),
        description: sealed("sealed:description"),
    }
}

/// A complaint driven command by command, keeping every event.
struct Case {
    policy: Policy,
    complaint: Complaint,
    events: Vec<ComplaintEvent>,
}

impl Case {
    fn new(policy: Policy) -> Self {
        Self {
            policy,
            complaint: Complaint::default(),
            events: Vec::new(),
        }
    }

    fn run(
        &mut self,
        actor: &str,
        command: ComplaintCommand,
        now: Timestamp,
    ) -> Result<Vec<ComplaintEvent>, ComplaintError> {
        let before = self.complaint.clone();
        let result = self
            .complaint
            .decide(&staff(actor), command, now, &self.policy);
        assert_eq!(self.complaint, before, "deciding never changes the state");
        let events = result?;
        for event in &events {
            cqrs_es::Aggregate::apply(&mut self.complaint, event.clone());
        }
        self.events.extend(events.clone());
        Ok(events)
    }

    fn ok(
        &mut self,
        actor: &str,
        command: ComplaintCommand,
        now: Timestamp,
    ) -> Vec<ComplaintEvent> {
        self.run(actor, command, now)
            .unwrap_or_else(|error| panic!("refused: {error}"))
    }

    fn reach(
        &mut self,
        subject: Subject,
        rung: u32,
        now: Timestamp,
    ) -> Result<Vec<E>, ComplaintError> {
        self.run("obliged-scheduler", C::ReachRung { subject, rung }, now)
    }
}

/// A case in London under `regime` with a `category` complaint filed by Alice on Monday 1 June
/// 2026, 10:00, and that moment.
fn filed_in_london(regime: Regime, category: &str) -> (Case, Timestamp) {
    let mut case = Case::new(policy(LONDON, &[], regime));
    let received = local(LONDON, "2026-06-01T10:00");
    case.ok("alice", file(category), received);
    (case, received)
}

fn names(events: &[ComplaintEvent]) -> Vec<&'static str> {
    events.iter().map(ComplaintEvent::name).collect()
}

fn deadline(case: &Case, kind: DeadlineKind) -> Timestamp {
    case.complaint.deadlines[&kind].due_at
}

// --- deadlines at filing ----------------------------------------------------------------------

#[test]
fn an_fca_complaint_gets_its_three_business_day_and_eight_week_deadlines() {
    // Received on Wednesday 23 December 2026 at 20:00 in London; Christmas (Friday) and the
    // Boxing Day substitute (Monday 28) are bank holidays.
    let mut case = Case::new(policy(
        LONDON,
        &["2026-12-25", "2026-12-28"],
        Regime::FcaDisp,
    ));
    let received = local(LONDON, "2026-12-23T20:00");
    let events = case.ok("alice", file("billing"), received);

    let E::DeadlinesSet {
        regime, deadlines, ..
    } = &events[1]
    else {
        panic!("filing sets the deadlines: {events:?}")
    };
    assert_eq!(*regime, Regime::FcaDisp);
    assert_eq!(
        deadlines,
        &vec![
            // Eight business hours from the next working morning: Thursday 24, 17:00.
            DeadlineDue {
                deadline: DeadlineKind::Acknowledge,
                due_at: local(LONDON, "2026-12-24T17:00"),
            },
            // Thursday 24 (1), Tuesday 29 (2), Wednesday 30 (3): close of business.
            DeadlineDue {
                deadline: DeadlineKind::SummaryResolution,
                due_at: local(LONDON, "2026-12-30T17:00"),
            },
            // Eight calendar weeks after receipt.
            DeadlineDue {
                deadline: DeadlineKind::FinalResponse,
                due_at: local(LONDON, "2027-02-17T20:00"),
            },
        ]
    );
    // The final response has a ladder in this policy; the others do not.
    assert_eq!(
        names(&events),
        ["ComplaintFiled", "DeadlinesSet", "LadderScheduled"]
    );
    let E::LadderScheduled { rungs, .. } = &events[2] else {
        unreachable!()
    };
    // Five business days before Wednesday 17 February 20:00 is Wednesday 10 February, 17:00
    // (the end of that day's hours, as 20:00 is after them).
    assert_eq!(rungs[0].due_at, local(LONDON, "2027-02-10T17:00"));
}

#[test]
fn a_request_on_friday_evening_before_a_holiday_is_due_on_the_right_business_day() {
    // King's Day, Monday 27 April 2026, is a public holiday in the Netherlands.
    let mut case = Case::new(policy(AMSTERDAM, &["2026-04-27"], Regime::None));
    let friday_evening = local(AMSTERDAM, "2026-04-24T19:30");
    case.ok("alice", file("billing"), friday_evening);
    assert_eq!(
        deadline(&case, DeadlineKind::Acknowledge),
        local(AMSTERDAM, "2026-04-28T17:00"),
        "eight business hours: all of Tuesday"
    );
    let events = case.ok(
        "alice",
        C::LogContact {
            direction: Direction::Inbound,
            channel: Channel::Email,
            summary: sealed("sealed:where is my refund"),
            request: true,
            alias: None,
        },
        friday_evening,
    );
    let E::ObligationOpened { due_at, .. } = &events[1] else {
        panic!("{events:?}")
    };
    assert_eq!(
        *due_at,
        local(AMSTERDAM, "2026-04-29T17:00"),
        "sixteen business hours: Tuesday and Wednesday"
    );
}

#[test]
fn a_rule_picks_the_regime_by_category_and_the_default_otherwise() {
    let policy = policy(AMSTERDAM, &[], Regime::Kifid);
    assert_eq!(
        policy.regime_for(&Category::parse("permit").unwrap(), Channel::Letter),
        Regime::Awb
    );
    assert_eq!(
        policy.regime_for(&Category::parse("billing").unwrap(), Channel::Letter),
        Regime::Kifid
    );
}

#[test]
fn the_payment_services_deadline_is_fifteen_business_days_and_thirty_five_with_a_holding_reply() {
    let (mut case, _) = filed_in_london(Regime::FcaPaymentServices, "payments");
    assert_eq!(
        deadline(&case, DeadlineKind::FinalResponse),
        local(LONDON, "2026-06-22T17:00"),
        "three weeks of business days after Monday 1 June"
    );
    let events = case.ok(
        "alice",
        C::ExtendDeadline {
            deadline: DeadlineKind::FinalResponse,
            due_at: None,
            notice: sealed("sealed:holding reply"),
        },
        local(LONDON, "2026-06-15T10:00"),
    );
    assert_eq!(names(&events), ["DeadlineExtended", "LadderScheduled"]);
    assert_eq!(
        deadline(&case, DeadlineKind::FinalResponse),
        local(LONDON, "2026-07-20T17:00"),
        "the thirty-fifth business day"
    );
}

// --- extensions -------------------------------------------------------------------------------

#[test]
fn an_awb_extension_is_accepted_once_and_refused_the_second_time() {
    let mut case = Case::new(policy(AMSTERDAM, &[], Regime::None));
    let received = local(AMSTERDAM, "2026-03-02T09:00");
    case.ok("alice", file("permit"), received);
    assert_eq!(case.complaint.regime, Some(Regime::Awb));
    // Six weeks, across the March change to summer time: the same wall-clock time.
    assert_eq!(
        deadline(&case, DeadlineKind::FinalResponse),
        local(AMSTERDAM, "2026-04-13T09:00")
    );
    let extend = |due_at| C::ExtendDeadline {
        deadline: DeadlineKind::FinalResponse,
        due_at,
        notice: sealed("sealed:we need advice from the municipality"),
    };
    let now = local(AMSTERDAM, "2026-04-01T10:00");

    // More than four weeks is refused, and changes nothing.
    assert_eq!(
        case.run(
            "alice",
            extend(Some(local(AMSTERDAM, "2026-05-12T09:00"))),
            now
        ),
        Err(ComplaintError::ExtensionBeyondLimit {
            deadline: DeadlineKind::FinalResponse,
            limit: local(AMSTERDAM, "2026-05-11T09:00"),
        })
    );
    let events = case.ok("alice", extend(None), now);
    assert_eq!(names(&events), ["DeadlineExtended", "LadderScheduled"]);
    assert_eq!(
        deadline(&case, DeadlineKind::FinalResponse),
        local(AMSTERDAM, "2026-05-11T09:00")
    );
    assert_eq!(
        case.run(
            "alice",
            extend(Some(local(AMSTERDAM, "2026-05-12T09:00"))),
            now
        ),
        Err(ComplaintError::AlreadyExtended {
            deadline: DeadlineKind::FinalResponse
        })
    );
}

#[test]
fn regimes_without_extensions_refuse_them() {
    let (mut case, received) = filed_in_london(Regime::FcaDisp, "billing");
    assert_eq!(
        case.run(
            "alice",
            C::ExtendDeadline {
                deadline: DeadlineKind::FinalResponse,
                due_at: None,
                notice: sealed("sealed:notice"),
            },
            received,
        ),
        Err(ComplaintError::ExtensionNotAllowed {
            regime: Regime::FcaDisp,
            deadline: DeadlineKind::FinalResponse
        })
    );
}

#[test]
fn a_recalculation_is_a_new_event_and_keeps_met_deadlines() {
    let (mut case, _) = filed_in_london(Regime::FcaDisp, "billing");
    // The acknowledgement is met by the first reply.
    case.ok(
        "alice",
        C::LogContact {
            direction: Direction::Outbound,
            channel: Channel::Email,
            summary: sealed("sealed:we have your complaint"),
            request: false,
            alias: None,
        },
        local(LONDON, "2026-06-01T11:00"),
    );
    let events = case.ok(
        "lena",
        C::RecalculateDeadlines {
            regime: Some(Regime::Kifid),
            reason: sealed("sealed:filed under the wrong regime"),
        },
        local(LONDON, "2026-06-02T09:00"),
    );
    let E::DeadlinesSet { deadlines, .. } = &events[0] else {
        panic!("{events:?}")
    };
    assert_eq!(
        deadlines,
        &vec![DeadlineDue {
            deadline: DeadlineKind::FinalResponse,
            due_at: local(LONDON, "2026-07-27T10:00"),
        }]
    );
    assert_eq!(case.complaint.regime, Some(Regime::Kifid));
    assert_eq!(
        case.complaint.deadlines.keys().copied().collect::<Vec<_>>(),
        [DeadlineKind::Acknowledge, DeadlineKind::FinalResponse],
        "the met acknowledgement stays; the summary resolution is gone"
    );
    assert_eq!(
        case.complaint.deadlines[&DeadlineKind::Acknowledge].met,
        Some(true)
    );
}

// --- pauses -----------------------------------------------------------------------------------

#[test]
fn a_pause_moves_business_and_calendar_deadlines_by_its_own_measure() {
    let (mut case, _) = filed_in_london(Regime::FcaDisp, "billing");
    assert_eq!(
        deadline(&case, DeadlineKind::SummaryResolution),
        local(LONDON, "2026-06-04T17:00")
    );
    case.ok(
        "alice",
        C::PauseClock {
            reason: sealed("sealed:waiting for the customer's statements"),
        },
        local(LONDON, "2026-06-02T09:00"),
    );
    assert_eq!(
        case.run(
            "alice",
            C::PauseClock {
                reason: sealed("sealed:again")
            },
            local(LONDON, "2026-06-02T10:00")
        ),
        Err(ComplaintError::ClockAlreadyPaused {
            paused_at: local(LONDON, "2026-06-02T09:00")
        })
    );
    // A deadline ladder waits while the clock is paused.
    let final_response = Subject::Deadline {
        deadline: DeadlineKind::FinalResponse,
    };
    assert_eq!(
        case.reach(final_response, 1, local(LONDON, "2026-07-30T09:00")),
        Err(ComplaintError::ClockPaused {
            subject: final_response
        })
    );
    // Two business days later (Thursday 09:00), the clock resumes: 16 business hours and 48
    // elapsed hours.
    let events = case.ok("alice", C::ResumeClock, local(LONDON, "2026-06-04T09:00"));
    assert_eq!(names(&events), ["ClockResumed", "LadderScheduled"]);
    assert_eq!(
        deadline(&case, DeadlineKind::SummaryResolution),
        local(LONDON, "2026-06-08T17:00"),
        "business: two business days later, over the weekend"
    );
    assert_eq!(
        deadline(&case, DeadlineKind::FinalResponse),
        local(LONDON, "2026-07-29T10:00"),
        "calendar: 48 hours later"
    );
    assert_eq!(case.complaint.clock_paused_at, None);
    assert_eq!(
        case.run("alice", C::ResumeClock, local(LONDON, "2026-06-04T10:00")),
        Err(ComplaintError::ClockNotPaused)
    );
}

#[test]
fn a_customer_contact_during_a_pause_is_flagged() {
    let (mut case, _) = filed_in_london(Regime::FcaDisp, "billing");
    let paused_at = local(LONDON, "2026-06-02T09:00");
    case.ok(
        "alice",
        C::PauseClock {
            reason: sealed("sealed:waiting for the customer"),
        },
        paused_at,
    );
    let events = case.ok(
        "alice",
        C::LogContact {
            direction: Direction::Inbound,
            channel: Channel::Phone,
            summary: sealed("sealed:customer calls"),
            request: false,
            alias: None,
        },
        local(LONDON, "2026-06-02T15:00"),
    );
    assert_eq!(
        events[1],
        E::PausedClockContacted {
            contact_no: 1,
            paused_at,
            at: local(LONDON, "2026-06-02T15:00"),
        }
    );
}

#[test]
fn resolving_during_a_pause_ends_it_and_judges_deadlines_against_their_moved_due_times() {
    let (mut case, _) = filed_in_london(Regime::FcaDisp, "billing");
    case.ok(
        "alice",
        C::AssignOwner {
            owner: crate::Owner::parse("alice").unwrap(),
        },
        local(LONDON, "2026-06-01T10:05"),
    );
    case.ok(
        "alice",
        C::PauseClock {
            reason: sealed("sealed:waiting"),
        },
        local(LONDON, "2026-06-02T11:00"),
    );
    // Friday 5 June 10:00 is after the summary deadline (Thursday 17:00) but within it once the
    // pause (Tuesday 11:00 to Friday 10:00, 23 business hours) is taken off.
    let events = case.ok(
        "alice",
        C::Resolve {
            override_reason: Some(sealed("sealed:refunded")),
        },
        local(LONDON, "2026-06-05T10:00"),
    );
    assert_eq!(
        names(&events),
        [
            "ClockResumed",
            "ComplaintResolved",
            "DeadlineMet",
            "DeadlineMet",
            "DeadlineMet"
        ],
        "the pause is recorded as over; no ladder is scheduled for deadlines about to be met"
    );
    assert_eq!(
        case.complaint.deadlines[&DeadlineKind::SummaryResolution].met,
        Some(true)
    );
    assert_eq!(
        case.run(
            "lena",
            C::RecalculateDeadlines {
                regime: Some(Regime::Awb),
                reason: sealed("sealed:too late"),
            },
            local(LONDON, "2026-06-05T11:00"),
        ),
        Err(ComplaintError::AlreadyResolved),
        "a resolved complaint gets no new deadlines"
    );
    assert_eq!(
        case.complaint.deadlines[&DeadlineKind::Acknowledge].met,
        Some(false),
        "the acknowledgement (due Tuesday 10:00) was overdue when the clock paused at 11:00, so \
         the pause does not move it"
    );
}

// --- ladders ----------------------------------------------------------------------------------

fn promise_case(due_at: Timestamp, made_at: Timestamp) -> Case {
    let mut case = Case::new(policy(AMSTERDAM, &[], Regime::None));
    case.ok("alice", file("billing"), made_at);
    case.ok(
        "alice",
        C::AssignOwner {
            owner: crate::Owner::parse("team:billing").unwrap(),
        },
        made_at,
    );
    case.ok(
        "alice",
        C::MakePromise {
            promise_id: promise_id(),
            kind: PromiseKind::Callback,
            description: sealed("sealed:call back"),
            due_at,
            concerns: None,
        },
        made_at,
    );
    case
}

/// A promise made on Monday 19 October 2026 and due Friday 23 October, 17:00 CEST (summer
/// time ends on Sunday 25 October): the case, the due time and the promise as a subject.
fn promise_due_friday() -> (Case, Timestamp, Subject) {
    let due = local(AMSTERDAM, "2026-10-23T17:00");
    let case = promise_case(due, local(AMSTERDAM, "2026-10-19T10:00"));
    let promise = Subject::Promise {
        promise_id: promise_id(),
    };
    (case, due, promise)
}

#[test]
fn a_promise_due_friday_across_the_october_change_gets_each_rung_at_the_right_instant() {
    let (mut case, due, promise) = promise_due_friday();
    let ladder = &case.complaint.ladders[&promise];
    let due_times: Vec<(String, Timestamp)> = ladder
        .rungs
        .iter()
        .map(|rung| (rung.name.clone(), rung.due_at))
        .collect();
    assert_eq!(
        due_times,
        [
            (
                "warning".to_owned(),
                "2026-10-21T07:00:00Z".parse().unwrap()
            ), // Wed 09:00 CEST
            ("breach".to_owned(), "2026-10-23T15:00:00Z".parse().unwrap()), // Fri 17:00 CEST
            (
                "manager".to_owned(),
                "2026-10-26T16:00:00Z".parse().unwrap()
            ), // Mon 17:00 CET
            (
                "special-care".to_owned(),
                "2026-10-28T16:00:00Z".parse().unwrap()
            ), // Wed 17:00 CET
        ]
    );

    // One second early, nothing; at the instant, the warning, to the promiser.
    let warning_due: Timestamp = "2026-10-21T07:00:00Z".parse().unwrap();
    assert_eq!(
        case.reach(promise, 1, warning_due - SignedDuration::from_secs(1)),
        Err(ComplaintError::RungNotDue {
            subject: promise,
            rung: 1,
            due_at: warning_due
        })
    );
    let events = case.reach(promise, 1, warning_due).unwrap();
    assert_eq!(
        events,
        [E::RungReached {
            subject: promise,
            rung: 1,
            name: "warning".to_owned(),
            due_at: warning_due,
            subject_due_at: due,
            notified: vec![Notified {
                recipient: Recipient::Promiser,
                who: Some("alice".to_owned()),
            }],
            muted: vec![],
            at: warning_due,
        }]
    );
    // The breach marks the promise broken and reminds owner, lead and customer.
    let events = case.reach(promise, 2, due).unwrap();
    assert_eq!(names(&events), ["RungReached", "PromiseBroken"]);
    assert_eq!(
        case.complaint.promises[&promise_id()].status,
        PromiseStatus::Broken
    );
    // The manager rung, at Monday 17:00 CET: an hour later in UTC than Friday's 17:00.
    let manager_due: Timestamp = "2026-10-26T16:00:00Z".parse().unwrap();
    assert!(case
        .reach(promise, 3, manager_due - SignedDuration::from_secs(1))
        .is_err());
    let events = case.reach(promise, 3, manager_due).unwrap();
    assert_eq!(
        events[1],
        E::Escalated {
            to: EscalationTarget::Manager,
            reason: EscalationReason::Ladder,
            note: None,
            by: None,
            at: manager_due,
        }
    );
}

#[test]
fn rungs_are_reached_once_and_in_order() {
    let (mut case, _, promise) = promise_due_friday();
    let late = local(AMSTERDAM, "2026-11-30T10:00");
    assert_eq!(
        case.reach(promise, 2, late),
        Err(ComplaintError::RungOutOfOrder {
            subject: promise,
            rung: 2,
            next: 1
        })
    );
    let events = case.reach(promise, 1, late).unwrap();
    // Caught up late: stamped with when it was due and when it was noticed.
    let E::RungReached { due_at, at, .. } = &events[0] else {
        unreachable!()
    };
    assert_eq!((*due_at, *at), (local(AMSTERDAM, "2026-10-21T09:00"), late));
    assert_eq!(
        case.reach(promise, 1, late),
        Err(ComplaintError::RungAlreadyReached {
            subject: promise,
            rung: 1
        })
    );
    assert_eq!(
        case.reach(promise, 9, late),
        Err(ComplaintError::RungNotScheduled {
            subject: promise,
            rung: 9
        })
    );
}

#[test]
fn a_renegotiated_promise_gets_a_fresh_ladder_and_a_kept_one_none() {
    let (mut case, _, promise) = promise_due_friday();
    case.reach(promise, 1, local(AMSTERDAM, "2026-10-21T09:00"))
        .unwrap();
    let new_due = local(AMSTERDAM, "2026-10-30T17:00");
    let events = case.ok(
        "alice",
        C::RenegotiatePromise {
            promise_id: promise_id(),
            due_at: new_due,
            reason: sealed("sealed:supplier delay"),
            customer_agreed: true,
        },
        local(AMSTERDAM, "2026-10-22T10:00"),
    );
    assert_eq!(names(&events), ["PromiseRenegotiated", "LadderScheduled"]);
    let ladder = &case.complaint.ladders[&promise];
    assert_eq!(ladder.subject_due_at, new_due);
    assert!(ladder.reached.is_empty(), "the warning is owed again");
    case.ok(
        "alice",
        C::KeepPromise {
            promise_id: promise_id(),
            evidence: sealed("sealed:called"),
        },
        local(AMSTERDAM, "2026-10-29T10:00"),
    );
    assert_eq!(
        case.reach(promise, 1, local(AMSTERDAM, "2026-11-30T10:00")),
        Err(ComplaintError::SubjectSettled { subject: promise })
    );
    assert!(case.complaint.next_rungs().is_empty());
}

#[test]
fn a_sensitive_case_mutes_the_customer_but_not_the_staff() {
    let due = local(AMSTERDAM, "2026-10-23T17:00");
    let mut case = promise_case(due, local(AMSTERDAM, "2026-10-19T10:00"));
    case.ok(
        "alice",
        C::FlagSensitive {
            reason: SensitiveReason::Bereavement,
            note: None,
        },
        local(AMSTERDAM, "2026-10-19T11:00"),
    );
    let promise = Subject::Promise {
        promise_id: promise_id(),
    };
    case.reach(promise, 1, due).unwrap();
    let events = case.reach(promise, 2, due).unwrap();
    let E::RungReached {
        notified, muted, ..
    } = &events[0]
    else {
        unreachable!()
    };
    assert_eq!(
        notified,
        &vec![
            Notified {
                recipient: Recipient::Owner,
                who: Some("team:billing".to_owned()),
            },
            Notified {
                recipient: Recipient::Lead,
                who: None,
            },
        ]
    );
    assert_eq!(muted, &vec![Recipient::Customer]);
}

#[test]
fn next_rungs_lists_what_the_scheduler_will_reach_soonest_first() {
    let due = local(AMSTERDAM, "2026-10-23T17:00");
    let case = promise_case(due, local(AMSTERDAM, "2026-10-19T10:00"));
    let next: Vec<(Subject, u32, Timestamp)> = case
        .complaint
        .next_rungs()
        .into_iter()
        .map(|(subject, rung)| (subject, rung.rung, rung.due_at))
        .collect();
    assert_eq!(
        next,
        [(
            Subject::Promise {
                promise_id: promise_id()
            },
            1,
            local(AMSTERDAM, "2026-10-21T09:00")
        )]
    );
}

#[test]
fn a_policy_without_ladders_records_no_schedules() {
    let mut case = Case::new(Policy::default());
    let now: Timestamp = "2026-03-02T09:00:00Z".parse().unwrap();
    let events = case.ok("alice", file("billing"), now);
    assert_eq!(names(&events), ["ComplaintFiled"]);
    assert!(case.complaint.deadlines.is_empty());
}

#[test]
fn subject_keys_round_trip() {
    for subject in [
        Subject::Promise {
            promise_id: promise_id(),
        },
        Subject::FollowUp {
            follow_up_id: crate::FollowUpId::new(Uuid::from_u128(7)),
        },
        Subject::Obligation { obligation_no: 3 },
        Subject::Deadline {
            deadline: DeadlineKind::SummaryResolution,
        },
    ] {
        assert_eq!(Subject::parse_key(&subject.key()), Some(subject));
    }
    assert_eq!(Subject::parse_key("promise:not-a-uuid"), None);
    assert_eq!(Subject::parse_key("deadline:whenever"), None);
}
