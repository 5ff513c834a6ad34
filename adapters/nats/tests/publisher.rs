//! The NATS publisher against a real JetStream server, on both stores: every entry reaches a
//! consumer once and in order across restarts and a crash between publish and checkpoint;
//! subjects name the complaint and event type; bodies carry no personal data; status reports the
//! lag; the running worker follows the ledger and stops on shutdown; the stream is checked and,
//! when deleted, created again; publishing resumes from the checkpoint after NATS was
//! unreachable for a while.

mod support;

use std::time::Duration;

use async_nats::jetstream::stream;
use obliged_nats::{NatsError, NatsSettings, NatsStatus};
use serde_json::{json, Value};

use support::proxy::Proxy;
use support::{
    drain, for_each_store, is_server_store_race, ledger_entries, nats_url, receive, Backend,
    Fixture, Received, CUSTOMER_EMAIL, CUSTOMER_NAME, CUSTOMER_PHONE, DESCRIPTION, PATIENCE,
};

for_each_store!(
    every_entry_reaches_a_consumer_once_in_order_across_restarts_and_a_crash,
    subjects_name_complaint_and_event_type_and_bodies_carry_no_personal_data,
    status_reports_checkpoint_head_and_lag,
    the_running_publisher_follows_the_ledger_and_stops_on_shutdown,
    a_deleted_stream_is_created_again_and_a_foreign_one_is_refused,
    an_entry_the_stream_refuses_holds_back_every_entry_after_it,
    publishing_resumes_from_the_checkpoint_once_nats_is_back,
);

/// The positions of the received messages, checking that each body is its ledger entry.
async fn positions(fixture: &Fixture, received: &[Received]) -> Vec<u64> {
    let entries = ledger_entries(&fixture.engine).await;
    received
        .iter()
        .map(|message| {
            let entry = entries
                .get(&message.message_id)
                .unwrap_or_else(|| panic!("no ledger entry {}", message.message_id));
            assert_eq!(message.body["position"], json!(entry.position));
            assert_eq!(
                message.body["hash"],
                json!(entry.hash),
                "the body is its entry"
            );
            message.message_id
        })
        .collect()
}

async fn every_entry_reaches_a_consumer_once_in_order_across_restarts_and_a_crash(
    backend: Backend,
) {
    let Some(fixture) = Fixture::start(backend).await else {
        return;
    };
    let checkpoints = fixture.checkpoints.clone();
    let checkpoint_name = fixture.settings.checkpoint_name();
    for _ in 0..3 {
        let complaint = fixture.file().await;
        fixture
            .contact(complaint, "Still waiting for the refund")
            .await;
    }
    let head = fixture.settled_head().await;
    assert!(
        head >= 9,
        "three filings and three contacts: {head} entries"
    );

    // A first run publishes part of the ledger and goes away.
    let first = fixture.publisher().await;
    let consumer = fixture.consumer().await;
    assert_eq!(first.tick(4).await.expect("publish"), 4);
    drop(first);
    let mut received = drain(&consumer).await;
    assert_eq!(positions(&fixture, &received).await, vec![1, 2, 3, 4]);

    // A second run publishes three more, then crashes after JetStream acknowledged them but
    // before its checkpoint reached the database: the checkpoint still says 3.
    let second = fixture.publisher().await;
    assert_eq!(second.tick(3).await.expect("publish"), 3);
    assert_eq!(checkpoints.get(&checkpoint_name).await.unwrap(), 7);
    checkpoints.set(&checkpoint_name, 3).await.unwrap();
    drop(second);
    received.extend(drain(&consumer).await);

    // Meanwhile more is appended; a third run starts from the stale checkpoint and publishes
    // everything after it, in small steps.
    let complaint = fixture.file().await;
    fixture.contact(complaint, "Called again").await;
    let head = fixture.settled_head().await;
    let third = fixture.publisher().await;
    let mut published = 0;
    loop {
        let step = third.tick(5).await.expect("publish");
        if step == 0 {
            break;
        }
        published += step;
    }
    assert_eq!(
        published as u64,
        head - 3,
        "resumed after the stored checkpoint"
    );
    assert_eq!(checkpoints.get(&checkpoint_name).await.unwrap(), head);
    received.extend(drain(&consumer).await);

    assert_eq!(
        positions(&fixture, &received).await,
        (1..=head).collect::<Vec<_>>(),
        "every position once, in order"
    );
    assert_eq!(
        fixture.stream_messages().await,
        head,
        "JetStream dropped the re-published entries"
    );
    assert!(drain(&consumer).await.is_empty(), "nothing more arrives");
}

async fn subjects_name_complaint_and_event_type_and_bodies_carry_no_personal_data(
    backend: Backend,
) {
    let Some(fixture) = Fixture::start(backend).await else {
        return;
    };
    let summary = format!("{CUSTOMER_NAME} asked for her money back");
    let first = fixture.file().await;
    fixture.contact(first, &summary).await;
    fixture.contact_as(first, "Called back", "Sam").await;
    let second = fixture.file().await;
    let head = fixture.settled_head().await;
    let publisher = fixture.publisher().await;
    assert_eq!(publisher.tick(100).await.expect("publish") as u64, head);

    let received = drain(&fixture.consumer().await).await;
    assert_eq!(received.len() as u64, head);
    let entries = ledger_entries(&fixture.engine).await;
    let mut event_types = Vec::new();
    for message in &received {
        let entry = &entries[&message.message_id];
        assert_eq!(
            message.subject,
            format!(
                "{}.{}.{}",
                fixture.settings.subject_prefix, entry.complaint_id, entry.event_type
            )
        );
        assert_eq!(message.body["complaint_id"], json!(entry.complaint_id));
        assert_eq!(message.body["type"], json!(entry.event_type));
        for personal in [
            CUSTOMER_NAME,
            CUSTOMER_EMAIL,
            CUSTOMER_PHONE,
            DESCRIPTION,
            &summary,
        ] {
            assert!(
                !message.raw_body.contains(personal),
                "{personal:?} is in the message on {}: {}",
                message.subject,
                message.raw_body
            );
        }
        event_types.push(entry.event_type.clone());
    }
    assert!(event_types.iter().any(|ty| ty == "ComplaintFiled"));
    assert!(event_types.iter().any(|ty| ty == "ContactLogged"));
    // The personal data is there, sealed: redacted, not dropped.
    let filing = received
        .iter()
        .find(|message| message.body["type"] == "ComplaintFiled")
        .expect("a filing");
    assert_eq!(
        filing.body["payload"]["ComplaintFiled"]["customer"]["name"],
        json!("[sealed]")
    );
    assert_eq!(
        filing.body["payload"]["ComplaintFiled"]["customer"]["reference"],
        json!("CUST-1042"),
        "what is not personal data stays readable"
    );

    // Alice called back as Sam: every event of that command names Sam, never alice.
    let as_sam: Vec<&Value> = received
        .iter()
        .map(|message| &message.body)
        .filter(|body| body["metadata"]["alias"] == json!("Sam"))
        .collect();
    assert!(as_sam.len() >= 2, "the contact and the obligation it opens");
    for body in &as_sam {
        assert_eq!(body["metadata"]["actor"], json!("Sam"), "{body}");
        assert!(
            !body.to_string().contains("alice"),
            "alice behind Sam: {body}"
        );
    }
    let contact = as_sam
        .iter()
        .find(|body| body["type"] == "ContactLogged")
        .expect("the contact under the alias");
    assert_eq!(contact["payload"]["ContactLogged"]["alias"], json!("Sam"));
    assert_eq!(contact["payload"]["ContactLogged"]["staff"], Value::Null);

    // One complaint's events are one subject filter away.
    let only_second = fixture
        .consumer_of(Some(format!(
            "{}.{second}.>",
            fixture.settings.subject_prefix
        )))
        .await;
    let of_second = drain(&only_second).await;
    assert!(!of_second.is_empty());
    assert!(of_second
        .iter()
        .all(|message| message.body["complaint_id"] == json!(second.to_string())));
    assert_eq!(
        of_second.len(),
        entries
            .values()
            .filter(|entry| entry.complaint_id == second.to_string())
            .count()
    );
}

async fn status_reports_checkpoint_head_and_lag(backend: Backend) {
    let Some(fixture) = Fixture::start(backend).await else {
        return;
    };
    let publisher = fixture.publisher().await;
    let status = |checkpoint, head| NatsStatus {
        stream: fixture.settings.stream.clone(),
        checkpoint,
        head,
        lag: head - checkpoint,
    };
    assert_eq!(publisher.status().await.unwrap(), status(0, 0));
    assert_eq!(publisher.tick(10).await.unwrap(), 0, "nothing to publish");

    let complaint = fixture.file().await;
    fixture.contact(complaint, "Any news?").await;
    let head = fixture.settled_head().await;
    assert!(head >= 3);
    assert_eq!(publisher.status().await.unwrap(), status(0, head));

    assert_eq!(publisher.tick(2).await.unwrap(), 2);
    assert_eq!(publisher.status().await.unwrap(), status(2, head));
    assert_eq!(
        publisher.checkpoint_name(),
        format!("nats:{}", fixture.settings.stream)
    );
    assert_eq!(
        fixture
            .checkpoints
            .get(publisher.checkpoint_name())
            .await
            .unwrap(),
        2
    );

    assert_eq!(publisher.tick(100).await.unwrap() as u64, head - 2);
    assert_eq!(publisher.status().await.unwrap(), status(head, head));

    fixture.contact(complaint, "Hello?").await;
    let new_head = fixture.settled_head().await;
    assert!(new_head > head);
    assert_eq!(publisher.status().await.unwrap(), status(head, new_head));
}

async fn the_running_publisher_follows_the_ledger_and_stops_on_shutdown(backend: Backend) {
    let Some(mut fixture) = Fixture::start(backend).await else {
        return;
    };
    // Only the ledger's head can wake it in time: the poll interval is far beyond the test's
    // patience. Steps of two entries make it take several steps per command.
    fixture.settings.poll_interval = Duration::from_secs(3_600);
    fixture.settings.batch = 2;
    let publisher = fixture.publisher().await;
    let consumer = fixture.consumer().await;
    let (shutdown, shutdown_receiver) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(publisher.run(shutdown_receiver));

    let complaint = fixture.file().await;
    fixture.contact(complaint, "First call").await;
    let head = fixture.settled_head().await;
    let mut received = receive(&consumer, head as usize).await;

    fixture.contact(complaint, "Second call").await;
    let second_head = fixture.settled_head().await;
    received.extend(receive(&consumer, (second_head - head) as usize).await);
    assert_eq!(
        received
            .iter()
            .map(|message| message.message_id)
            .collect::<Vec<_>>(),
        (1..=second_head).collect::<Vec<_>>()
    );

    shutdown.send(true).expect("the worker listens");
    tokio::time::timeout(PATIENCE, worker)
        .await
        .expect("the worker stops on shutdown")
        .expect("the worker does not panic");
    assert_eq!(
        fixture
            .checkpoints
            .get(&fixture.settings.checkpoint_name())
            .await
            .unwrap(),
        second_head
    );
    assert!(drain(&consumer).await.is_empty(), "nothing published twice");
}

async fn a_deleted_stream_is_created_again_and_a_foreign_one_is_refused(backend: Backend) {
    let Some(fixture) = Fixture::start(backend).await else {
        return;
    };
    // A stream that does not capture our subjects is refused at start-up. (It has a name of its
    // own: the server cannot create a stream again right after deleting one of the same name.)
    let foreign = fixture.nats.another_stream("FOREIGN");
    fixture
        .create_stream(stream::Config {
            name: foreign.clone(),
            subjects: vec![format!("{}-other.>", fixture.nats.prefix)],
            ..Default::default()
        })
        .await;
    let settings = NatsSettings {
        stream: foreign.clone(),
        ..fixture.settings.clone()
    };
    match fixture.publisher_with(settings).await {
        Err(NatsError::StreamSubjects { stream, .. }) => assert_eq!(stream, foreign),
        Err(other) => panic!("unexpected error: {other}"),
        Ok(_) => panic!("a stream that does not capture our subjects was accepted"),
    }

    let complaint = fixture.file().await;
    let head = fixture.settled_head().await;
    let publisher = fixture.publisher().await;
    assert_eq!(publisher.tick(100).await.unwrap() as u64, head);

    // An operator deletes the stream. The next step fails (nothing captures the subject) and
    // publishes nothing; a later one creates the stream again and goes on from the checkpoint.
    fixture
        .nats
        .jetstream
        .delete_stream(&fixture.nats.stream)
        .await
        .expect("delete the stream");
    fixture.contact(complaint, "Are you there?").await;
    let new_head = fixture.settled_head().await;
    match publisher.tick(100).await {
        Err(NatsError::Publish { position, .. }) => assert_eq!(position, head + 1),
        other => panic!("publishing without a stream: {other:?}"),
    }
    assert_eq!(publisher.status().await.unwrap().checkpoint, head);
    // The server may refuse to create the stream while it still removes the deleted one's files
    // (see `is_server_store_race`); `run` would retry, and so does the test (bounded).
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let published = loop {
        match publisher.tick(100).await {
            Ok(published) => break published,
            Err(NatsError::Stream { source, .. })
                if is_server_store_race(&source) && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(other) => panic!("publishing after the stream was deleted: {other}"),
        }
    };
    assert_eq!(published as u64, new_head - head);
    let received = drain(&fixture.consumer().await).await;
    assert_eq!(
        received
            .iter()
            .map(|message| message.message_id)
            .collect::<Vec<_>>(),
        (head + 1..=new_head).collect::<Vec<_>>()
    );
}

async fn an_entry_the_stream_refuses_holds_back_every_entry_after_it(backend: Backend) {
    let Some(fixture) = Fixture::start(backend).await else {
        return;
    };
    // A contact is two entries (the contact and its obligation); the second one carries a huge
    // correlation id in its metadata.
    let complaint = fixture.file().await;
    fixture.contact(complaint, "First call").await;
    let huge = "c".repeat(8_000);
    fixture
        .contact_correlated(complaint, "Second call", Some(huge.clone()))
        .await;
    fixture.contact(complaint, "Third call").await;
    let head = fixture.settled_head().await;
    let oversized: Vec<u64> = ledger_entries(&fixture.engine)
        .await
        .into_values()
        .filter(|entry| entry.metadata.contains(&huge))
        .map(|entry| entry.position)
        .collect();
    let first_oversized = oversized[0];
    assert_eq!(oversized, vec![first_oversized, first_oversized + 1]);
    assert!(
        head >= first_oversized + 3,
        "entries follow the oversized ones"
    );

    // The operator's stream refuses messages over 4 KiB. With three publishes in flight, the
    // entry after the two oversized ones is already sent when the first of them is refused; it
    // would fit, but storing it before them would put the stream out of order, so it must be
    // refused too.
    fixture
        .create_stream(stream::Config {
            name: fixture.nats.stream.clone(),
            subjects: vec![format!("{}.>", fixture.nats.prefix)],
            duplicate_window: fixture.settings.duplicate_window,
            max_message_size: 4_096,
            ..Default::default()
        })
        .await;
    assert_eq!(fixture.settings.in_flight, 3);
    let publisher = fixture.publisher().await;
    match publisher.tick(100).await {
        Err(NatsError::Publish { position, source }) => {
            assert_eq!(position, first_oversized, "{source:?}")
        }
        other => panic!("publishing an oversized entry: {other:?}"),
    }
    let acknowledged = first_oversized - 1;
    assert_eq!(
        publisher.status().await.unwrap().checkpoint,
        acknowledged,
        "what was acknowledged before the refusal is checkpointed"
    );
    let consumer = fixture.consumer().await;
    let mut received = drain(&consumer).await;
    assert_eq!(
        positions(&fixture, &received).await,
        (1..=acknowledged).collect::<Vec<_>>()
    );
    assert_eq!(
        fixture.stream_messages().await,
        acknowledged,
        "nothing after the refused entry"
    );

    // The operator lifts the limit; publishing resumes at the refused entry.
    let mut stream = fixture
        .nats
        .jetstream
        .get_stream(&fixture.nats.stream)
        .await
        .expect("the stream");
    let mut config = stream.info().await.expect("stream info").config.clone();
    config.max_message_size = -1;
    fixture
        .nats
        .jetstream
        .update_stream(&config)
        .await
        .expect("lift the limit");
    assert_eq!(
        publisher.tick(100).await.unwrap() as u64,
        head - acknowledged
    );
    received.extend(drain(&consumer).await);
    assert_eq!(
        positions(&fixture, &received).await,
        (1..=head).collect::<Vec<_>>()
    );
    assert_eq!(fixture.stream_messages().await, head);
}

async fn publishing_resumes_from_the_checkpoint_once_nats_is_back(backend: Backend) {
    let Some(mut fixture) = Fixture::start(backend).await else {
        return;
    };
    // The publisher reaches NATS only through a proxy the test takes down and brings back.
    let mut proxy = Proxy::down(&nats_url());
    fixture.settings.url = proxy.url.clone();
    // An ack that does not come within a second counts as failed, so that a step against an
    // unreachable server gives up quickly.
    fixture.settings.request_timeout = Duration::from_secs(1);
    let complaint = fixture.file().await;
    fixture.contact(complaint, "First call").await;

    // Unreachable at start-up: connecting fails (the binary's worker retries it).
    let refused = fixture.publisher_with(fixture.settings.clone()).await;
    assert!(
        matches!(refused, Err(NatsError::Connect(_))),
        "{:?}",
        refused.err()
    );

    proxy.up();
    let publisher = fixture.publisher().await;
    let published = fixture.settled_head().await;
    assert_eq!(publisher.tick(1_000).await.unwrap(), published as usize);

    // NATS goes away: a step fails, and the checkpoint stays at what JetStream acknowledged.
    proxy.cut().await;
    for call in 0..3 {
        fixture.contact(complaint, &format!("Call {call}")).await;
    }
    let failed = publisher.tick(1_000).await;
    assert!(failed.is_err(), "a step without NATS: {failed:?}");
    assert_eq!(publisher.status().await.unwrap().checkpoint, published);
    let another = fixture.file().await;
    fixture.contact(another, "Anyone there?").await;
    let head = fixture.settled_head().await;

    // Back: steps resume from the checkpoint until they reach the head. Until the client has
    // reconnected a step may still fail; each failure takes the request timeout, no longer.
    proxy.up();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut failures = Vec::new();
    while publisher.status().await.unwrap().checkpoint < head {
        assert!(
            tokio::time::Instant::now() < deadline,
            "publishing did not resume within {PATIENCE:?}: {failures:?}"
        );
        if let Err(error) = publisher.tick(1_000).await {
            failures.push(error.to_string());
        }
    }
    assert_eq!(publisher.status().await.unwrap().checkpoint, head);
    eprintln!(
        "publishing resumed after {} failed step(s) once NATS was back",
        failures.len()
    );

    // The stream holds every entry once, in ledger order, each with Nats-Msg-Id = its position:
    // nothing skipped across the outage, and entries sent before it was noticed (or sent again
    // after) are either stored in their place or dropped as duplicates.
    let consumer = fixture.consumer().await;
    let received = drain(&consumer).await;
    assert_eq!(
        positions(&fixture, &received).await,
        (1..=head).collect::<Vec<_>>()
    );
    assert_eq!(fixture.stream_messages().await, head);
}
