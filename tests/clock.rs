//! The promise clock end to end: a policy file, commands over HTTP, and the scheduler ticking
//! with a controllable clock. Rungs land at the right instants across a daylight-saving change,
//! a scheduler stopped for a week catches up every missed rung in order, and two schedulers
//! racing against one database reach each rung exactly once.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};
use obliged::scheduler::{Scheduler, Tick};
use obliged_domain::{FixedClock, Policy};
use serde_json::{json, Value};

use crate::support::{for_each_store, promise_id, Backend, TestApp};

for_each_store!(
    a_promise_across_the_october_change_is_warned_broken_and_escalated_on_time,
    a_scheduler_stopped_for_a_week_reaches_every_missed_rung_in_order,
    two_schedulers_racing_reach_each_rung_exactly_once,
    deadlines_and_ladders_show_on_the_complaint,
);

/// Amsterdam office hours with King's Day off, and the ladder of the issue.
const POLICY: &str = r#"
[calendar]
time_zone = "Europe/Amsterdam"
holidays = ["2026-04-27"]

[calendar.hours]
monday = ["09:00-17:00"]
tuesday = ["09:00-17:00"]
wednesday = ["09:00-17:00"]
thursday = ["09:00-17:00"]
friday = ["09:00-17:00"]

[deadlines]
acknowledge_within = "8h"
respond_within = "16h"
regime = "kifid"

[[ladders.promise]]
name = "warning"
offset = "-24h"
remind = ["promiser"]

[[ladders.promise]]
name = "breach"
offset = "0"
mark_broken = true
remind = ["owner", "lead"]

[[ladders.promise]]
name = "manager"
offset = "+1d"
escalate = "manager"

[[ladders.promise]]
name = "special-care"
offset = "+3d"
escalate = "special-care"

[[ladders.obligation]]
name = "overdue"
offset = "0"
remind = ["owner"]
"#;

fn policy() -> Policy {
    obliged::policy::parse(POLICY).expect("the test policy is valid")
}

fn at(text: &str) -> Timestamp {
    text.parse().expect("timestamp")
}

fn scheduler(app: &TestApp) -> Scheduler {
    Scheduler::new(
        app.state.engine.clone(),
        app.state.projector.clone(),
        app.state.read_models.clone(),
    )
}

/// Another instance of obliged on the same database, with its own engine and clock.
fn second_instance(app: &TestApp, clock: &FixedClock) -> Scheduler {
    let other = obliged::app::App::new(
        &app.store.database,
        &app.master_key,
        policy(),
        Arc::new(clock.clone()),
    );
    Scheduler::new(other.engine, other.projector, other.read_models)
}

/// The `RungReached` payloads of a complaint, in history order.
async fn rungs_reached(app: &TestApp, id: &str) -> Vec<Value> {
    app.history(id)
        .await
        .into_iter()
        .filter(|event| event["type"] == "RungReached")
        .map(|event| event["payload"]["RungReached"].clone())
        .collect()
}

/// A reached rung as `which` (its name or number), when it was due and when it was reached.
fn stamped<T>(which: T, rung: &Value) -> (T, &str, &str) {
    (
        which,
        rung["due_at"].as_str().unwrap(),
        rung["at"].as_str().unwrap(),
    )
}

fn summary(tick: &Tick) -> Vec<(String, u32)> {
    tick.reached
        .iter()
        .map(|rung| {
            (
                rung.subject.split(':').next().unwrap().to_owned(),
                rung.rung,
            )
        })
        .collect()
}

/// Files a complaint owned by Alice with a callback promise due at `due_at`.
async fn promise_due(app: &TestApp, number: u128, due_at: Timestamp) -> String {
    let id = app.file().await;
    for command in [
        json!({"type":"AssignOwner","owner":"alice"}),
        json!({"type":"MakePromise","promise_id":promise_id(number),"kind":"callback",
               "description":"Call back about the refund","due_at":due_at}),
        // The reply meets the acknowledgement, so only the promise's ladder runs.
        json!({"type":"LogContact","direction":"outbound","channel":"phone","summary":"Promised a callback"}),
    ] {
        app.ok(&id, command).await;
    }
    id
}

async fn a_promise_across_the_october_change_is_warned_broken_and_escalated_on_time(
    backend: Backend,
) {
    let Some(app) = TestApp::start_with(backend, policy()).await else {
        return;
    };
    app.clock.set(at("2026-10-19T08:00:00Z")); // Monday 10:00 CEST
                                               // Due Friday 23 October, 17:00 CEST; summer time ends on Sunday 25 October.
    let due = at("2026-10-23T15:00:00Z");
    let id = promise_due(&app, 1, due).await;
    let scheduler = scheduler(&app);

    // The warning: 24 business hours before, Wednesday 09:00 CEST. Not a second earlier.
    app.clock.set(at("2026-10-21T06:59:59Z"));
    assert!(scheduler.tick().await.unwrap().reached.is_empty());
    app.clock.set(at("2026-10-21T07:00:00Z"));
    let tick = scheduler.tick().await.unwrap();
    assert_eq!(summary(&tick), [("promise".to_owned(), 1)]);

    // The breach at the due time.
    app.clock.set(due - SignedDuration::from_secs(1));
    assert!(scheduler.tick().await.unwrap().reached.is_empty());
    app.clock.set(due);
    assert_eq!(
        summary(&scheduler.tick().await.unwrap()),
        [("promise".to_owned(), 2)]
    );

    // The manager one business day later: Monday 17:00, which is now CET, 16:00 UTC.
    app.clock.set(at("2026-10-26T15:00:00Z"));
    assert!(
        scheduler.tick().await.unwrap().reached.is_empty(),
        "Monday 16:00 CET is not yet a business day after Friday 17:00 CEST"
    );
    app.clock.set(at("2026-10-26T16:00:00Z"));
    assert_eq!(
        summary(&scheduler.tick().await.unwrap()),
        [("promise".to_owned(), 3)]
    );

    let reached = rungs_reached(&app, &id).await;
    let stamps: Vec<(&str, &str, &str)> = reached
        .iter()
        .map(|rung| stamped(rung["name"].as_str().unwrap(), rung))
        .collect();
    assert_eq!(
        stamps,
        [
            ("warning", "2026-10-21T07:00:00Z", "2026-10-21T07:00:00Z"),
            ("breach", "2026-10-23T15:00:00Z", "2026-10-23T15:00:00Z"),
            ("manager", "2026-10-26T16:00:00Z", "2026-10-26T16:00:00Z"),
        ]
    );
    assert_eq!(
        reached[0]["notified"],
        json!([{"recipient":"promiser","who":"alice"}])
    );
    let state = app
        .get(&format!("/api/complaints/{id}"), &app.agent)
        .await
        .body;
    assert_eq!(state["promises"][0]["status"], "broken");
    assert_eq!(state["escalations"], json!(["manager"]));
    let types: Vec<String> = app
        .history(&id)
        .await
        .iter()
        .map(|event| event["type"].as_str().unwrap().to_owned())
        .collect();
    assert!(types.contains(&"PromiseBroken".to_owned()));
    assert!(types.contains(&"Escalated".to_owned()));
}

async fn a_scheduler_stopped_for_a_week_reaches_every_missed_rung_in_order(backend: Backend) {
    let Some(app) = TestApp::start_with(backend, policy()).await else {
        return;
    };
    app.clock.set(at("2026-10-05T08:00:00Z")); // Monday
    let first = promise_due(&app, 1, at("2026-10-07T15:00:00Z")).await; // Wednesday 17:00
    let second = promise_due(&app, 2, at("2026-10-09T15:00:00Z")).await; // Friday 17:00
                                                                         // An inbound request on the first complaint: an obligation due in 16 business hours.
    app.ok(
        &first,
        json!({"type":"LogContact","direction":"inbound","channel":"email","summary":"Where is my money?","request":true}),
    )
    .await;

    // Nothing ticks for two weeks; then one tick catches up.
    app.clock.set(at("2026-10-19T08:00:00Z"));
    let tick = scheduler(&app).tick().await.unwrap();
    assert_eq!(tick.failed, 0);
    assert_eq!(
        tick.reached.len(),
        9,
        "four rungs per promise and the overdue obligation: {tick:?}"
    );

    for (id, due_times) in [
        (
            &first,
            [
                "2026-10-05T07:00:00Z", // warning: Monday 09:00 (24 business hours before)
                "2026-10-07T15:00:00Z", // breach
                "2026-10-08T15:00:00Z", // manager: Thursday 17:00
                "2026-10-12T15:00:00Z", // Special Care: Monday 17:00
            ],
        ),
        (
            &second,
            [
                "2026-10-07T07:00:00Z",
                "2026-10-09T15:00:00Z",
                "2026-10-12T15:00:00Z",
                "2026-10-14T15:00:00Z",
            ],
        ),
    ] {
        let reached = rungs_reached(&app, id).await;
        let promise_rungs: Vec<(u64, &str, &str)> = reached
            .iter()
            .filter(|rung| rung["subject"]["kind"] == "promise")
            .map(|rung| stamped(rung["rung"].as_u64().unwrap(), rung))
            .collect();
        assert_eq!(
            promise_rungs,
            due_times
                .iter()
                .enumerate()
                .map(|(index, due)| (index as u64 + 1, *due, "2026-10-19T08:00:00Z"))
                .collect::<Vec<_>>(),
            "every rung, in order, stamped with when it was due and when it was noticed"
        );
    }
    let obligation: Vec<Value> = rungs_reached(&app, &first)
        .await
        .into_iter()
        .filter(|rung| rung["subject"]["kind"] == "obligation")
        .collect();
    assert_eq!(obligation.len(), 1);
    // Logged Monday 10:00: sixteen business hours is Wednesday 10:00.
    assert_eq!(obligation[0]["due_at"], "2026-10-07T08:00:00Z");

    // A second tick finds nothing left; the due scan is empty.
    let again = scheduler(&app).tick().await.unwrap();
    assert!(again.reached.is_empty(), "{again:?}");
    assert!(scheduler(&app)
        .due(obliged_domain::Clock::now(&app.clock), 10)
        .await
        .unwrap()
        .is_empty());
}

async fn two_schedulers_racing_reach_each_rung_exactly_once(backend: Backend) {
    let Some(app) = TestApp::start_with(backend, policy()).await else {
        return;
    };
    app.clock.set(at("2026-10-05T08:00:00Z"));
    let mut complaints = Vec::new();
    for number in 0..12 {
        let due = at("2026-10-07T15:00:00Z") + SignedDuration::from_mins(number as i64 * 7);
        complaints.push(promise_due(&app, number + 1, due).await);
    }
    let later = at("2026-10-19T08:00:00Z");
    app.clock.set(later);
    let other_clock = FixedClock::new(later);
    let (one, two) = (scheduler(&app), second_instance(&app, &other_clock));
    let (first, second) = tokio::join!(one.tick(), two.tick());
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(first.failed + second.failed, 0);
    assert_eq!(
        first.reached.len() + second.reached.len(),
        12 * 4,
        "every rung reached by one of them: {first:?} {second:?}"
    );

    // Stored, each (complaint, subject, rung) appears once.
    let mut seen: BTreeMap<(String, String, u64), usize> = BTreeMap::new();
    for id in &complaints {
        for rung in rungs_reached(&app, id).await {
            *seen
                .entry((
                    id.clone(),
                    rung["subject"].to_string(),
                    rung["rung"].as_u64().unwrap(),
                ))
                .or_default() += 1;
        }
    }
    assert_eq!(seen.len(), 12 * 4);
    assert!(seen.values().all(|count| *count == 1), "{seen:?}");
}

async fn deadlines_and_ladders_show_on_the_complaint(backend: Backend) {
    let Some(app) = TestApp::start_with(backend, policy()).await else {
        return;
    };
    app.clock.set(at("2026-04-24T17:30:00Z")); // Friday 19:30 CEST, before King's Day
    let id = app.file().await;
    let state = app
        .get(&format!("/api/complaints/{id}"), &app.agent)
        .await
        .body;
    assert_eq!(state["regime"], "kifid");
    assert_eq!(
        state["deadlines"],
        json!([
            {"deadline":"acknowledge","due_at":"2026-04-28T15:00:00Z","extended":false,"met":false,"met_on_time":null},
            {"deadline":"final-response","due_at":"2026-06-19T17:30:00Z","extended":false,"met":false,"met_on_time":null},
        ])
    );
    // Pausing the clock and an extension the regime does not allow, over HTTP.
    let refused = app
        .command(
            &id,
            json!({"type":"ExtendDeadline","deadline":"final-response","notice":"We need more time"}),
        )
        .await;
    refused.assert_problem(
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        "extension-not-allowed",
    );
    app.ok(
        &id,
        json!({"type":"PauseClock","reason":"Waiting for the bank statements"}),
    )
    .await;
    let state = app
        .get(&format!("/api/complaints/{id}"), &app.agent)
        .await
        .body;
    assert_eq!(state["clock_paused_at"], "2026-04-24T17:30:00Z");
}
