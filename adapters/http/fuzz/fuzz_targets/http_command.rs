//! Fuzzes the HTTP command path: each input is a request body, sent as a filing and as a
//! command to a complaint in a known state, through the router and the engine on a temporary
//! SQLite store, with the properties of `obliged_http::fuzzing` checked (no 5xx or panic, every
//! refusal a problem that appended nothing, every acceptance appended what it reports).

#![no_main]

use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use obliged_domain::{FixedClock, Policy};
use obliged_http::fuzzing::CommandTarget;
use obliged_storage::testing::{Backend, TestStore};
use obliged_storage::MasterKey;
use tokio::runtime::Runtime;
use tokio::sync::Mutex;

struct Harness {
    runtime: Runtime,
    target: Mutex<CommandTarget>,
    // Kept for the life of the process: dropping it deletes the store.
    _store: TestStore,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let (store, target) = runtime.block_on(async {
            let store = TestStore::create(Backend::Sqlite)
                .await
                .expect("a SQLite store needs no server");
            let clock = FixedClock::new("2026-03-02T09:00:00Z".parse().expect("timestamp"));
            let state = obliged_http::fuzzing::state(
                &store.database,
                &MasterKey::generate(),
                Policy::default(),
                Arc::new(clock),
            );
            let target = CommandTarget::new(state).await;
            (store, target)
        });
        Harness {
            runtime,
            target: Mutex::new(target),
            _store: store,
        }
    })
}

fuzz_target!(|body: &[u8]| {
    let harness = harness();
    harness.runtime.block_on(async {
        harness.target.lock().await.check(body).await;
    });
});
