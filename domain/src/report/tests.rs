//! Each definition of the accountability report, checked against numbers worked out by hand.
//! The calendar is office hours (Monday to Friday, 09:00 to 17:00 UTC); 2 March 2026 is a
//! Monday.

use jiff::{SignedDuration, Timestamp};
use uuid::Uuid;

use super::*;
use crate::calendar::{BusinessCalendar, CalendarConfig};
use crate::command::Customer;
use crate::event::{ComplaintEvent as E, Discharge};
use crate::values::{CustomerReference, EscalationTarget, HandBackReason, PromiseKind, SealedText};
use PromiseKind::{Callback, Refund, Visit};

fn t(text: &str) -> Timestamp {
    format!("{text}:00Z").parse().expect("timestamp")
}

fn staff(name: &str) -> StaffId {
    StaffId::parse(name).unwrap()
}

fn sealed() -> SealedText {
    SealedText::from_stored("x".into())
}

fn office_hours() -> BusinessCalendar {
    let weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday"];
    BusinessCalendar::from_config(&CalendarConfig {
        time_zone: "UTC".to_owned(),
        hours: weekdays
            .iter()
            .map(|day| ((*day).to_owned(), vec!["09:00-17:00".to_owned()]))
            .collect(),
        holidays: Vec::new(),
        closures: Vec::new(),
    })
    .unwrap()
}

fn policy() -> Policy {
    Policy {
        calendar: office_hours(),
        teams: [
            ("billing".to_owned(), vec![staff("alice"), staff("bob")]),
            ("field".to_owned(), vec![staff("carol")]),
        ]
        .into_iter()
        .collect(),
        ..Policy::default()
    }
}

fn params(from: &str, to: &str, group_by: &[Dimension], period: Period) -> ReportParams {
    ReportParams::new(t(from), t(to), group_by.to_vec(), period).unwrap()
}

/// 1 to 10 March 2026, by month.
fn early_march(group_by: &[Dimension]) -> ReportParams {
    params(
        "2026-03-01T00:00",
        "2026-03-10T00:00",
        group_by,
        Period::Month,
    )
}

fn complaint(number: u128) -> Uuid {
    Uuid::from_u128(0xc000 + number)
}

fn promise(number: u128) -> PromiseId {
    PromiseId::new(Uuid::from_u128(0xb000 + number))
}

/// A ledger being written: each event gets the next position.
#[derive(Default)]
struct Script {
    entries: Vec<(Uuid, E)>,
}

impl Script {
    fn push(&mut self, complaint_id: Uuid, event: E) -> u64 {
        self.entries.push((complaint_id, event));
        self.entries.len() as u64
    }

    /// Appends events of one complaint, in order.
    fn extend(&mut self, complaint_id: Uuid, events: impl IntoIterator<Item = E>) {
        for event in events {
            self.push(complaint_id, event);
        }
    }

    /// The report of the ledger so far under the test [`policy`].
    fn report(&self, params: ReportParams) -> AccountabilityReport {
        let policy = policy();
        let mut builder = ReportBuilder::new(params, &policy);
        for (index, (complaint_id, event)) in self.entries.iter().enumerate() {
            builder.push(index as u64 + 1, *complaint_id, event);
        }
        builder.finish()
    }
}

fn filed(channel: Channel, category: &str, at: &str) -> E {
    E::ComplaintFiled {
        customer: Customer {
            reference: CustomerReference::parse("CUST-1").unwrap(),
            name: sealed(),
            email: None,
            phone: None,
        },
        channel,
        category: Category::parse(category).unwrap(),
        description: sealed(),
        filed_by: staff("alice"),
        at: t(at),
    }
}

fn assigned(owner: &str, at: &str) -> E {
    E::OwnerAssigned {
        owner: Owner::parse(owner).unwrap(),
        previous: None,
        triage_due_at: None,
        by: staff("alice"),
        at: t(at),
    }
}

fn contact(contact_no: u32, direction: Direction, at: &str) -> E {
    E::ContactLogged {
        contact_no,
        direction,
        channel: Channel::Phone,
        summary: sealed(),
        request: false,
        staff: staff("alice"),
        alias: None,
        at: t(at),
    }
}

fn made(id: u128, kind: PromiseKind, promiser: &str, due: &str, at: &str) -> E {
    E::PromiseMade {
        promise_id: promise(id),
        kind,
        description: sealed(),
        due_at: t(due),
        promiser: staff(promiser),
        concerns: None,
        at: t(at),
    }
}

fn kept(id: u128, on_time: bool, at: &str) -> E {
    E::PromiseKept {
        promise_id: promise(id),
        evidence: sealed(),
        on_time,
        by: staff("alice"),
        at: t(at),
    }
}

fn renegotiated(id: u128, previous: &str, due: &str, agreed: bool, at: &str) -> E {
    E::PromiseRenegotiated {
        promise_id: promise(id),
        previous_due_at: t(previous),
        due_at: t(due),
        reason: sealed(),
        customer_agreed: agreed,
        by: staff("alice"),
        at: t(at),
    }
}

fn withdrawn(id: u128, at: &str) -> E {
    E::PromiseWithdrawn {
        promise_id: promise(id),
        reason: sealed(),
        by: staff("alice"),
        at: t(at),
    }
}

fn broken(id: u128, due: &str, at: &str) -> E {
    E::PromiseBroken {
        promise_id: promise(id),
        due_at: t(due),
        at: t(at),
    }
}

fn proposed(at: &str) -> E {
    E::ResolutionProposed {
        proposal_no: 1,
        summary: sealed(),
        by: staff("alice"),
        at: t(at),
    }
}

fn resolved(at: &str) -> E {
    E::ComplaintResolved {
        override_reason: Some(sealed()),
        by: staff("alice"),
        at: t(at),
    }
}

fn reopened(at: &str) -> E {
    E::ComplaintReopened {
        reason: sealed(),
        by: staff("alice"),
        at: t(at),
    }
}

fn escalated(to: EscalationTarget, reason: EscalationReason, at: &str) -> E {
    E::Escalated {
        to,
        reason,
        note: None,
        by: None,
        at: t(at),
    }
}

fn handed_back(reason: HandBackReason, at: &str) -> E {
    E::HandedBackToCustomer {
        reason,
        note: sealed(),
        by: staff("alice"),
        at: t(at),
    }
}

fn figure<'a>(group: &'a Group, name: &str) -> &'a Figure {
    group
        .figure(name)
        .unwrap_or_else(|| panic!("no figure {name}"))
}

fn count(group: &Group, name: &str) -> u64 {
    match figure(group, name).value {
        Value::Count(count) => count,
        other => panic!("{name} is not a count: {other:?}"),
    }
}

/// The positions of each evidence item of a figure.
fn positions(group: &Group, name: &str) -> Vec<Vec<u64>> {
    figure(group, name)
        .evidence
        .iter()
        .map(|item| item.positions.clone())
        .collect()
}

fn group<'a>(report: &'a AccountabilityReport, key: &[&str]) -> &'a Group {
    report
        .groups
        .iter()
        .find(|group| {
            group
                .key
                .iter()
                .map(|(_, value)| value.as_str())
                .eq(key.iter().copied())
        })
        .unwrap_or_else(|| {
            let keys: Vec<_> = report.groups.iter().map(|group| &group.key).collect();
            panic!("no group {key:?} among {keys:?}")
        })
}

fn hours(hours: i64) -> SignedDuration {
    SignedDuration::from_hours(hours)
}

/// The value of a durations figure with `count` items, its median and its 90th percentile.
fn durations(count: u64, median: SignedDuration, p90: SignedDuration) -> Value {
    Value::Durations {
        count,
        median: Some(median),
        p90: Some(p90),
    }
}

#[test]
fn promise_outcomes_are_their_latest_state_as_of_the_end_of_the_range() {
    let mut ledger = Script::default();
    let (a, b) = (complaint(1), complaint(2));
    ledger.extend(
        a,
        [
            filed(Channel::Phone, "billing", "2026-03-02T09:00"), // 1
            made(1, Callback, "alice", "2026-03-03T10:00", "2026-03-02T10:00"), // 2
            kept(1, true, "2026-03-03T09:00"),                    // 3
            made(2, Callback, "alice", "2026-03-03T10:00", "2026-03-02T10:00"), // 4
            broken(2, "2026-03-03T10:00", "2026-03-03T11:00"),    // 5
            kept(2, false, "2026-03-03T12:00"),                   // 6
            made(3, Callback, "alice", "2026-03-04T10:00", "2026-03-02T11:00"), // 7
            renegotiated(
                3,
                "2026-03-04T10:00",
                "2026-03-06T10:00",
                true,
                "2026-03-03T10:00",
            ), // 8
            kept(3, true, "2026-03-05T10:00"),                    // 9
            made(4, Callback, "alice", "2026-03-04T10:00", "2026-03-02T11:00"), // 10
            broken(4, "2026-03-04T10:00", "2026-03-04T11:00"),    // 11
            withdrawn(4, "2026-03-04T12:00"),                     // 12
            made(5, Callback, "alice", "2026-03-05T10:00", "2026-03-02T12:00"), // 13
            renegotiated(
                5,
                "2026-03-05T10:00",
                "2026-03-20T10:00",
                false,
                "2026-03-04T10:00",
            ), // 14
            made(6, Callback, "alice", "2026-03-06T10:00", "2026-03-02T12:00"), // 15
            // Kept after the end of the range: as of `to` it is overdue.
            kept(6, false, "2026-03-12T10:00"), // 16
        ],
    );
    // A promise made before the range, on a complaint filed before it.
    ledger.extend(
        b,
        [
            filed(Channel::Email, "billing", "2026-02-20T09:00"), // 17
            made(7, Callback, "alice", "2026-02-28T10:00", "2026-02-27T10:00"), // 18
            kept(7, true, "2026-02-27T11:00"),                    // 19
            // A promise made at the end of the range is not in it.
            made(8, Callback, "alice", "2026-03-12T10:00", "2026-03-10T00:00"), // 20
        ],
    );

    let report = ledger.report(early_march(&[]));
    let total = &report.total;
    assert!(report.groups.is_empty(), "not grouped: only the total");
    assert_eq!(report.through_position, 20);
    assert_eq!(count(total, "promises_made"), 6);
    assert_eq!(
        positions(total, "promises_made"),
        [[2], [4], [7], [10], [13], [15]]
    );
    assert_eq!(positions(total, "promises_kept_on_time"), [[2, 3], [7, 9]]);
    assert_eq!(positions(total, "promises_kept_late"), [[4, 6]]);
    assert_eq!(positions(total, "promises_withdrawn"), [[10, 12]]);
    assert_eq!(positions(total, "promises_overdue"), [vec![15]]);
    assert_eq!(positions(total, "promises_not_yet_due"), [[13, 14]]);
    assert_eq!(
        positions(total, "promises_broken"),
        [[4, 5], [10, 11]],
        "ever broken, whatever came after"
    );
    assert_eq!(
        positions(total, "promises_renegotiated_with_consent"),
        [[7, 8]]
    );
    assert_eq!(
        positions(total, "promises_renegotiated_without_consent"),
        [[13, 14]]
    );
    assert_eq!(
        figure(total, "promises_kept_late").evidence[0].promise_id,
        Some(promise(2))
    );

    // Kept on time (1, 3) ÷ with a verdict (1, 3, 2 late, 4 withdrawn, 6 overdue); 5 is not due.
    let rate = figure(total, "kept_on_time_rate");
    assert_eq!(
        rate.value,
        Value::Rate {
            numerator: 2,
            denominator: 5
        }
    );
    assert_eq!(rate.value.rate(), Some(0.4));
    let verdicts: Vec<(PromiseId, &str)> = rate
        .evidence
        .iter()
        .map(|item| (item.promise_id.unwrap(), item.detail.as_deref().unwrap()))
        .collect();
    assert_eq!(
        verdicts,
        [
            (promise(1), "kept-on-time"),
            (promise(2), "kept-late"),
            (promise(3), "kept-on-time"),
            (promise(4), "withdrawn"),
            (promise(6), "overdue"),
        ]
    );
    // Complaint a was filed in the range, b before it.
    assert_eq!(positions(total, "complaints_filed"), [vec![1]]);
}

#[test]
fn promises_belong_to_their_promiser_team_kind_and_the_complaints_channel() {
    let mut ledger = Script::default();
    let (a, b) = (complaint(1), complaint(2));
    ledger.extend(
        a,
        [
            filed(Channel::Phone, "billing", "2026-03-02T09:00"), // 1
            assigned("alice", "2026-03-02T09:00"),                // 2
            made(1, Callback, "alice", "2026-03-20T10:00", "2026-03-02T10:00"), // 3
            made(2, Refund, "bob", "2026-03-20T10:00", "2026-03-09T10:00"), // 4
        ],
    );
    ledger.extend(
        b,
        [
            filed(Channel::Chat, "delivery", "2026-03-03T09:00"), // 5
            made(3, Visit, "carol", "2026-04-20T10:00", "2026-04-01T10:00"), // 6
            made(4, Callback, "dave", "2026-04-20T10:00", "2026-04-02T10:00"), // 7
        ],
    );

    let report = ledger.report(params(
        "2026-03-01T00:00",
        "2026-05-01T00:00",
        &[Dimension::Team, Dimension::Kind],
        Period::Month,
    ));
    let keys: Vec<Vec<&str>> = report
        .groups
        .iter()
        .map(|group| group.key.iter().map(|(_, value)| value.as_str()).collect())
        .collect();
    assert_eq!(
        keys,
        [
            vec!["billing", "callback"],
            vec!["billing", "n/a"],
            vec!["billing", "refund"],
            vec!["field", "visit"],
            vec!["unassigned", "callback"],
            vec!["unassigned", "n/a"],
        ],
        "alice and bob are billing, carol field, dave in no team; complaint b has no owner"
    );
    let billing_callbacks = group(&report, &["billing", "callback"]);
    assert_eq!(
        billing_callbacks.dimension(Dimension::Team),
        Some("billing")
    );
    assert_eq!(positions(billing_callbacks, "promises_made"), [vec![3]]);
    assert_eq!(count(billing_callbacks, "complaints_filed"), 0);
    // Complaint-level facts have no promise kind.
    assert_eq!(
        positions(group(&report, &["billing", "n/a"]), "complaints_filed"),
        [vec![1]]
    );
    assert_eq!(
        positions(group(&report, &["unassigned", "n/a"]), "complaints_filed"),
        [vec![5]]
    );
    assert_eq!(
        count(group(&report, &["billing", "n/a"]), "promises_made"),
        0
    );
    assert_eq!(count(&report.total, "promises_made"), 4);

    // By channel and month: a's promises are phone in March, b's chat in April.
    let report = ledger.report(params(
        "2026-03-01T00:00",
        "2026-05-01T00:00",
        &[Dimension::Channel, Dimension::Period],
        Period::Month,
    ));
    assert_eq!(report.periods, ["2026-03", "2026-04"]);
    assert_eq!(
        positions(group(&report, &["phone", "2026-03"]), "promises_made"),
        [[3], [4]]
    );
    assert_eq!(
        positions(group(&report, &["chat", "2026-04"]), "promises_made"),
        [[6], [7]]
    );
    assert_eq!(
        positions(group(&report, &["chat", "2026-03"]), "complaints_filed"),
        [vec![5]],
        "complaint b was filed in March"
    );

    // By owner and ISO week: 2 March is in week 10, 9 March in week 11.
    let report = ledger.report(params(
        "2026-03-01T00:00",
        "2026-03-16T00:00",
        &[Dimension::Owner, Dimension::Period, Dimension::Category],
        Period::Week,
    ));
    assert_eq!(report.periods, ["2026-W09", "2026-W10", "2026-W11"]);
    let made_in = |key: &[&str]| positions(group(&report, key), "promises_made");
    let filed_in = |key: &[&str]| positions(group(&report, key), "complaints_filed");
    assert_eq!(made_in(&["alice", "2026-W10", "billing"]), [vec![3]]);
    assert_eq!(made_in(&["bob", "2026-W11", "billing"]), [vec![4]]);
    assert_eq!(
        report.groups.len(),
        3,
        "alice (her promise and complaint a), bob, and complaint b"
    );
    assert_eq!(filed_in(&["alice", "2026-W10", "billing"]), [vec![1]]);
    assert_eq!(filed_in(&["unassigned", "2026-W10", "delivery"]), [vec![5]]);
}

#[test]
fn complaints_belong_to_their_owner_at_first_resolution_or_at_the_end() {
    let mut ledger = Script::default();
    let (a, b, c, d) = (complaint(1), complaint(2), complaint(3), complaint(4));
    ledger.extend(
        a,
        [
            filed(Channel::Phone, "billing", "2026-03-02T09:00"), // 1
            assigned("alice", "2026-03-02T09:00"),                // 2
            resolved("2026-03-02T10:00"),                         // 3
            reopened("2026-03-03T10:00"),                         // 4
            E::TakenOver {
                from: Owner::parse("alice").unwrap(),
                to: Owner::parse("bob").unwrap(),
                reason: sealed(),
                at: t("2026-03-03T11:00"),
            }, // 5
        ],
    );
    ledger.extend(
        b,
        [
            filed(Channel::Phone, "billing", "2026-03-02T09:00"), // 6
            assigned("alice", "2026-03-02T09:00"),                // 7
            E::HandoverAccepted {
                from: Owner::parse("alice").unwrap(),
                to: Owner::parse("team:field").unwrap(),
                triage_due_at: None,
                by: staff("carol"),
                at: t("2026-03-02T11:00"),
            }, // 8
        ],
    );
    ledger.push(c, filed(Channel::Phone, "billing", "2026-03-02T09:00")); // 9
    ledger.extend(
        d,
        [
            filed(Channel::Phone, "billing", "2026-03-02T09:00"), // 10
            assigned("dave", "2026-03-02T09:00"),                 // 11
        ],
    );
    // An assignment after the end of the range does not count.
    ledger.push(c, assigned("carol", "2026-03-20T09:00")); // 12

    let report = ledger.report(early_march(&[Dimension::Owner, Dimension::Team]));
    let filed_in = |key: &[&str]| positions(group(&report, key), "complaints_filed");
    assert_eq!(
        filed_in(&["alice", "billing"]),
        [vec![1]],
        "owner at first resolution"
    );
    assert_eq!(
        filed_in(&["team:field", "field"]),
        [vec![6]],
        "a team queue is its team"
    );
    assert_eq!(filed_in(&["unassigned", "unassigned"]), [vec![9]]);
    assert_eq!(
        filed_in(&["dave", "unassigned"]),
        [vec![10]],
        "dave is in no team"
    );
    assert_eq!(report.groups.len(), 4);
}

#[test]
fn times_to_acknowledge_and_resolve_are_business_time_with_nearest_rank_percentiles() {
    let mut ledger = Script::default();
    let (a, b, c, d, e) = (
        complaint(1),
        complaint(2),
        complaint(3),
        complaint(4),
        complaint(5),
    );
    // a: filed Monday 16:00, answered Tuesday 10:00 (1 h + 1 h), resolved Wednesday 16:00
    // (1 h + 8 h + 7 h).
    ledger.extend(
        a,
        [
            filed(Channel::Phone, "billing", "2026-03-02T16:00"), // 1
            contact(1, Direction::Inbound, "2026-03-02T16:00"),   // 2
            contact(2, Direction::Outbound, "2026-03-03T10:00"),  // 3
            resolved("2026-03-04T16:00"),                         // 4
        ],
    );
    // b: filed Friday 16:30, a promise on Monday 09:15 (30 m + 15 m); never resolved.
    ledger.extend(
        b,
        [
            filed(Channel::Phone, "billing", "2026-03-06T16:30"), // 5
            made(1, Callback, "bob", "2026-03-20T10:00", "2026-03-09T09:15"), // 6
        ],
    );
    // c: filed on Saturday, a proposal Monday 11:00 (2 h), resolved Monday 12:00 (3 h).
    ledger.extend(
        c,
        [
            filed(Channel::Phone, "billing", "2026-03-07T10:00"), // 7
            proposed("2026-03-09T11:00"),                         // 8
            resolved("2026-03-09T12:00"),                         // 9
        ],
    );
    // d: filed Tuesday 09:00, acknowledgement deadline met at 13:00 (4 h), resolved Wednesday
    // 13:00 (8 h + 4 h).
    ledger.extend(
        d,
        [
            filed(Channel::Phone, "billing", "2026-03-03T09:00"), // 10
            E::DeadlineMet {
                deadline: DeadlineKind::Acknowledge,
                due_at: t("2026-03-03T17:00"),
                on_time: true,
                at: t("2026-03-03T13:00"),
            }, // 11
            resolved("2026-03-04T13:00"),                         // 12
        ],
    );
    // e: filed Wednesday and answered only after the end of the range.
    ledger.extend(
        e,
        [
            filed(Channel::Phone, "billing", "2026-03-04T09:00"), // 13
            contact(1, Direction::Outbound, "2026-03-10T09:00"),  // 14
        ],
    );

    let report = ledger.report(early_march(&[]));
    let total = &report.total;
    // Acknowledged in 2 h, 45 m, 2 h, 4 h: sorted 45 m, 2 h, 2 h, 4 h; the median is rank
    // ⌈0.5·4⌉ = 2, the 90th percentile rank ⌈0.9·4⌉ = 4.
    assert_eq!(
        figure(total, "time_to_acknowledge").value,
        durations(4, hours(2), hours(4))
    );
    let acknowledged: Vec<(Vec<u64>, SignedDuration)> = figure(total, "time_to_acknowledge")
        .evidence
        .iter()
        .map(|item| (item.positions.clone(), item.business_time.unwrap()))
        .collect();
    assert_eq!(
        acknowledged,
        [
            (vec![1, 3], hours(2)),
            (vec![5, 6], SignedDuration::from_mins(45)),
            (vec![7, 8], hours(2)),
            (vec![10, 11], hours(4)),
        ]
    );
    assert_eq!(positions(total, "complaints_unacknowledged"), [vec![13]]);
    // Resolved in 16 h, 3 h, 12 h: sorted 3 h, 12 h, 16 h; median rank 2, p90 rank 3.
    assert_eq!(
        figure(total, "time_to_resolve").value,
        durations(3, hours(12), hours(16))
    );
    assert_eq!(
        positions(total, "time_to_resolve"),
        [[1, 4], [7, 9], [10, 12]]
    );
    assert_eq!(positions(total, "unresolved"), [[5], [13]]);
}

#[test]
fn regulatory_buckets_follow_the_first_resolution() {
    let mut ledger = Script::default();
    // Filed Monday 2 March 10:00: the third business day closes Thursday 5 March 17:00; four
    // weeks end 30 March 10:00, eight weeks 27 April 10:00.
    let resolutions = [
        "2026-03-05T17:00", // on the close of the third business day
        "2026-03-06T09:00",
        "2026-03-30T10:00", // exactly four weeks
        "2026-04-27T10:00", // exactly eight weeks
        "2026-04-27T10:01",
    ];
    let mut expected = Vec::new();
    for (number, resolution) in resolutions.iter().enumerate() {
        let id = complaint(number as u128);
        let filing = ledger.push(id, filed(Channel::Phone, "billing", "2026-03-02T10:00"));
        let resolving = ledger.push(id, resolved(resolution));
        expected.push(vec![filing, resolving]);
    }
    let open = complaint(10);
    let open_filing = ledger.push(open, filed(Channel::Phone, "billing", "2026-03-02T10:00"));
    // Resolved on the second day, reopened, resolved again much later: the first counts.
    let again = complaint(11);
    let again_filing = ledger.push(again, filed(Channel::Phone, "billing", "2026-03-02T10:00"));
    let first = ledger.push(again, resolved("2026-03-03T10:00"));
    ledger.extend(
        again,
        [reopened("2026-03-04T10:00"), resolved("2026-05-20T10:00")],
    );

    let report = ledger.report(params(
        "2026-03-01T00:00",
        "2026-06-01T00:00",
        &[],
        Period::Month,
    ));
    let total = &report.total;
    assert_eq!(
        positions(total, "resolved_within_3_business_days"),
        [expected[0].clone(), vec![again_filing, first]]
    );
    assert_eq!(
        positions(total, "resolved_within_4_weeks"),
        [expected[1].clone(), expected[2].clone()]
    );
    assert_eq!(
        positions(total, "resolved_within_8_weeks"),
        [expected[3].clone()]
    );
    assert_eq!(positions(total, "resolved_later"), [expected[4].clone()]);
    assert_eq!(positions(total, "unresolved"), [vec![open_filing]]);
}

#[test]
fn repeat_contacts_hand_backs_escalations_and_reopenings_are_counted_per_complaint() {
    let mut ledger = Script::default();
    let (a, b, c) = (complaint(1), complaint(2), complaint(3));
    ledger.extend(
        a,
        [
            filed(Channel::Phone, "billing", "2026-03-02T09:00"), // 1
            contact(1, Direction::Inbound, "2026-03-02T09:00"),   // 2
            contact(2, Direction::Inbound, "2026-03-02T10:00"),   // 3: repeat
            contact(3, Direction::Inbound, "2026-03-02T11:00"),   // 4: repeat
            escalated(
                EscalationTarget::SpecialCare,
                EscalationReason::RepeatContacts,
                "2026-03-02T11:00",
            ), // 5
            contact(4, Direction::Outbound, "2026-03-02T12:00"),  // 6
            resolved("2026-03-03T09:00"),                         // 7
            contact(5, Direction::Inbound, "2026-03-03T10:00"),   // 8: while resolved
            reopened("2026-03-03T11:00"),                         // 9
            contact(6, Direction::Inbound, "2026-03-03T12:00"),   // 10: repeat
            handed_back(HandBackReason::CustomerDocumentRequired, "2026-03-03T13:00"), // 11
            escalated(
                EscalationTarget::Lead,
                EscalationReason::Requested,
                "2026-03-03T14:00",
            ), // 12
            resolved("2026-03-04T09:00"),                         // 13
            reopened("2026-03-05T09:00"),                         // 14
        ],
    );
    ledger.extend(
        b,
        [
            filed(Channel::Email, "billing", "2026-03-02T09:00"), // 15
            contact(1, Direction::Inbound, "2026-03-02T09:00"),   // 16
            resolved("2026-03-02T12:00"),                         // 17
        ],
    );
    ledger.extend(
        c,
        [
            filed(Channel::Email, "billing", "2026-03-02T09:00"), // 18
            handed_back(HandBackReason::OutsideOurRemit, "2026-03-02T10:00"), // 19
            handed_back(HandBackReason::CustomerDecisionRequired, "2026-03-02T11:00"), // 20
            contact(1, Direction::Inbound, "2026-03-02T12:00"),   // 21
        ],
    );

    let report = ledger.report(early_march(&[]));
    let total = &report.total;
    assert_eq!(positions(total, "repeat_contacts"), [[3], [4], [10]]);
    assert_eq!(positions(total, "escalated_for_repeat_contacts"), [vec![5]]);
    let escalations: Vec<&str> = figure(total, "escalations")
        .evidence
        .iter()
        .map(|item| item.detail.as_deref().unwrap())
        .collect();
    assert_eq!(
        escalations,
        ["special-care/repeat-contacts", "lead/requested"]
    );
    assert_eq!(positions(total, "hand_backs"), [[11], [19], [20]]);
    assert_eq!(
        figure(total, "hand_backs").evidence[1].detail.as_deref(),
        Some("outside-our-remit")
    );
    assert_eq!(positions(total, "complaints_resolved"), [[1, 7], [15, 17]]);
    assert_eq!(
        positions(total, "complaints_reopened"),
        [[9, 14]],
        "one complaint, reopened twice"
    );
    let rate = figure(total, "reopen_rate");
    assert_eq!(
        rate.value,
        Value::Rate {
            numerator: 1,
            denominator: 2
        }
    );
    let outcomes: Vec<(Uuid, &str)> = rate
        .evidence
        .iter()
        .map(|item| (item.complaint_id, item.detail.as_deref().unwrap()))
        .collect();
    assert_eq!(outcomes, [(a, "reopened"), (b, "not-reopened")]);
}

#[test]
fn obligations_count_as_answered_only_before_the_end_of_the_range() {
    let mut ledger = Script::default();
    let a = complaint(1);
    ledger.push(a, filed(Channel::Phone, "billing", "2026-03-02T09:00")); // 1
    for (number, at) in [
        (1, "2026-03-02T09:00"),
        (2, "2026-03-02T10:00"),
        (3, "2026-03-02T11:00"),
    ] {
        ledger.extend(
            a,
            [
                contact(number, Direction::Inbound, at),
                E::ObligationOpened {
                    obligation_no: number,
                    contact_no: number,
                    due_at: t("2026-03-03T09:00"),
                },
            ],
        );
    } // 2..=7: obligations opened at 3, 5, 7
    let discharge = |obligation_no, on_time, at: &str| E::ObligationDischarged {
        obligation_no,
        by: Discharge::Reply { contact_no: 4 },
        on_time,
        at: t(at),
    };
    ledger.extend(
        a,
        [
            discharge(1, true, "2026-03-02T12:00"),  // 8
            discharge(2, false, "2026-03-04T12:00"), // 9
            discharge(3, false, "2026-03-12T12:00"), // 10: after the range
        ],
    );

    let report = ledger.report(early_march(&[]));
    let total = &report.total;
    assert_eq!(positions(total, "obligations_opened"), [[3], [5], [7]]);
    assert_eq!(positions(total, "obligations_answered_on_time"), [[3, 8]]);
    assert_eq!(positions(total, "obligations_answered_late"), [[5, 9]]);
    assert_eq!(positions(total, "obligations_unanswered"), [vec![7]]);
    assert_eq!(
        figure(total, "obligations_unanswered").evidence[0].obligation_no,
        Some(3)
    );
}

#[test]
fn every_group_lists_every_figure_and_counts_its_evidence() {
    let mut ledger = Script::default();
    let a = complaint(1);
    ledger.extend(
        a,
        [
            filed(Channel::Phone, "billing", "2026-03-02T09:00"),
            assigned("alice", "2026-03-02T09:00"),
            made(1, Callback, "alice", "2026-03-20T10:00", "2026-03-02T10:00"),
        ],
    );
    let report = ledger.report(early_march(&[Dimension::Owner]));
    for group in report.groups.iter().chain([&report.total]) {
        let names: Vec<&str> = group.figures.iter().map(|figure| figure.name).collect();
        assert_eq!(names, FIGURES);
        for figure in &group.figures {
            match figure.value {
                Value::Count(count) => assert_eq!(count, figure.evidence.len() as u64),
                Value::Rate { denominator, .. } => {
                    assert_eq!(denominator, figure.evidence.len() as u64)
                }
                Value::Durations { count, .. } => {
                    assert_eq!(count, figure.evidence.len() as u64)
                }
            }
        }
    }
    assert_eq!(
        figure(&report.total, "kept_on_time_rate").value.rate(),
        None,
        "nothing had a verdict yet"
    );
}

#[test]
fn nearest_rank_takes_the_value_at_the_rounded_up_rank() {
    assert_eq!(nearest_rank::<u32>(&[], 50), None);
    assert_eq!(nearest_rank(&[7], 50), Some(7));
    assert_eq!(nearest_rank(&[7], 90), Some(7));
    assert_eq!(nearest_rank(&[1, 2], 50), Some(1), "the lower middle");
    assert_eq!(nearest_rank(&[1, 2, 3], 50), Some(2));
    let ten: Vec<u32> = (1..=10).collect();
    assert_eq!(nearest_rank(&ten, 90), Some(9));
    let eleven: Vec<u32> = (1..=11).collect();
    assert_eq!(nearest_rank(&eleven, 90), Some(10));
    assert_eq!(nearest_rank(&eleven, 100), Some(11));
}

#[test]
fn parameters_are_checked() {
    let from = t("2026-03-01T00:00");
    assert_eq!(
        ReportParams::new(from, from, Vec::new(), Period::Month),
        Err(ReportParamsError::EmptyRange { from, to: from })
    );
    assert!(matches!(
        ReportParams::new(from, t("2036-03-10T00:00"), Vec::new(), Period::Month),
        Err(ReportParamsError::RangeTooLong { .. })
    ));
    assert!(
        ReportParams::new(from, t("2036-03-07T00:00"), Vec::new(), Period::Month).is_ok(),
        "3,659 days fit"
    );
    assert_eq!(
        ReportParams::new(
            from,
            t("2026-04-01T00:00"),
            vec![Dimension::Owner, Dimension::Owner],
            Period::Week
        ),
        Err(ReportParamsError::DuplicateDimension(Dimension::Owner))
    );
    assert_eq!(
        Dimension::parse_list("owner, period"),
        Ok(vec![Dimension::Owner, Dimension::Period])
    );
    assert_eq!(Dimension::parse_list(""), Ok(Vec::new()));
    assert_eq!(
        Dimension::parse_list("owner,colour"),
        Err(ReportParamsError::UnknownDimension("colour".into()))
    );
    assert_eq!(Period::parse("week"), Ok(Period::Week));
    assert_eq!(
        Period::parse("fortnight"),
        Err(ReportParamsError::UnknownPeriod("fortnight".into()))
    );
}

#[test]
fn periods_are_iso_weeks_or_months_in_the_calendars_zone() {
    let utc = TimeZone::UTC;
    assert_eq!(Period::Week.key(t("2026-01-01T12:00"), &utc), "2026-W01");
    assert_eq!(Period::Week.key(t("2027-01-01T12:00"), &utc), "2026-W53");
    assert_eq!(Period::Month.key(t("2026-03-31T23:30"), &utc), "2026-03");
    let amsterdam = TimeZone::get("Europe/Amsterdam").unwrap();
    assert_eq!(
        Period::Month.key(t("2026-03-31T23:30"), &amsterdam),
        "2026-04",
        "already April in Amsterdam"
    );
    assert_eq!(
        Period::Month.keys_between(t("2026-03-15T00:00"), t("2026-05-01T00:00"), &utc),
        ["2026-03", "2026-04"]
    );
    assert_eq!(
        Period::Month.keys_between(t("2026-03-15T00:00"), t("2026-05-01T00:01"), &utc),
        ["2026-03", "2026-04", "2026-05"]
    );
    assert_eq!(
        Period::Week.keys_between(t("2026-03-04T00:00"), t("2026-03-16T00:00"), &utc),
        ["2026-W10", "2026-W11"]
    );
}
