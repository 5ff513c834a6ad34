//! Delivery against a real HTTP receiver, on SQLite and on PostgreSQL: order and at-least-once
//! through failures, signatures, dead letters after the last attempt, the backoff schedule,
//! event-type filters, redelivery, claims between instances, the run loop, and subscription
//! management. Time moves only when a test moves the `FixedClock`.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use jiff::SignedDuration;
use obliged_domain::Direction;
use obliged_webhooks::{AttemptOutcome, NewSubscription, Start, WebhookError, WebhookSettings};
use support::{
    for_each_store, settings, Backend, DownReceiver, Harness, Receiver, Script, CUSTOMER_NAME,
    DESCRIPTION,
};

for_each_store!(
    a_failing_receiver_still_gets_every_entry_in_order_signed,
    an_entry_is_dead_lettered_after_max_attempts_and_delivery_moves_on,
    retries_wait_for_a_growing_backoff,
    the_event_type_filter_delivers_only_matching_entries,
    redeliver_from_sends_again_from_a_position,
    a_claimed_subscription_is_left_to_its_worker_until_the_claim_expires,
    concurrent_ticks_deliver_each_entry_once,
    run_delivers_as_entries_arrive_and_stops_on_shutdown,
    subscriptions_start_where_asked_and_can_be_removed,
    delivery_resumes_in_order_once_an_unreachable_receiver_is_back,
    internal_receivers_are_refused_when_subscribing_and_when_connecting,
    credentials_stored_in_an_older_url_are_never_shown,
    secrets_are_stored_sealed_and_one_stored_in_clear_is_sealed_when_the_worker_starts,
);

/// Subscribes `url` to every event type and returns the subscription's id.
async fn subscribe_to_all(harness: &Harness, url: &str, max_attempts: Option<u32>) -> uuid::Uuid {
    harness
        .subscribe(url, &[], max_attempts)
        .await
        .subscription
        .id
}

/// Files complaints and logs contacts: at least six entries of several types.
async fn some_history(harness: &Harness) {
    let first = harness.file().await;
    harness.contact(first, Direction::Inbound, true).await;
    let second = harness.file().await;
    harness.contact(first, Direction::Outbound, false).await;
    harness.contact(second, Direction::Inbound, false).await;
}

async fn a_failing_receiver_still_gets_every_entry_in_order_signed(backend: Backend) {
    let Some(harness) = Harness::start(backend, settings()).await else {
        return;
    };
    let receiver = Receiver::start(Script::FailFirst(3)).await;
    let created = harness.subscribe(&receiver.url, &[], None).await;
    let id = created.subscription.id;
    let secret = created.secret.expose().to_owned();

    some_history(&harness).await;
    harness.deliver_everything().await;
    // More entries after the subscription has caught up are picked up too.
    let third = harness.file().await;
    harness.contact(third, Direction::Inbound, true).await;
    harness.contact_as(third, "Sam").await;
    harness.deliver_everything().await;

    let ledger = harness.ledger().await;
    let head = ledger.len() as u64;
    assert!(head >= 8, "enough history to be meaningful: {head}");
    let requests = receiver.requests();

    // The first three requests failed, all on the first entry: no later entry overtook it.
    assert_eq!(
        requests[..3]
            .iter()
            .map(|request| (request.position(), request.accepted()))
            .collect::<Vec<_>>(),
        [(1, false), (1, false), (1, false)]
    );
    // Ledger order: positions never go back, and every position was accepted.
    let positions: Vec<u64> = requests.iter().map(|request| request.position()).collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] <= pair[1]),
        "out of order: {positions:?}"
    );
    let accepted: Vec<u64> = requests
        .iter()
        .filter(|request| request.accepted())
        .map(|request| request.position())
        .collect();
    assert_eq!(
        accepted,
        (1..=head).collect::<Vec<_>>(),
        "every entry, once accepted"
    );

    let clock_span = support::t0().as_second()..=harness.now().as_second();
    for request in &requests {
        let signed_at = request.verify(&secret);
        assert!(
            clock_span.contains(&signed_at),
            "signed with the clock's time"
        );
        assert!(
            !request.signature_matches("whsec_not-the-subscription-secret"),
            "a wrong secret must not verify"
        );
        let body = request.json();
        let entry = &ledger[request.position() as usize - 1];
        assert_eq!(body["position"], request.position());
        assert_eq!(body["type"], entry.event_type.as_str());
        assert_eq!(body["hash"], entry.hash.as_str());
        assert_eq!(body["complaint_id"], entry.complaint_id.as_str());
        assert_eq!(request.header("obliged-event-type"), entry.event_type);
        assert_eq!(request.header("obliged-subscription"), id.to_string());
        assert_eq!(request.header("content-type"), "application/json");
        let text = String::from_utf8_lossy(&request.body);
        assert!(
            !text.contains(CUSTOMER_NAME) && !text.contains(DESCRIPTION),
            "personal data in a webhook body: {text}"
        );
    }
    let filed = requests
        .iter()
        .find(|request| request.json()["type"] == "ComplaintFiled")
        .unwrap()
        .json();
    assert_eq!(
        filed["payload"]["ComplaintFiled"]["description"],
        "[sealed]"
    );

    // Alice answered as Sam: the receiver knows Sam, never alice, in every event of it.
    let as_sam: Vec<serde_json::Value> = requests
        .iter()
        .filter(|request| request.accepted())
        .map(|request| request.json())
        .filter(|body| body["metadata"]["alias"] == "Sam")
        .collect();
    assert!(as_sam.len() >= 2, "the contact and its obligation");
    for body in &as_sam {
        assert_eq!(body["metadata"]["actor"], "Sam", "{body}");
        assert!(
            !body.to_string().contains("alice"),
            "alice behind Sam: {body}"
        );
    }
    let contact = as_sam
        .iter()
        .find(|body| body["type"] == "ContactLogged")
        .expect("the contact");
    assert_eq!(contact["payload"]["ContactLogged"]["alias"], "Sam");
    assert!(contact["payload"]["ContactLogged"]["staff"].is_null());

    let status = harness.status(id).await;
    assert_eq!((status.position, status.head, status.lag), (head, head, 0));
    assert_eq!(status.attempts, 0);
    assert_eq!(status.next_attempt_at, None);
    assert_eq!(status.dead_letters, 0);
    assert!(status.last_error.unwrap().contains("500"));
    assert!(status.last_delivered_at.is_some());
}

async fn an_entry_is_dead_lettered_after_max_attempts_and_delivery_moves_on(backend: Backend) {
    let Some(harness) = Harness::start(backend, settings()).await else {
        return;
    };
    let receiver = Receiver::start(Script::AlwaysFail).await;
    let id = subscribe_to_all(&harness, &receiver.url, Some(3)).await;
    harness.file().await;
    harness.file().await;

    for attempt in 1..=2u32 {
        let report = harness.webhooks.tick().await.unwrap();
        assert_eq!(report.attempts.len(), 1);
        assert_eq!(report.attempts[0].number, attempt);
        assert!(matches!(
            report.attempts[0].outcome,
            AttemptOutcome::Failed { .. }
        ));
        let status = harness.status(id).await;
        assert_eq!((status.position, status.attempts), (0, attempt));
        assert!(harness.webhooks.dead_letters(id).await.unwrap().is_empty());
        harness
            .clock
            .set(status.next_attempt_at.expect("a retry is scheduled"));
    }
    let report = harness.webhooks.tick().await.unwrap();
    assert_eq!(report.attempts.len(), 1);
    assert!(matches!(
        &report.attempts[0].outcome,
        AttemptOutcome::DeadLettered { error } if error.contains("500")
    ));

    let dead = harness.webhooks.dead_letters(id).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!((dead[0].position, dead[0].attempts), (1, 3));
    assert_eq!(dead[0].event_type, "ComplaintFiled");
    assert!(dead[0].last_error.contains("500"), "{}", dead[0].last_error);
    assert_eq!(dead[0].dead_lettered_at, harness.now());
    let status = harness.status(id).await;
    assert_eq!(
        (
            status.position,
            status.attempts,
            status.dead_letters,
            status.next_attempt_at
        ),
        (1, 0, 1, None)
    );
    assert_eq!(
        receiver
            .requests()
            .iter()
            .map(|request| request.position())
            .collect::<Vec<_>>(),
        [1, 1, 1],
        "exactly three attempts on the first entry"
    );

    // The next entry is due at once: no clock move.
    let report = harness.webhooks.tick().await.unwrap();
    assert_eq!(report.attempts.len(), 1);
    assert_eq!(
        (report.attempts[0].position, report.attempts[0].number),
        (2, 1)
    );
    assert_eq!(receiver.requests()[3].position(), 2);

    // Removing stops delivery and keeps the dead letters.
    assert!(harness.webhooks.remove(id).await.unwrap());
    assert!(
        !harness.webhooks.remove(id).await.unwrap(),
        "removing twice"
    );
    harness.clock.advance(SignedDuration::from_hours(24));
    let report = harness.webhooks.tick().await.unwrap();
    assert!(report.attempts.is_empty());
    assert_eq!(receiver.count(), 4);
    assert_eq!(harness.webhooks.dead_letters(id).await.unwrap(), dead);
    let status = harness.status(id).await;
    assert!(status.subscription.removed_at.is_some());
    assert_eq!(status.dead_letters, 1);
    assert!(matches!(
        harness.webhooks.redeliver_from(id, 1).await,
        Err(WebhookError::Removed(removed)) if removed == id
    ));
}

async fn retries_wait_for_a_growing_backoff(backend: Backend) {
    let settings = WebhookSettings {
        backoff_cap: Duration::from_secs(4),
        ..settings()
    };
    let Some(harness) = Harness::start(backend, settings).await else {
        return;
    };
    let receiver = Receiver::start(Script::AlwaysFail).await;
    let id = subscribe_to_all(&harness, &receiver.url, None).await;
    harness.file().await;

    // Expected delays: 1 s, 2 s, 4 s, then the 4 s cap, each ±20%.
    let expected_seconds = [1.0, 2.0, 4.0, 4.0];
    let mut delays = Vec::new();
    for (index, expected) in expected_seconds.iter().enumerate() {
        let report = harness.webhooks.tick().await.unwrap();
        assert_eq!(report.attempts.len(), 1, "attempt {} is due", index + 1);
        let failed_at = harness.now();
        let next = harness.status(id).await.next_attempt_at.expect("scheduled");
        let delay = next.duration_since(failed_at).as_secs_f64();
        assert!(
            (expected * 0.8..=expected * 1.2).contains(&delay),
            "delay {} is {delay} s, expected {expected} s ± 20%",
            index + 1
        );
        delays.push(delay);
        assert_eq!(report.next_due_at, Some(next));

        // Not due yet: now, and a millisecond before the scheduled time.
        let report = harness.webhooks.tick().await.unwrap();
        assert!(
            report.attempts.is_empty(),
            "attempted before the backoff ran out"
        );
        harness.clock.set(next - SignedDuration::from_millis(1));
        let report = harness.webhooks.tick().await.unwrap();
        assert!(
            report.attempts.is_empty(),
            "attempted before the backoff ran out"
        );
        assert_eq!(receiver.count(), index + 1);
        harness.clock.set(next);
    }
    assert!(
        delays[0] < delays[1] && delays[1] < delays[2],
        "delays grow: {delays:?}"
    );
    let report = harness.webhooks.tick().await.unwrap();
    assert_eq!(report.attempts.len(), 1, "due at the scheduled time");
    assert_eq!(report.attempts[0].number, 5);
    assert_eq!(receiver.count(), 5);
}

async fn the_event_type_filter_delivers_only_matching_entries(backend: Backend) {
    // Small scan batches, so passing over unwanted entries spans several of them.
    let settings = WebhookSettings {
        scan_batch: 2,
        ..settings()
    };
    let Some(harness) = Harness::start(backend, settings).await else {
        return;
    };
    let contacts = Receiver::start(Script::FailFirst(0)).await;
    let everything = Receiver::start(Script::FailFirst(0)).await;
    let filtered = harness
        .subscribe(&contacts.url, &["ContactLogged"], None)
        .await;
    let unfiltered = harness.subscribe(&everything.url, &[], None).await;

    let complaint = harness.file().await;
    for _ in 0..3 {
        harness.file().await;
    }
    harness.contact(complaint, Direction::Inbound, true).await;
    for _ in 0..3 {
        harness.file().await;
    }
    harness.contact(complaint, Direction::Outbound, false).await;
    harness.file().await;
    let ledger = harness.ledger().await;
    assert_ne!(ledger.last().unwrap().event_type, "ContactLogged");

    harness.deliver_everything().await;

    let wanted: Vec<u64> = ledger
        .iter()
        .filter(|entry| entry.event_type == "ContactLogged")
        .map(|entry| entry.position)
        .collect();
    assert_eq!(wanted.len(), 2);
    let received: Vec<(u64, String)> = contacts
        .requests()
        .iter()
        .map(|request| {
            (
                request.position(),
                request.header("obliged-event-type").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        received,
        wanted
            .iter()
            .map(|position| (*position, "ContactLogged".to_owned()))
            .collect::<Vec<_>>()
    );
    let all: Vec<u64> = everything
        .requests()
        .iter()
        .map(|request| request.position())
        .collect();
    assert_eq!(all, (1..=ledger.len() as u64).collect::<Vec<_>>());

    // Entries passed over still advance the position, up to the head.
    let status = harness.status(filtered.subscription.id).await;
    assert_eq!((status.position, status.lag), (ledger.len() as u64, 0));
    assert_eq!(harness.status(unfiltered.subscription.id).await.lag, 0);
}

async fn redeliver_from_sends_again_from_a_position(backend: Backend) {
    let Some(harness) = Harness::start(backend, settings()).await else {
        return;
    };
    let receiver = Receiver::start(Script::FailFirst(0)).await;
    let id = subscribe_to_all(&harness, &receiver.url, None).await;
    some_history(&harness).await;
    harness.deliver_everything().await;
    let head = harness.head().await;
    assert_eq!(receiver.count() as u64, head);

    harness.webhooks.redeliver_from(id, 3).await.unwrap();
    let status = harness.status(id).await;
    assert_eq!((status.position, status.lag), (2, head - 2));
    harness.deliver_everything().await;
    let positions: Vec<u64> = receiver
        .requests()
        .iter()
        .map(|request| request.position())
        .collect();
    let expected: Vec<u64> = (1..=head).chain(3..=head).collect();
    assert_eq!(positions, expected);

    // From the next position: nothing to send again. Out of range: refused, nothing changes.
    harness.webhooks.redeliver_from(id, head + 1).await.unwrap();
    for bad in [0, head + 2] {
        assert!(matches!(
            harness.webhooks.redeliver_from(id, bad).await,
            Err(WebhookError::PositionOutOfRange { position, next }) if position == bad && next == head + 1
        ));
    }
    assert_eq!(harness.status(id).await.position, head);
    let report = harness.webhooks.tick().await.unwrap();
    assert!(report.attempts.is_empty());
    assert!(matches!(
        harness
            .webhooks
            .redeliver_from(uuid::Uuid::now_v7(), 1)
            .await,
        Err(WebhookError::NotFound(_))
    ));
}

async fn a_claimed_subscription_is_left_to_its_worker_until_the_claim_expires(backend: Backend) {
    let Some(harness) = Harness::start(backend, settings()).await else {
        return;
    };
    let (receiver, release) = Receiver::holding_first(Script::FailFirst(0)).await;
    let id = subscribe_to_all(&harness, &receiver.url, None).await;
    harness.file().await;
    let other = harness.another_instance(settings()).await;

    // The first instance's attempt is in flight, held by the receiver.
    let first = harness.webhooks.clone();
    let in_flight = tokio::spawn(async move { first.tick().await });
    receiver.wait_for(1).await;
    assert!(harness.status(id).await.claimed_until.is_some());

    // Another instance, and another tick of the same one, leave it alone.
    for webhooks in [&other, &harness.webhooks] {
        let report = webhooks.tick().await.unwrap();
        assert!(
            report.attempts.is_empty(),
            "delivered a claimed subscription"
        );
        assert_eq!(receiver.count(), 1);
    }

    // Once the claim has expired (its holder presumed dead), another instance takes over.
    let lease = SignedDuration::try_from(settings().lease).unwrap();
    harness.clock.advance(lease + SignedDuration::from_secs(1));
    let report = other.tick().await.unwrap();
    assert_eq!(report.attempts.len(), 1);
    assert!(report.attempts[0].recorded);
    assert_eq!(receiver.count(), 2);
    assert_eq!(harness.status(id).await.position, 1);

    // The first holder's late outcome is not recorded over the newer one.
    release.send(()).unwrap();
    let report = in_flight.await.unwrap().unwrap();
    assert_eq!(report.attempts.len(), 1);
    assert!(
        !report.attempts[0].recorded,
        "a stale claim recorded its outcome"
    );
    let status = harness.status(id).await;
    assert_eq!(
        (status.position, status.attempts, status.claimed_until),
        (1, 0, None)
    );
    assert!(receiver
        .requests()
        .iter()
        .all(|request| request.position() == 1));
}

async fn concurrent_ticks_deliver_each_entry_once(backend: Backend) {
    let Some(harness) = Harness::start(backend, settings()).await else {
        return;
    };
    let receiver = Receiver::start(Script::FailFirst(0)).await;
    for _ in 0..4 {
        harness.subscribe(&receiver.url, &[], None).await;
    }
    for _ in 0..10 {
        harness.file().await;
    }
    let other = harness.another_instance(settings()).await;
    let head = harness.head().await;

    // Two ticks of this instance and two of another race for the same four subscriptions;
    // every tick reads the same due work, and only the claims keep them apart.
    let mut contended = 0;
    for _ in 0..head * 4 {
        let reports = futures_util::future::join_all([
            harness.webhooks.tick(),
            other.tick(),
            harness.webhooks.tick(),
            other.tick(),
        ])
        .await;
        for report in reports {
            let report = report.unwrap();
            assert!(report.errors.is_empty(), "{:?}", report.errors);
            contended += report.contended.len();
        }
        if harness
            .webhooks
            .list()
            .await
            .unwrap()
            .iter()
            .all(|status| status.lag == 0)
        {
            break;
        }
    }
    let mut by_subscription: std::collections::BTreeMap<String, Vec<u64>> = Default::default();
    for request in receiver.requests() {
        by_subscription
            .entry(request.header("obliged-subscription").to_owned())
            .or_default()
            .push(request.position());
    }
    assert_eq!(by_subscription.len(), 4);
    for positions in by_subscription.values() {
        assert_eq!(
            positions,
            &(1..=head).collect::<Vec<_>>(),
            "each entry once, in order"
        );
    }
    // Otherwise the ticks never raced and this test showed nothing.
    assert!(contended > 0, "no tick ever lost a claim to another");
}

async fn run_delivers_as_entries_arrive_and_stops_on_shutdown(backend: Backend) {
    let Some(harness) = Harness::start(backend, settings()).await else {
        return;
    };
    let receiver = Receiver::start(Script::FailFirst(0)).await;
    let created = harness
        .webhooks
        .subscribe(NewSubscription {
            url: receiver.url.clone(),
            ..NewSubscription::default()
        })
        .await
        .unwrap();
    let (shutdown, shutdown_signal) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(harness.webhooks.clone().run(shutdown_signal));

    some_history(&harness).await;
    let head = harness.head().await;
    receiver.wait_for(head as usize).await;
    let complaint = harness.file().await;
    harness.contact(complaint, Direction::Inbound, false).await;
    let head = harness.head().await;
    receiver.wait_for(head as usize).await;

    shutdown.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(20), worker)
        .await
        .expect("run stops on shutdown")
        .unwrap();
    let positions: Vec<u64> = receiver
        .requests()
        .iter()
        .map(|request| request.position())
        .collect();
    assert_eq!(positions, (1..=head).collect::<Vec<_>>());
    for request in receiver.requests() {
        request.verify(created.secret.expose());
    }
    assert_eq!(harness.status(created.subscription.id).await.lag, 0);
}

async fn subscriptions_start_where_asked_and_can_be_removed(backend: Backend) {
    let Some(harness) = Harness::start(backend, settings()).await else {
        return;
    };
    let receiver = Receiver::start(Script::FailFirst(0)).await;
    harness.file().await;
    harness.file().await;
    let subscribe = |start: Start, secret: Option<&str>| {
        harness.webhooks.subscribe(NewSubscription {
            url: receiver.url.clone(),
            event_types: vec![],
            secret: secret.map(str::to_owned),
            max_attempts: None,
            start,
            owner: None,
        })
    };
    let next = subscribe(Start::Next, Some("a-secret-of-our-own"))
        .await
        .unwrap();
    assert_eq!(next.secret.expose(), "a-secret-of-our-own");
    assert_eq!(next.subscription.max_attempts, 8, "the settings' default");
    let at_two = subscribe(Start::At(2), None).await.unwrap();
    assert!(at_two.secret.expose().starts_with("whsec_"));
    for bad in [Start::At(0), Start::At(4)] {
        assert!(matches!(
            subscribe(bad, None).await,
            Err(WebhookError::PositionOutOfRange { .. })
        ));
    }
    for (url, event_types, max_attempts) in [
        ("ftp://example.org/", vec![], None),
        ("http://127.0.0.1/", vec!["contact logged".to_owned()], None),
        ("http://127.0.0.1/", vec![], Some(0)),
    ] {
        assert!(harness
            .webhooks
            .subscribe(NewSubscription {
                url: url.to_owned(),
                event_types,
                max_attempts,
                ..NewSubscription::default()
            })
            .await
            .is_err());
    }
    assert_eq!(
        harness.webhooks.list().await.unwrap().len(),
        2,
        "refusals store nothing"
    );

    let status = harness.status(next.subscription.id).await;
    assert_eq!(
        (status.position, status.lag),
        (2, 0),
        "starts after the head"
    );
    assert_eq!(harness.status(at_two.subscription.id).await.position, 1);
    harness.deliver_everything().await;
    harness.file().await;
    harness.deliver_everything().await;

    let by_subscription = |id: uuid::Uuid| -> Vec<u64> {
        receiver
            .requests()
            .iter()
            .filter(|request| request.header("obliged-subscription") == id.to_string())
            .map(|request| request.position())
            .collect()
    };
    assert_eq!(by_subscription(next.subscription.id), [3]);
    assert_eq!(by_subscription(at_two.subscription.id), [2, 3]);
    for request in receiver.requests() {
        let id = request.header("obliged-subscription").to_owned();
        let secret = if id == next.subscription.id.to_string() {
            next.secret.expose()
        } else {
            at_two.secret.expose()
        };
        request.verify(secret);
    }

    assert_eq!(
        harness.webhooks.get(next.subscription.id).await.unwrap(),
        next.subscription
    );
    assert!(harness.webhooks.remove(next.subscription.id).await.unwrap());
    harness.file().await;
    harness.deliver_everything().await;
    assert_eq!(
        by_subscription(next.subscription.id),
        [3],
        "nothing after removal"
    );
    assert_eq!(by_subscription(at_two.subscription.id), [2, 3, 4]);
    let listed: BTreeSet<(uuid::Uuid, bool)> = harness
        .webhooks
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|status| (status.subscription.id, status.subscription.is_active()))
        .collect();
    assert_eq!(
        listed,
        BTreeSet::from([
            (next.subscription.id, false),
            (at_two.subscription.id, true)
        ])
    );
    assert!(matches!(
        harness.webhooks.get(uuid::Uuid::now_v7()).await,
        Err(WebhookError::NotFound(_))
    ));
}

async fn delivery_resumes_in_order_once_an_unreachable_receiver_is_back(backend: Backend) {
    let Some(harness) = Harness::start(backend, settings()).await else {
        return;
    };
    // Nothing listens at the subscription's URL: every connection is refused.
    let down = DownReceiver::reserve();
    let created = harness.subscribe(&down.url, &[], None).await;
    let id = created.subscription.id;
    some_history(&harness).await;

    for attempt in 1..=4u32 {
        let report = harness.webhooks.tick().await.unwrap();
        assert_eq!(report.attempts.len(), 1, "attempt {attempt} is due");
        let tried = &report.attempts[0];
        assert_eq!((tried.position, tried.number), (1, attempt));
        let AttemptOutcome::Failed {
            error,
            next_attempt_at,
        } = &tried.outcome
        else {
            panic!("attempt {attempt} on a refused connection: {tried:?}");
        };
        assert!(error.contains("could not connect"), "{error}");
        // The subscription stays on the entry it could not deliver, and waits for the backoff.
        let status = harness.status(id).await;
        assert_eq!((status.position, status.attempts), (0, attempt));
        let report = harness.webhooks.tick().await.unwrap();
        assert!(
            report.attempts.is_empty(),
            "attempted before the backoff ran out"
        );
        harness.clock.set(*next_attempt_at);
        // The ledger keeps growing meanwhile.
        let complaint = harness.file().await;
        harness.contact(complaint, Direction::Inbound, true).await;
    }

    // The receiver is back at the same address; the next due attempt resumes from the entry
    // that failed, and everything follows in order, each entry once.
    let receiver = down.start(Script::FailFirst(0));
    harness.deliver_everything().await;
    let head = harness.head().await;
    assert!(head >= 13, "enough history to be meaningful: {head}");
    let requests = receiver.requests();
    assert_eq!(
        requests
            .iter()
            .map(|request| (request.position(), request.accepted()))
            .collect::<Vec<_>>(),
        (1..=head)
            .map(|position| (position, true))
            .collect::<Vec<_>>(),
        "every entry once, in ledger order, starting with the one that failed"
    );
    let status = harness.status(id).await;
    assert_eq!(
        (
            status.position,
            status.lag,
            status.attempts,
            status.dead_letters
        ),
        (head, 0, 0, 0)
    );
    assert!(status
        .last_error
        .expect("the refusals are remembered")
        .contains("could not connect"));
}

/// The egress policy: with the default settings, a receiver on an internal address is refused
/// when subscribing (an address or an internal name in the URL) and, for a subscription made
/// where the operator allowed it, at connect time by every instance that does not allow it:
/// the receiver hears nothing, and the error names the policy, not what answered.
async fn internal_receivers_are_refused_when_subscribing_and_when_connecting(backend: Backend) {
    let Some(harness) = Harness::start(backend, settings()).await else {
        return;
    };
    let receiver = Receiver::start(Script::FailFirst(0)).await;
    let by_name = receiver.url.replace("127.0.0.1", "localhost");
    assert_ne!(by_name, receiver.url, "the receiver listens on 127.0.0.1");
    let strict = harness
        .another_instance(WebhookSettings {
            egress: Default::default(),
            ..settings()
        })
        .await;
    for url in [receiver.url.clone(), by_name.clone()] {
        let refused = strict
            .subscribe(NewSubscription {
                url: url.clone(),
                event_types: Vec::new(),
                secret: None,
                max_attempts: None,
                start: Start::Beginning,
                owner: None,
            })
            .await;
        match refused {
            Err(WebhookError::InvalidUrl { reason, .. }) => {
                assert!(reason.contains("egress policy"), "{url}: {reason}")
            }
            other => panic!("{url} was not refused: {other:?}"),
        }
    }

    // Made where loopback is allowed, delivered by an instance where it is not.
    let by_address = harness.subscribe(&receiver.url, &[], Some(1)).await;
    let named = harness.subscribe(&by_name, &[], Some(1)).await;
    harness.file().await;
    let report = strict.tick().await.expect("tick");
    assert_eq!(report.attempts.len(), 2, "{report:?}");
    for attempt in &report.attempts {
        // An address in the URL is checked before connecting; a name by the client's resolver,
        // on the addresses it resolves to (so each path is seen to refuse on its own).
        let expected = if attempt.subscription == by_address.subscription.id {
            "is a loopback address"
        } else {
            "resolves only to internal addresses (loopback)"
        };
        match &attempt.outcome {
            obliged_webhooks::AttemptOutcome::DeadLettered { error } => assert!(
                error.starts_with("refused by the egress policy:") && error.contains(expected),
                "{error}"
            ),
            other => panic!("delivered past the policy: {other:?}"),
        }
    }
    assert_eq!(receiver.count(), 0, "the receiver heard nothing");
    for id in [by_address.subscription.id, named.subscription.id] {
        let status = harness.status(id).await;
        let error = status.last_error.expect("the refusal is recorded");
        assert!(error.contains("--webhook-allow"), "{error}");
    }
}

/// New subscriptions cannot carry credentials in their URL; one stored before that rule keeps
/// delivering with them, but every listing shows the password as `***`.
async fn credentials_stored_in_an_older_url_are_never_shown(backend: Backend) {
    let Some(harness) = Harness::start(backend, settings()).await else {
        return;
    };
    let receiver = Receiver::start(Script::FailFirst(0)).await;
    let created = harness.subscribe(&receiver.url, &[], None).await;
    let id = created.subscription.id;
    let with_credentials = receiver.url.replace("http://", "http://crm:hunter2@");
    obliged_storage::with_pool!(&harness.store.database, pool => {
        sqlx::query("UPDATE webhook_subscriptions SET url = $1 WHERE id = $2")
            .bind(&with_credentials)
            .bind(id.to_string())
            .execute(pool)
            .await
            .expect("an older row");
    });
    harness.file().await;
    harness.deliver_everything().await;
    assert!(receiver.count() >= 1, "it still delivers");
    let shown = harness.status(id).await.subscription.url;
    assert!(
        !shown.contains("hunter2") && shown.contains("crm:***@"),
        "{shown}"
    );
    let listed = harness.webhooks.list().await.expect("list");
    assert!(listed
        .iter()
        .all(|status| !status.subscription.url.contains("hunter2")));
}

/// The stored secret of subscription `id`.
async fn stored_secret(harness: &Harness, id: uuid::Uuid) -> String {
    let (secret,): (String,) = obliged_storage::with_pool!(&harness.store.database, pool => {
        sqlx::query_as("SELECT secret FROM webhook_subscriptions WHERE id = $1")
            .bind(id.to_string())
            .fetch_one(pool)
            .await
            .expect("the row")
    });
    secret
}

/// A signing secret is stored sealed under the master key, never in clear; one stored in clear
/// before that (an older row) is sealed when the worker starts, and both keep signing.
async fn secrets_are_stored_sealed_and_one_stored_in_clear_is_sealed_when_the_worker_starts(
    backend: Backend,
) {
    let Some(harness) = Harness::start(backend, settings()).await else {
        return;
    };
    let receiver = Receiver::start(Script::FailFirst(0)).await;
    let created = harness.subscribe(&receiver.url, &[], None).await;
    let (id, secret) = (created.subscription.id, created.secret.expose().to_owned());
    let stored = stored_secret(&harness, id).await;
    assert!(obliged_storage::is_sealed_secret(&stored), "{stored}");
    assert!(!stored.contains(&secret));

    // An older row, with its secret in clear.
    let older = harness.subscribe(&receiver.url, &[], None).await;
    let (older_id, older_secret) = (older.subscription.id, older.secret.expose().to_owned());
    obliged_storage::with_pool!(&harness.store.database, pool => {
        sqlx::query("UPDATE webhook_subscriptions SET secret = $1 WHERE id = $2")
            .bind(&older_secret)
            .bind(older_id.to_string())
            .execute(pool)
            .await
            .expect("an older row");
    });
    // It still signs before the worker starts...
    harness.file().await;
    harness.deliver_everything().await;
    // ...and the worker seals it when it starts.
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(harness.webhooks.clone().run(shutdown));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !obliged_storage::is_sealed_secret(&stored_secret(&harness, older_id).await) {
        assert!(tokio::time::Instant::now() < deadline, "never sealed");
        tokio::task::yield_now().await;
    }
    stop.send(true).expect("stop the worker");
    worker.await.expect("the worker stops");
    assert!(!stored_secret(&harness, older_id)
        .await
        .contains(&older_secret));
    assert_eq!(
        harness.webhooks.seal_stored_secrets().await.expect("seal"),
        0,
        "nothing left in clear"
    );
    harness.file().await;
    harness.deliver_everything().await;

    // Every delivery of each subscription verifies with the secret it was given.
    let requests = receiver.requests();
    for (subscription, secret) in [(id, &secret), (older_id, &older_secret)] {
        let theirs: Vec<_> = requests
            .iter()
            .filter(|request| request.header("obliged-subscription") == subscription.to_string())
            .collect();
        assert!(theirs.len() >= 2, "delivered before and after sealing");
        for request in theirs {
            request.verify(secret);
        }
    }
}
