//! The console's pages for oversight, over HTTP on both stores: the Team page (leads see
//! everyone's overdue items, the oldest breach first, and take a complaint over from there) and
//! the auditor's view of a complaint (as of any event, time or ledger position; the changes
//! between two instants; every event's ledger position, hash and metadata; the verification of
//! the whole chain, which finds a changed byte).

use axum::http::StatusCode;
use jiff::SignedDuration;
use obliged_storage::{Database, Disclosure, Role, Verification};
use uuid::Uuid;

use crate::console::{between, count, field_in, Console, PROMISE};
use crate::support::{for_each_store, Backend};

for_each_store!(
    a_lead_sees_everyones_overdue_items_oldest_first_and_takes_a_complaint_over,
    only_leads_and_admins_see_the_team_and_a_forged_take_over_is_refused,
    a_promise_the_ledger_records_broken_is_overdue_on_team_before_this_clock_reaches_it,
    an_auditor_steps_a_complaint_through_time_and_compares_two_instants,
    the_auditors_view_shows_each_events_ledger_entry_and_the_chains_verification,
);

/// The `<li>` of the Team page's overdue list for complaint `id`.
fn overdue_item<'a>(html: &'a str, id: &str) -> Option<&'a str> {
    let at = html.find(&format!("data-complaint=\"{id}\""))?;
    let rest = &html[html[..at].rfind("<li")?..];
    Some(&rest[..rest.find("</li>")?])
}

/// The `data-person` of every overdue item, in the page's order.
fn overdue_people(html: &str) -> Vec<String> {
    let Some(list) = between(
        html,
        "<ol class=\"work-list\" id=\"team-overdue\">",
        "</ol>",
    ) else {
        return Vec::new();
    };
    list.split("data-person=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

/// Alice's promise falls due first, then Bob's; both are late an hour after Bob's.
async fn two_late_promises(console: &Console) -> (String, String, String, String) {
    let alice = console.sign_in("alice").await;
    let bob = console.sign_in("bob").await;
    let first = console.file(&alice).await;
    console.ok(&alice, &first, "make-promise", PROMISE).await;
    let second = console.file(&bob).await;
    console
        .ok(
            &bob,
            &second,
            "make-promise",
            &[
                ("kind", "callback"),
                ("description", "Call back about the refund"),
                ("due_at", "2026-03-04T10:00"),
            ],
        )
        .await;
    console.clock.advance(SignedDuration::from_hours(72));
    console.project().await;
    // Sessions end after 12 hours: sign in again, three days later.
    let alice = console.sign_in("alice").await;
    let bob = console.sign_in("bob").await;
    (alice, bob, first, second)
}

async fn a_lead_sees_everyones_overdue_items_oldest_first_and_takes_a_complaint_over(
    backend: Backend,
) {
    let Some(console) = Console::start(backend).await else {
        return;
    };
    console
        .people(&[
            ("alice", Role::Agent),
            ("bob", Role::Agent),
            ("lena", Role::Lead),
        ])
        .await;
    let (_, _, first, second) = two_late_promises(&console).await;
    let lena = console.sign_in("lena").await;

    let team = console.get("/team", Some(&lena)).await;
    team.assert_status(StatusCode::OK);
    // The overview: alice's breach is the oldest, so she comes first, with one overdue promise.
    let load = between(&team.body, "id=\"team-load\"", "</table>").expect("the load table");
    let (alice_row, bob_row) = (
        load.find("data-person=\"alice\"").expect("alice's row"),
        load.find("data-person=\"bob\"").expect("bob's row"),
    );
    assert!(alice_row < bob_row, "the oldest breach first:\n{load}");
    assert!(
        load.contains("/team?person=alice&#38;kind=promise#overdue"),
        "a count leads to that person's items of that kind:\n{load}"
    );
    // The overdue list, oldest first, each with the form to take the complaint over.
    let people = overdue_people(&team.body);
    let alice_at = people.iter().position(|p| p == "alice").expect("alice's");
    let bob_at = people.iter().position(|p| p == "bob").expect("bob's");
    assert!(alice_at < bob_at, "oldest first: {people:?}");
    let item = overdue_item(&team.body, &first).expect("alice's promise is listed");
    assert!(item.contains("data-kind=\"promise\""), "{item}");
    assert!(
        item.contains(&format!(
            "action=\"/complaints/{first}/commands/take-over\""
        )),
        "{item}"
    );

    // Filtered to bob's promises, only his complaint is listed.
    let bobs = console
        .get("/team?person=bob&kind=promise", Some(&lena))
        .await;
    bobs.assert_status(StatusCode::OK);
    assert_eq!(overdue_people(&bobs.body), vec!["bob".to_owned()]);
    assert!(overdue_item(&bobs.body, &second).is_some());
    assert!(overdue_item(&bobs.body, &first).is_none());
    console
        .get("/team?kind=lunch", Some(&lena))
        .await
        .assert_status(StatusCode::BAD_REQUEST);

    // Taking over from the Team page runs TakeOver through the engine, with its reason.
    let (csrf, key) = (field_in(item, "csrf"), field_in(item, "idempotency_key"));
    let before = console.history(&first).await.len();
    let taken = console
        .post(
            &format!("/complaints/{first}/commands/take-over"),
            Some(&lena),
            &[
                ("csrf", &csrf),
                ("idempotency_key", &key),
                ("reason", "Alice is off sick; the customer waits"),
            ],
        )
        .await;
    taken.assert_redirect(&format!("/complaints/{first}?done=take-over"));
    let history = console.history(&first).await;
    assert_eq!(history.len(), before + 1, "{history:?}");
    assert_eq!(history.last().map(String::as_str), Some("TakenOver"));
    let complaint = console.complaint(&lena, &first).await;
    assert!(
        complaint.body.contains("<dd id=\"owner\">lena</dd>"),
        "lena owns it now"
    );

    // Alice still owes her promise, but the complaint is lena's: no form to take it over again.
    console.project().await;
    let team = console.get("/team", Some(&lena)).await;
    let item = overdue_item(&team.body, &first).expect("alice's promise is still late");
    assert!(item.contains("complaint owned by lena"), "{item}");
    assert!(!item.contains("take-over"), "{item}");
    assert!(overdue_item(&team.body, &second)
        .expect("bob's")
        .contains("take-over"));

    // In Dutch.
    let dutch = console
        .get_with("/team", Some(&lena), &[("accept-language", "nl")])
        .await;
    dutch.assert_status(StatusCode::OK);
    assert!(dutch.body.contains("Te laat, oudste eerst"), "Dutch page");
}

/// The promise clock of another instance (or one run ahead) records a breach before this
/// instance's clock reaches the due time: Team shows it overdue all the same.
async fn a_promise_the_ledger_records_broken_is_overdue_on_team_before_this_clock_reaches_it(
    backend: Backend,
) {
    let Some(console) = Console::start_with(backend, standard_policy()).await else {
        return;
    };
    console
        .people(&[("alice", Role::Agent), ("lena", Role::Lead)])
        .await;
    let alice = console.sign_in("alice").await;
    let id = console.file(&alice).await;
    console.ok(&alice, &id, "make-promise", PROMISE).await;
    console.project().await;
    let lena = console.sign_in("lena").await;
    let team = console.get("/team", Some(&lena)).await;
    assert!(
        overdue_item(&team.body, &id).is_none(),
        "not yet due, not yet broken"
    );

    let now = console.app.engine.now();
    console.clock.advance(SignedDuration::from_hours(48));
    console.project().await;
    console.tick().await;
    console.project().await;
    assert!(console
        .history(&id)
        .await
        .contains(&"PromiseBroken".to_owned()));
    console.clock.set(now);

    let team = console.get("/team", Some(&lena)).await;
    let item = overdue_item(&team.body, &id).expect("the broken promise is overdue");
    assert!(item.contains("data-kind=\"promise\""), "{item}");
    let load = between(&team.body, "id=\"team-load\"", "</table>").expect("the load table");
    assert!(
        load.contains("<tr data-person=\"alice\" class=\"has-overdue\">"),
        "alice's row counts the breach:\n{load}"
    );
}

async fn only_leads_and_admins_see_the_team_and_a_forged_take_over_is_refused(backend: Backend) {
    let Some(console) = Console::start(backend).await else {
        return;
    };
    console
        .people(&[
            ("alice", Role::Agent),
            ("bob", Role::Agent),
            ("olga", Role::Auditor),
            ("ada", Role::Admin),
            ("lena", Role::Lead),
        ])
        .await;
    let (alice, bob, first, _) = two_late_promises(&console).await;
    let olga = console.sign_in("olga").await;
    let ada = console.sign_in("ada").await;
    let lena = console.sign_in("lena").await;
    for who in [&alice, &olga] {
        let page = console.get("/team", Some(who)).await;
        page.assert_status(StatusCode::FORBIDDEN);
        let my_work = console.get("/my-work", Some(who)).await;
        assert_eq!(
            count(&my_work.body, "href=\"/team\""),
            0,
            "no Team link for those who may not use it"
        );
    }
    for who in [&ada, &lena] {
        console
            .get("/team", Some(who))
            .await
            .assert_status(StatusCode::OK);
        let my_work = console.get("/my-work", Some(who)).await;
        assert_eq!(count(&my_work.body, "href=\"/team\""), 1);
    }

    // An agent forging the take-over form (with a valid token of their own) is refused, and
    // nothing is appended.
    let page = console.complaint(&bob, &first).await;
    assert!(
        page.form("cmd-take-over").is_none(),
        "no take-over form for agents"
    );
    let csrf = page.field("csrf");
    let before = console.history(&first).await;
    let forged = console
        .post(
            &format!("/complaints/{first}/commands/take-over"),
            Some(&bob),
            &[
                ("csrf", &csrf),
                ("idempotency_key", &Uuid::new_v4().to_string()),
                ("reason", "I want it"),
            ],
        )
        .await;
    forged.assert_status(StatusCode::FORBIDDEN);
    assert_eq!(console.history(&first).await, before);
}

/// The sequence numbers of the page's ledger entries and, for each, its position and hash.
fn ledger_entries(html: &str) -> Vec<(u64, u64, String)> {
    let list = between(html, "<ol class=\"ledger\" id=\"ledger\">", "</ol>").expect("the ledger");
    list.split("<li id=\"entry-")
        .skip(1)
        .map(|entry| {
            let position: u64 = entry
                .split('"')
                .next()
                .and_then(|n| n.parse().ok())
                .expect("a position");
            let sequence: u64 = between(entry, "data-sequence=\"", "\"")
                .and_then(|n| n.parse().ok())
                .expect("a sequence");
            let hash = between(entry, "<code class=\"hash\">", "</code>")
                .expect("a hash")
                .to_owned();
            (sequence, position, hash)
        })
        .collect()
}

/// The value the facts table shows for `key`.
fn fact(html: &str, key: &str) -> Option<String> {
    let table = between(html, "id=\"facts\"", "</table>")?;
    let row = between(table, &format!("data-key=\"{key}\""), "</tr>")?;
    between(row, "<td class=\"value\">", "</td>").map(str::to_owned)
}

/// The change shown for `key`: before and after.
fn change(html: &str, key: &str) -> Option<(String, String)> {
    let table = between(html, "id=\"changes\"", "</table>")?;
    let row = between(table, &format!("data-key=\"{key}\""), "</tr>")?;
    Some((
        between(row, "<td class=\"before\">", "</td>")?.to_owned(),
        between(row, "<td class=\"after\">", "</td>")?.to_owned(),
    ))
}

fn owner(html: &str) -> String {
    between(html, "<dd id=\"owner\">", "</dd>")
        .expect("the owner")
        .to_owned()
}

/// The policy `obliged serve` runs with by default: its promise ladder breaks a promise when it
/// falls due.
fn standard_policy() -> obliged_domain::Policy {
    obliged::policy::load("standard").expect("the standard policy")
}

/// Alice files and promises; the promise breaks; lena takes the complaint over.
async fn a_history(console: &Console) -> (String, String) {
    console
        .people(&[
            ("alice", Role::Agent),
            ("lena", Role::Lead),
            ("olga", Role::Auditor),
        ])
        .await;
    let alice = console.sign_in("alice").await;
    let id = console.file(&alice).await;
    console.ok(&alice, &id, "make-promise", PROMISE).await;
    console.clock.advance(SignedDuration::from_hours(48));
    // The promise clock reaches the promise's due time: it breaks.
    console.project().await;
    console.tick().await;
    assert!(console
        .history(&id)
        .await
        .contains(&"PromiseBroken".to_owned()));
    // Sessions end after 12 hours: sign in again, two days later.
    let alice = console.sign_in("alice").await;
    let lena = console.sign_in("lena").await;
    console.ok(&alice, &id, "log-contact", LOG_CONTACT).await;
    console
        .ok(&lena, &id, "take-over", &[("reason", "Alice is away")])
        .await;
    let olga = console.sign_in("olga").await;
    (id, olga)
}

const LOG_CONTACT: &[(&str, &str)] = &[
    ("direction", "inbound"),
    ("channel", "phone"),
    ("summary", "The customer asks where the callback is"),
];

async fn an_auditor_steps_a_complaint_through_time_and_compares_two_instants(backend: Backend) {
    let Some(console) = Console::start_with(backend, standard_policy()).await else {
        return;
    };
    let (id, olga) = a_history(&console).await;
    let history = console
        .app
        .engine
        .history(Uuid::parse_str(&id).unwrap(), Disclosure::Redacted)
        .await
        .unwrap();
    let seq_of = |event_type: &str| {
        history
            .iter()
            .find(|event| event.event_type == event_type)
            .unwrap_or_else(|| panic!("no {event_type} in {history:?}"))
            .sequence
    };
    let (promised, taken) = (seq_of("PromiseMade"), seq_of("TakenOver"));
    let last = history.last().unwrap().sequence;
    assert_eq!(taken, last);

    // Now: lena owns it; the previous event's state differs by the owner.
    let now = console
        .get(&format!("/complaints/{id}/audit"), Some(&olga))
        .await;
    now.assert_status(StatusCode::OK);
    assert_eq!(owner(&now.body), "lena");
    assert_eq!(
        change(&now.body, "0-owner"),
        Some(("alice".to_owned(), "lena".to_owned()))
    );
    assert!(now.body.contains(&format!("data-seq=\"{last}\"")));
    assert!(
        !now.body.contains("id=\"audit-next\""),
        "no next step at the latest event"
    );

    // Stepped back to the promise: alice owns it, the promise is pending, and what changed is
    // the promise appearing.
    let then = console
        .get(
            &format!("/complaints/{id}/audit?seq={promised}"),
            Some(&olga),
        )
        .await;
    then.assert_status(StatusCode::OK);
    assert_eq!(owner(&then.body), "alice");
    let promise_key = between(&then.body, "data-key=\"2-promise-", "\"")
        .map(|rest| format!("2-promise-{rest}"))
        .expect("the promise's fact");
    let state = fact(&then.body, &promise_key).expect("the promise's state");
    assert!(state.starts_with("Pending"), "{state}");
    let (before, after) = change(&then.body, &promise_key).expect("the promise appeared");
    assert_eq!(before, "(none)");
    assert!(after.starts_with("Pending"), "{after}");
    assert!(then.body.contains("id=\"audit-next\""));
    assert!(then.body.contains("id=\"audit-previous\""));
    // Later events are marked, the shown one is the current step.
    assert_eq!(count(&then.body, "aria-current=\"step\""), 1);
    assert_eq!(
        count(&then.body, "class=\"badge badge-muted\">later</span>") as u64,
        last - promised
    );

    // Between the promise and now: the owner changed and the promise broke.
    let compared = console
        .get(
            &format!("/complaints/{id}/audit?seq={last}&from_seq={promised}"),
            Some(&olga),
        )
        .await;
    compared.assert_status(StatusCode::OK);
    assert_eq!(
        change(&compared.body, "0-owner"),
        Some(("alice".to_owned(), "lena".to_owned()))
    );
    let (before, after) = change(&compared.body, &promise_key).expect("the promise changed");
    assert!(
        before.starts_with("Pending") && after.starts_with("Broken"),
        "{before} → {after}"
    );

    // By time: a minute before the take-over, alice still owned it (the test clock's zone is
    // the default policy's, UTC).
    let taken_at: jiff::Timestamp = history[(taken - 1) as usize]
        .recorded_at
        .as_deref()
        .unwrap()
        .parse()
        .unwrap();
    let before_taking = (taken_at - SignedDuration::from_hours(1))
        .strftime("%Y-%m-%dT%H:%M")
        .to_string();
    let by_time = console
        .get(
            &format!("/complaints/{id}/audit?at={before_taking}"),
            Some(&olga),
        )
        .await;
    by_time.assert_status(StatusCode::OK);
    assert_eq!(owner(&by_time.body), "alice");

    // Bad instants are refused with the form, and the latest state shown.
    for bad in ["position=twelve", "at=yesterday", "seq=-1"] {
        let refused = console
            .get(&format!("/complaints/{id}/audit?{bad}"), Some(&olga))
            .await;
        refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert!(refused.body.contains("class=\"refusal\""), "{bad}");
    }

    // The auditor sees no command form, and a forged command is refused, appending nothing.
    let page = console.complaint(&olga, &id).await;
    assert_eq!(count(&page.body, "id=\"cmd-"), 0, "no command forms");
    assert!(page
        .body
        .contains(&format!("href=\"/complaints/{id}/audit\"")));
    let csrf = page.field("csrf");
    let before = console.history(&id).await;
    for slug in ["log-contact", "take-over", "close"] {
        let forged = console
            .post(
                &format!("/complaints/{id}/commands/{slug}"),
                Some(&olga),
                &[
                    ("csrf", &csrf),
                    ("idempotency_key", &Uuid::new_v4().to_string()),
                    ("reason", "forged"),
                    ("direction", "inbound"),
                    ("channel", "phone"),
                    ("summary", "forged"),
                ],
            )
            .await;
        forged.assert_status(StatusCode::FORBIDDEN);
    }
    assert_eq!(console.history(&id).await, before);
}

async fn the_auditors_view_shows_each_events_ledger_entry_and_the_chains_verification(
    backend: Backend,
) {
    let Some(console) = Console::start_with(backend, standard_policy()).await else {
        return;
    };
    let (id, olga) = a_history(&console).await;
    let ledger = console.app.engine.ledger().clone();
    ledger.refresh_head().await.unwrap();
    let page = console
        .get(&format!("/complaints/{id}/audit"), Some(&olga))
        .await;
    page.assert_status(StatusCode::OK);
    let entries = ledger_entries(&page.body);
    let history = console.history(&id).await;
    assert_eq!(entries.len(), history.len(), "every event with its entry");
    let stored = ledger.entries_of(&id).await.unwrap();
    assert_eq!(
        entries, stored,
        "positions and hashes as the ledger holds them"
    );
    for (_, _, hash) in &entries {
        assert_eq!(hash.len(), 64);
    }
    // Each event's metadata: its command id and who recorded it.
    let recorded = console
        .app
        .engine
        .history(Uuid::parse_str(&id).unwrap(), Disclosure::Redacted)
        .await
        .unwrap();
    for event in &recorded {
        let command = event.command_id.as_deref().expect("a command id");
        assert!(page.body.contains(&format!("<code>{command}</code>")));
    }

    // By ledger position: the complaint's second entry shows the state just after it.
    let (second_seq, second_position, _) = entries[1].clone();
    let at_position = console
        .get(
            &format!("/complaints/{id}/audit?position={second_position}"),
            Some(&olga),
        )
        .await;
    at_position.assert_status(StatusCode::OK);
    assert!(at_position
        .body
        .contains(&format!("data-seq=\"{second_seq}\"")));

    // Not verified yet; verifying records the result, the head and when.
    assert!(page.body.contains("id=\"verification-none\""));
    let csrf = page.field("csrf");
    let back = format!("/complaints/{id}/audit?position={second_position}");
    let verified = console
        .post(
            "/audit/verify",
            Some(&olga),
            &[("csrf", &csrf), ("back", &back)],
        )
        .await;
    verified.assert_redirect(&format!("{back}#verification"));
    let Verification::Verified {
        entries: head_position,
        head,
        ..
    } = ledger.verify().await.unwrap()
    else {
        panic!("the ledger verifies");
    };
    let shown = console.get(&back, Some(&olga)).await;
    assert!(shown.body.contains("data-intact=\"true\""), "intact");
    assert!(shown
        .body
        .contains(&format!("The whole chain holds: {head_position} entries")));
    assert_eq!(
        between(&shown.body, "id=\"verification-head\">", "</code>"),
        Some(head.as_str())
    );
    assert!(shown.body.contains("by olga"));

    // Without the session's token, nothing is verified; a redirect never leaves the console.
    console
        .post("/audit/verify", Some(&olga), &[("back", &back)])
        .await
        .assert_status(StatusCode::FORBIDDEN);
    console
        .post(
            "/audit/verify",
            Some(&olga),
            &[("csrf", &csrf), ("back", "https://elsewhere.example/")],
        )
        .await
        .assert_redirect("/complaints#verification");

    // One changed byte in a stored event: the next verification names its position.
    set_payload_byte(&console, &id, second_seq).await;
    console
        .post(
            "/audit/verify",
            Some(&olga),
            &[("csrf", &csrf), ("back", &back)],
        )
        .await
        .assert_redirect(&format!("{back}#verification"));
    let broken = console.get(&back, Some(&olga)).await;
    assert!(broken.body.contains("data-intact=\"false\""));
    assert!(
        broken.body.contains(&format!(
            "The chain does not hold at position {second_position}"
        )),
        "{}",
        between(&broken.body, "id=\"verification\"", "</section>").unwrap_or_default()
    );
}

/// Changes one byte of the stored payload of event `sequence`.
async fn set_payload_byte(console: &Console, id: &str, sequence: u64) {
    let original: String = match &console.app.database {
        Database::Sqlite(pool) => sqlx::query_scalar(
            "SELECT payload FROM events WHERE aggregate_id = $1 AND sequence = $2",
        )
        .bind(id)
        .bind(sequence as i64)
        .fetch_one(pool)
        .await
        .unwrap(),
        Database::Postgres(pool) => sqlx::query_scalar(
            "SELECT payload::text FROM events WHERE aggregate_id = $1 AND sequence = $2",
        )
        .bind(id)
        .bind(sequence as i64)
        .fetch_one(pool)
        .await
        .unwrap(),
    };
    let changed = original.replace("alice", "alicf");
    assert_ne!(changed, original, "the event names alice");
    write_payload(console, id, sequence, &changed).await;
}

async fn write_payload(console: &Console, id: &str, sequence: u64, payload: &str) {
    let affected = match &console.app.database {
        Database::Sqlite(pool) => {
            sqlx::query("UPDATE events SET payload = $1 WHERE aggregate_id = $2 AND sequence = $3")
                .bind(payload)
                .bind(id)
                .bind(sequence as i64)
                .execute(pool)
                .await
                .unwrap()
                .rows_affected()
        }
        Database::Postgres(pool) => sqlx::query(
            "UPDATE events SET payload = $1::json WHERE aggregate_id = $2 AND sequence = $3",
        )
        .bind(payload)
        .bind(id)
        .bind(sequence as i64)
        .execute(pool)
        .await
        .unwrap()
        .rows_affected(),
    };
    assert_eq!(affected, 1);
}
