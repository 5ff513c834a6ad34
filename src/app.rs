//! [`App`]: one running obliged, every part wired once. The command path (the engine), the log
//! it writes (the ledger and a reader of it for consumers), the read side (projector and read
//! models), webhook delivery, tokens, checkpoints, the clock every part reads, and the shutdown
//! signal. Workers take the `App` (or the narrow handle they need); the HTTP state is built
//! from it, so the server and the workers always share the same parts.

use std::sync::Arc;

use obliged_console::ConsoleState;
use obliged_domain::{Clock, ComplaintServices, Policy};
use obliged_http::{AppState, ServerLimits};
use obliged_projections::{Projector, ReadModels};
use obliged_storage::{
    Accounts, Checkpoints, Database, Engine, Ledger, LedgerReader, MasterKey, SessionSettings,
    StreamLimits, Streams, Tokens,
};
use obliged_webhooks::{WebhookSettings, Webhooks};
use tokio::sync::watch;

/// Everything a running obliged holds. Cheap to clone: clones share every part.
#[derive(Clone)]
pub struct App {
    pub database: Database,
    /// The one source of "now" for every part (commands, ledger, tokens, checkpoints, webhooks).
    pub clock: Arc<dyn Clock>,
    /// The command path.
    pub engine: Engine,
    /// The sequencer and the hash-chained ledger the engine's events are sequenced into.
    pub ledger: Arc<Ledger>,
    /// The ledger as consumers read it: entries, opened or redacted; it cannot run commands.
    pub reader: LedgerReader,
    pub projector: Arc<Projector>,
    pub read_models: ReadModels,
    pub webhooks: Webhooks,
    pub tokens: Tokens,
    /// Console accounts and their sessions.
    pub accounts: Accounts,
    pub checkpoints: Checkpoints,
    /// Becomes `true` when the process starts shutting down: workers and streams end.
    pub shutdown: Arc<watch::Sender<bool>>,
    /// How many live event streams the HTTP API holds open.
    pub stream_limits: StreamLimits,
    /// Whether the console's session cookie is marked `Secure` (it is reached over TLS).
    pub secure_cookies: bool,
}

impl App {
    /// Wires every part over a connected, migrated `database`.
    pub fn new(
        database: &Database,
        master_key: &MasterKey,
        policy: Policy,
        clock: Arc<dyn Clock>,
    ) -> Self {
        Self::with_webhook_settings(
            database,
            master_key,
            policy,
            clock,
            WebhookSettings::default(),
        )
        .expect("the default webhook settings are valid")
    }

    /// Like [`App::new`], with webhook delivery tuned by `webhook_settings`.
    pub fn with_webhook_settings(
        database: &Database,
        master_key: &MasterKey,
        policy: Policy,
        clock: Arc<dyn Clock>,
        webhook_settings: WebhookSettings,
    ) -> Result<Self, obliged_webhooks::WebhookError> {
        let engine = Engine::new(
            database,
            master_key,
            ComplaintServices::new(clock.clone(), policy),
        );
        let ledger = engine.ledger().clone();
        let reader = engine.reader();
        let webhooks = Webhooks::new(reader.clone(), clock.clone(), webhook_settings)?;
        Ok(Self {
            database: database.clone(),
            projector: Arc::new(Projector::new(ledger.clone(), clock.clone())),
            read_models: ReadModels::new(database.clone()),
            tokens: Tokens::new(database.clone(), clock.clone()),
            accounts: Accounts::new(database.clone(), clock.clone(), SessionSettings::default()),
            checkpoints: Checkpoints::new(database.clone(), clock.clone()),
            webhooks,
            reader,
            ledger,
            engine,
            clock,
            shutdown: Arc::new(watch::Sender::new(false)),
            stream_limits: StreamLimits::default(),
            secure_cookies: false,
        })
    }

    /// The state the HTTP API's handlers reach: the same parts, shared. Call it once per
    /// server: it holds the process's event streams.
    pub fn http_state(&self) -> AppState {
        AppState {
            streams: Streams::new(self.reader.clone(), self.tokens.clone(), self.stream_limits),
            engine: self.engine.clone(),
            reader: self.reader.clone(),
            projector: self.projector.clone(),
            read_models: self.read_models.clone(),
            checkpoints: self.checkpoints.clone(),
            webhooks: self.webhooks.clone(),
            tokens: self.tokens.clone(),
            database: self.database.clone(),
            shutdown: self.shutdown.clone(),
        }
    }

    /// Everything `obliged serve` answers: the web console at `/` around the API (`/api`,
    /// `/healthz`), sharing one reader of the ledger for their live streams. Call it once per
    /// server.
    pub fn router(&self, limits: ServerLimits) -> axum::Router {
        let http = self.http_state();
        let console = ConsoleState::new(
            self.engine.clone(),
            self.read_models.clone(),
            self.projector.clone(),
            self.accounts.clone(),
            self.tokens.clone(),
            self.webhooks.clone(),
            self.checkpoints.clone(),
            http.streams.clone(),
            self.shutdown.clone(),
            self.secure_cookies,
        );
        obliged_console::router(console, obliged_http::router_with(http, limits))
    }
}
