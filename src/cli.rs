//! The command line: one settings struct parsed in one place (flags with environment fallbacks),
//! and one function per subcommand.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use jiff::Timestamp;
use obliged_domain::Policy;
use obliged_projections::formats::ReportFormat;
use obliged_projections::Projector;
use obliged_storage::{
    Disclosure, Ledger, Role, StreamLimits, Tokens, Verification, SEQUENCE_BATCH,
};
use obliged_webhooks::{EgressPolicy, NewSubscription, Start, WebhookSettings};
use uuid::Uuid;

use crate::app::App;
use crate::scheduler::Scheduler;
use crate::startup::{self, SystemClock, DEFAULT_DATABASE_URL, DEFAULT_MASTER_KEY_FILE};

/// obliged: an event-sourced complaint resolution engine in which listening obliges action.
///
/// Every complaint is a history of immutable events: contacts, promises, follow-ups owed and
/// ownership. Runs on an embedded SQLite file by default, or on PostgreSQL.
#[derive(Debug, Parser)]
#[command(name = "obliged", version, propagate_version = true)]
pub struct Cli {
    /// Where complaints are stored: sqlite://PATH (created if missing) or postgres://USER@HOST/DB.
    #[arg(
        long,
        global = true,
        env = "OBLIGED_DATABASE_URL",
        default_value = DEFAULT_DATABASE_URL,
        value_name = "URL"
    )]
    pub database_url: String,

    /// The master key that wraps the per-complaint keys sealing personal data, and seals the
    /// webhook signing secrets. Created with mode 0600 on first start if absent; losing it makes
    /// all personal data unreadable and every webhook unsigned.
    #[arg(
        long,
        global = true,
        env = "OBLIGED_MASTER_KEY_FILE",
        default_value = DEFAULT_MASTER_KEY_FILE,
        value_name = "PATH"
    )]
    pub master_key_file: PathBuf,

    /// The policy: business calendar, deadlines, regime and ladders. A preset (standard, fca,
    /// kifid, awb) or the path of a TOML file.
    #[arg(
        long,
        global = true,
        env = "OBLIGED_POLICY",
        default_value = crate::policy::DEFAULT_POLICY,
        value_name = "PRESET|PATH"
    )]
    pub policy: String,

    /// Internal receivers webhooks may reach: host names, addresses or networks
    /// (receiver.internal, 10.1.2.3, 10.1.0.0/16), comma-separated. Without it, deliveries go
    /// only to public addresses: loopback, private, link-local, unique-local and unspecified
    /// addresses are refused when subscribing and when connecting.
    #[arg(
        long,
        global = true,
        env = "OBLIGED_WEBHOOK_ALLOW",
        value_delimiter = ',',
        value_name = "HOST|ADDR|NET"
    )]
    pub webhook_allow: Vec<String>,

    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    /// Webhook delivery settings: the defaults, with the egress allowlist of `--webhook-allow`.
    fn webhook_settings(&self) -> anyhow::Result<WebhookSettings> {
        let egress = EgressPolicy::allowing(&self.webhook_allow)
            .map_err(|reason| anyhow::anyhow!("--webhook-allow: {reason}"))?;
        Ok(WebhookSettings {
            egress,
            ..WebhookSettings::default()
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web console and the HTTP API until SIGINT or SIGTERM (migrates the database
    /// first).
    Serve(ServeArgs),
    /// Create or upgrade the database tables, then exit.
    Migrate,
    /// Manage API bearer tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Manage the people who sign in to the web console.
    #[command(subcommand)]
    User(UserCommand),
    /// Read complaints.
    #[command(subcommand)]
    Complaint(ComplaintCommand),
    /// Check the ledger: recompute the hash chain from position 1.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The master key that wraps every complaint's data key.
    #[command(subcommand)]
    Key(KeyCommand),
    /// Inspect or rebuild the read models.
    #[command(subcommand)]
    Projections(ProjectionsCommand),
    /// Manage webhook subscriptions (delivered by `obliged serve`).
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// The promise clock: reminders, breaches and escalations as they fall due (`obliged serve`
    /// ticks it by itself).
    #[command(subcommand)]
    Clock(ClockCommand),
    /// Accountability reports rebuilt from the ledger (they hold no personal data).
    #[command(subcommand)]
    Report(ReportCommand),
}

#[derive(Debug, Subcommand)]
pub enum ClockCommand {
    /// Reach every ladder rung due now (or at --now), in order, and print what was reached.
    /// Safe beside running servers: each rung is reached once, whoever gets there first.
    Tick {
        /// Act as if it were this moment (RFC 3339), for catching up or rehearsing.
        #[arg(long, value_name = "TIMESTAMP")]
        now: Option<Timestamp>,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the ladder rungs due now (or at --now) without reaching them.
    Due {
        #[arg(long, value_name = "TIMESTAMP")]
        now: Option<Timestamp>,
        /// At most this many, soonest first.
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Subscribe a URL; the signing secret is printed once, as the last line.
    Add {
        /// The http(s) URL that receives one signed POST per ledger entry.
        url: String,
        /// Deliver only these event types (repeat the flag); all types if absent.
        #[arg(long = "event-type", value_name = "TYPE")]
        event_types: Vec<String>,
        /// Attempts per entry before it is dead-lettered (default 8).
        #[arg(long)]
        max_attempts: Option<u32>,
        /// Start with ledger position 1 instead of the next entry.
        #[arg(long, conflicts_with = "from")]
        from_beginning: bool,
        /// Start with this ledger position.
        #[arg(long, value_name = "POSITION")]
        from: Option<u64>,
    },
    /// List subscriptions with their position, lag, attempts and last error.
    List,
    /// Stop delivering to a subscription (its history and dead letters are kept).
    Remove { id: Uuid },
    /// Deliver again from a ledger position (inclusive).
    Redeliver {
        id: Uuid,
        #[arg(long, value_name = "POSITION")]
        from: u64,
    },
    /// Show the entries that were given up on.
    DeadLetters { id: Uuid },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Re-wrap every data key (and seal every webhook secret again) under a new master key,
    /// without rewriting any event. Run it with the servers stopped; if it is interrupted, run
    /// it again with the same files. Then make the new file the master key file (or point
    /// --master-key-file at it) and destroy the old one.
    Rotate {
        /// The new master key file; created (mode 0600) when it does not exist.
        #[arg(long, value_name = "FILE")]
        new_key_file: PathBuf,
        /// Data keys re-wrapped per step.
        #[arg(long, default_value_t = 500, value_name = "N")]
        batch: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Sequence pending events, then verify every ledger entry. Exits non-zero and names the
    /// first bad or missing position if the chain does not hold.
    Verify,
}

#[derive(Debug, Subcommand)]
pub enum ProjectionsCommand {
    /// Empty the read models and project the whole ledger again from position 0.
    Rebuild {
        /// The projector to rebuild (default: all of them; there is one, `complaints`).
        name: Option<String>,
    },
    /// Show each projector's position and lag behind the ledger head.
    Status,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the chosen address is printed).
    #[arg(
        long,
        env = "OBLIGED_LISTEN",
        default_value = "127.0.0.1:8080",
        value_name = "ADDR"
    )]
    pub listen: SocketAddr,

    /// Publish every ledger entry to NATS JetStream at this URL (nats://HOST:PORT).
    #[arg(long, env = "OBLIGED_NATS_URL", value_name = "URL")]
    pub nats_url: Option<String>,

    /// The JetStream stream to publish to (created if missing).
    #[arg(long, env = "OBLIGED_NATS_STREAM", default_value = obliged_nats::DEFAULT_STREAM, value_name = "NAME")]
    pub nats_stream: String,

    /// Subject prefix; each entry goes to PREFIX.<complaint id>.<event type>.
    #[arg(long, env = "OBLIGED_NATS_SUBJECT_PREFIX", default_value = obliged_nats::DEFAULT_SUBJECT_PREFIX, value_name = "PREFIX")]
    pub nats_subject_prefix: String,

    /// Seconds between ticks of the promise clock (reminders, breaches, escalations).
    #[arg(
        long,
        env = "OBLIGED_CLOCK_INTERVAL",
        default_value_t = 15,
        value_name = "SECONDS",
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    pub clock_interval: u64,

    /// The most live event streams (`GET /api/events/stream`) the server holds open at once;
    /// past it a new stream is refused with 503 and Retry-After.
    #[arg(long, env = "OBLIGED_MAX_STREAMS", default_value_t = StreamLimits::default().total as u64,
          value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_streams: u64,

    /// The most live event streams one token may hold open; past it 429 and Retry-After.
    #[arg(long, env = "OBLIGED_MAX_STREAMS_PER_TOKEN",
          default_value_t = StreamLimits::default().per_token as u64, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_streams_per_token: u64,

    /// Mark the console's session cookie `Secure`: set it when the console is reached over
    /// HTTPS (a TLS-terminating proxy in front), so the browser never sends it in clear.
    #[arg(long, env = "OBLIGED_SECURE_COOKIES")]
    pub secure_cookies: bool,

    /// Minutes without a request after which a console session ends.
    #[arg(long, env = "OBLIGED_SESSION_IDLE_MINUTES", default_value_t = 60, value_name = "MINUTES",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub session_idle_minutes: u64,

    /// Hours after sign-in after which a console session ends, however busy.
    #[arg(long, env = "OBLIGED_SESSION_MAX_HOURS", default_value_t = 12, value_name = "HOURS",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub session_max_hours: u64,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token; the token itself is printed once, as the last line.
    Create {
        /// agent, lead, auditor (read-only), integration (stream only) or admin.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Who acts with the token (recorded as the actor of its commands).
        #[arg(long)]
        name: String,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke the active token with this name or id.
    Revoke {
        #[arg(value_name = "NAME_OR_ID")]
        name_or_id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account for the web console (roles agent, lead, auditor, admin). The password
    /// is read from standard input (first line), at least 10 characters.
    Add {
        /// The person's staff id, recorded as the actor of what they do (`alice`).
        name: String,
        /// agent, lead, auditor (read-only) or admin; integrations use API tokens.
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Read the password from standard input (the only way: never from the command line).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// Disable an account; its sessions end at once, on every instance.
    Disable { name: String },
    /// Set a new password (read from standard input); the account's sessions end.
    ResetPassword {
        name: String,
        #[arg(long, required = true)]
        password_stdin: bool,
    },
    /// List accounts (never their passwords).
    List,
}

#[derive(Debug, Subcommand)]
pub enum ComplaintCommand {
    /// Print a complaint's state and its history as a readable timeline.
    Show {
        /// The complaint id.
        id: Uuid,
        /// Show the complaint as it was recorded up to this moment (RFC 3339).
        #[arg(long, value_name = "TIMESTAMP")]
        as_of: Option<Timestamp>,
    },
}

fn parse_role(raw: &str) -> Result<Role, String> {
    Role::parse(raw).ok_or_else(|| {
        let roles: Vec<&str> = Role::ALL.iter().map(Role::as_str).collect();
        format!("unknown role {raw:?}; one of {}", roles.join(", "))
    })
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let webhook_settings = cli.webhook_settings()?;
    match cli.command {
        Command::Serve(args) => {
            serve(
                &cli.database_url,
                &cli.master_key_file,
                &cli.policy,
                webhook_settings,
                args,
            )
            .await
        }
        Command::Migrate => {
            let database = startup::connect(&cli.database_url).await?;
            database.close().await;
            println!("migrated {}", startup::redact(&cli.database_url));
            Ok(())
        }
        Command::Token(command) => token(&cli.database_url, command).await,
        Command::User(command) => user(&cli.database_url, command).await,
        Command::Complaint(ComplaintCommand::Show { id, as_of }) => {
            show(&cli.database_url, &cli.master_key_file, id, as_of).await
        }
        Command::Audit(AuditCommand::Verify) => verify(&cli.database_url).await,
        Command::Key(KeyCommand::Rotate {
            new_key_file,
            batch,
        }) => {
            rotate_key(
                &cli.database_url,
                &cli.master_key_file,
                &new_key_file,
                batch,
                webhook_settings,
            )
            .await
        }
        Command::Projections(command) => projections(&cli.database_url, command).await,
        Command::Webhook(command) => {
            webhook(
                &cli.database_url,
                &cli.master_key_file,
                webhook_settings,
                command,
            )
            .await
        }
        Command::Clock(command) => {
            clock(
                &cli.database_url,
                &cli.master_key_file,
                &cli.policy,
                command,
            )
            .await
        }
        Command::Report(command) => report(&cli.database_url, &cli.policy, command).await,
    }
}

/// `obliged key rotate`.
async fn rotate_key(
    database_url: &str,
    master_key_file: &std::path::Path,
    new_key_file: &std::path::Path,
    batch: u32,
    webhook_settings: WebhookSettings,
) -> anyhow::Result<()> {
    let old_key = startup::read_master_key(master_key_file)?;
    let new_key = startup::load_master_key(new_key_file)?;
    if std::fs::canonicalize(master_key_file).ok() == std::fs::canonicalize(new_key_file).ok() {
        anyhow::bail!("the new key file is the master key file itself");
    }
    let database = startup::connect(database_url).await?;
    let clock: Arc<dyn obliged_domain::Clock> = Arc::new(SystemClock);
    let app = App::with_webhook_settings(
        &database,
        &old_key,
        obliged_domain::Policy::default(),
        clock.clone(),
        webhook_settings,
    )?;
    let new_vault = obliged_storage::Vault::new(database.clone(), &new_key, clock);
    let keys = app
        .engine
        .vault()
        .rewrap_under(&new_key, batch, |done| {
            println!(
                "re-wrapped {} data keys so far ({} already under the new key)",
                done.rewrapped, done.already
            );
        })
        .await
        .context("re-wrapping the data keys (is --master-key-file the key they are wrapped by?)")?;
    let (resealed, already) = app
        .webhooks
        .reseal_secrets_under(&new_vault)
        .await
        .context("sealing the webhook secrets under the new key")?;
    database.close().await;
    println!(
        "done: {} data keys re-wrapped, {} were already, {} destroyed (erased); {} webhook \
         secrets sealed again, {} were already",
        keys.rewrapped, keys.already, keys.destroyed, resealed, already
    );
    println!(
        "next: use {} as the master key file, then destroy {}",
        new_key_file.display(),
        master_key_file.display()
    );
    Ok(())
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

async fn serve(
    database_url: &str,
    master_key_file: &std::path::Path,
    policy: &str,
    webhook_settings: WebhookSettings,
    args: ServeArgs,
) -> anyhow::Result<()> {
    init_tracing();
    let policy = crate::policy::load(policy)?;
    let database = startup::connect(database_url).await?;
    let master_key = startup::load_master_key(master_key_file)?;
    let mut app = App::with_webhook_settings(
        &database,
        &master_key,
        policy,
        Arc::new(SystemClock),
        webhook_settings,
    )
    .context("the webhook settings")?;
    app.secure_cookies = args.secure_cookies;
    app.accounts = obliged_storage::Accounts::new(
        database.clone(),
        app.clock.clone(),
        obliged_storage::SessionSettings {
            idle: std::time::Duration::from_secs(args.session_idle_minutes.saturating_mul(60)),
            absolute: std::time::Duration::from_secs(args.session_max_hours.saturating_mul(3600)),
        },
    );
    app.stream_limits = StreamLimits {
        per_token: usize::try_from(args.max_streams_per_token).unwrap_or(usize::MAX),
        total: usize::try_from(args.max_streams).unwrap_or(usize::MAX),
    };
    let nats = args.nats_url.map(|url| {
        let mut settings = obliged_nats::NatsSettings::new(url);
        settings.stream = args.nats_stream;
        settings.subject_prefix = args.nats_subject_prefix;
        settings
    });
    if let Some(settings) = &nats {
        settings.validate().context("checking the NATS settings")?;
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    let address = listener.local_addr().context("reading the bound address")?;
    tracing::info!(
        database = %startup::redact(database_url),
        "obliged listening on http://{address}"
    );
    println!("listening on http://{address}");
    if !app
        .accounts
        .any()
        .await
        .context("reading the console accounts")?
    {
        // The program as it was started, so that the line works as printed (`obliged`, or
        // `target/release/obliged` under `cargo run`).
        let program = std::env::args()
            .next()
            .unwrap_or_else(|| "obliged".to_owned());
        let same_store = if database_url == DEFAULT_DATABASE_URL {
            ""
        } else {
            " (with the same --database-url)"
        };
        // On standard error: standard output carries only the address (a supervisor may read
        // that one line and close the pipe).
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr(),
            "no console accounts yet; create the first admin{same_store}, typing a password of \
             at least 10 characters and Enter:\n  {program} user add NAME --role admin \
             --password-stdin\nthen sign in at http://{address}/"
        );
    }
    startup::serve(
        listener,
        app,
        nats,
        std::time::Duration::from_secs(args.clock_interval),
        startup::shutdown_signal(),
    )
    .await
}

/// The first line of standard input, without its line ending.
fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_owned();
    if password.is_empty() {
        bail!("no password on standard input");
    }
    Ok(password)
}

async fn user(database_url: &str, command: UserCommand) -> anyhow::Result<()> {
    let database = startup::connect(database_url).await?;
    let accounts = obliged_storage::Accounts::new(
        database.clone(),
        Arc::new(SystemClock),
        obliged_storage::SessionSettings::default(),
    );
    let result = async {
        match command {
            UserCommand::Add { name, role, .. } => {
                let password = read_password()?;
                let account = accounts.add(&name, role, &password).await?;
                println!("added {} {}", account.role, account.name);
            }
            UserCommand::Disable { name } => {
                let account = accounts.disable(&name).await?;
                println!("disabled {}; their sessions have ended", account.name);
            }
            UserCommand::ResetPassword { name, .. } => {
                let password = read_password()?;
                accounts.reset_password(&name, &password).await?;
                println!("set a new password for {name}; their sessions have ended");
            }
            UserCommand::List => {
                println!("{:<24}  {:<8}  {:<27}  disabled", "name", "role", "created");
                for account in accounts.list().await? {
                    println!(
                        "{:<24}  {:<8}  {:<27}  {}",
                        account.name.as_str(),
                        account.role,
                        account.created_at,
                        account.disabled_at.as_deref().unwrap_or("-")
                    );
                }
            }
        }
        anyhow::Ok(())
    }
    .await;
    database.close().await;
    result
}

async fn token(database_url: &str, command: TokenCommand) -> anyhow::Result<()> {
    let database = startup::connect(database_url).await?;
    let tokens = Tokens::new(database.clone(), Arc::new(SystemClock));
    let result = match command {
        TokenCommand::Create { role, name } => {
            let issued = tokens
                .create(&name, role)
                .await
                .context("creating the token")?;
            println!(
                "created {role} token {} for {}; it is shown only this once:",
                issued.token.id, issued.token.name
            );
            println!("{}", issued.secret);
            Ok(())
        }
        TokenCommand::List => {
            let list = tokens.list().await.context("listing tokens")?;
            println!(
                "{:<36}  {:<24}  {:<11}  {:<27}  revoked",
                "id", "name", "role", "created"
            );
            for token in list {
                println!(
                    "{:<36}  {:<24}  {:<11}  {:<27}  {}",
                    token.id,
                    token.name,
                    token.role,
                    token.created_at,
                    token.revoked_at.as_deref().unwrap_or("-")
                );
            }
            Ok(())
        }
        TokenCommand::Revoke { name_or_id } => match tokens.revoke(&name_or_id).await {
            Ok(count) => {
                println!("revoked {count} token(s) matching {name_or_id}");
                Ok(())
            }
            Err(error) => Err(anyhow::Error::new(error)),
        },
    };
    database.close().await;
    result
}

async fn show(
    database_url: &str,
    master_key_file: &std::path::Path,
    id: Uuid,
    as_of: Option<Timestamp>,
) -> anyhow::Result<()> {
    let database = startup::connect(database_url).await?;
    let master_key = startup::read_master_key(master_key_file)?;
    let app = App::new(
        &database,
        &master_key,
        Policy::default(),
        Arc::new(SystemClock),
    );
    let complaint = match app.engine.complaint(id, as_of).await {
        Ok(complaint) => complaint,
        Err(obliged_storage::EngineError::NotFound(_)) => match as_of {
            Some(as_of) => bail!("complaint {id} did not exist as of {as_of}"),
            None => bail!("complaint {id} not found"),
        },
        Err(error) => return Err(error).context("reading the complaint"),
    };
    let history = app
        .engine
        .history(id, Disclosure::Full)
        .await
        .context("reading the history")?;
    database.close().await;

    print!("{}", render_timeline(id, &complaint, &history, as_of));
    Ok(())
}

async fn verify(database_url: &str) -> anyhow::Result<()> {
    let database = startup::connect(database_url).await?;
    let ledger = Ledger::new(database.clone(), Arc::new(SystemClock));
    while ledger
        .sequence(SEQUENCE_BATCH)
        .await
        .context("sequencing pending events")?
        > 0
    {}
    let verification = ledger.verify().await.context("verifying the ledger")?;
    database.close().await;
    match verification {
        Verification::Verified {
            entries,
            head,
            unsequenced,
        } => {
            println!("all {entries} ledger entries verify; head hash {head}");
            if unsequenced > 0 {
                println!("{unsequenced} event(s) are committed but not yet sequenced");
            }
            Ok(())
        }
        Verification::Broken { position, problem } => {
            bail!("ledger broken at position {position}: {problem}")
        }
    }
}

async fn projections(database_url: &str, command: ProjectionsCommand) -> anyhow::Result<()> {
    let database = startup::connect(database_url).await?;
    let ledger = Arc::new(Ledger::new(database.clone(), Arc::new(SystemClock)));
    let projector = Projector::new(ledger.clone(), Arc::new(SystemClock));
    let result = match command {
        ProjectionsCommand::Rebuild { name } => {
            if let Some(name) = name.filter(|name| !Projector::names().contains(&name.as_str())) {
                bail!(
                    "unknown projector {name:?}; the projectors are: {}",
                    Projector::names().join(", ")
                );
            }
            while ledger.sequence(SEQUENCE_BATCH).await? > 0 {}
            let position = projector.rebuild().await.context("rebuilding")?;
            println!(
                "rebuilt {} up to ledger position {position}",
                Projector::names().join(", ")
            );
            Ok(())
        }
        ProjectionsCommand::Status => {
            let head = ledger.head_position().await?;
            let position = projector.checkpoint().await?;
            println!("ledger head {head}");
            for name in Projector::names() {
                println!(
                    "{name:<12} position {position:<10} lag {}",
                    head.saturating_sub(position)
                );
            }
            Ok(())
        }
    };
    database.close().await;
    result
}

async fn clock(
    database_url: &str,
    master_key_file: &std::path::Path,
    policy: &str,
    command: ClockCommand,
) -> anyhow::Result<()> {
    let policy = crate::policy::load(policy)?;
    let database = startup::connect(database_url).await?;
    let master_key = startup::read_master_key(master_key_file)?;
    let now = match &command {
        ClockCommand::Tick { now, .. } | ClockCommand::Due { now, .. } => *now,
    };
    let clock: Arc<dyn obliged_domain::Clock> = match now {
        Some(at) => Arc::new(obliged_domain::FixedClock::new(at)),
        None => Arc::new(SystemClock),
    };
    let app = App::new(&database, &master_key, policy, clock);
    let scheduler = Scheduler::new(
        app.engine.clone(),
        app.projector.clone(),
        app.read_models.clone(),
    );
    let result = match command {
        ClockCommand::Tick { json, .. } => {
            while app.ledger.sequence(SEQUENCE_BATCH).await? > 0 {}
            let tick = scheduler
                .tick()
                .await
                .context("ticking the promise clock")?;
            if json {
                println!("{}", serde_json::to_string_pretty(&tick)?);
            } else {
                for reached in &tick.reached {
                    println!(
                        "reached {} rung {} of complaint {} (due {}, position {})",
                        reached.subject,
                        reached.rung,
                        reached.complaint_id,
                        reached.due_at,
                        reached
                            .position
                            .map_or_else(|| "pending".to_owned(), |p| p.to_string())
                    );
                }
                println!(
                    "{} rung(s) reached, {} skipped (reached elsewhere or settled), {} failed, at {}",
                    tick.reached.len(),
                    tick.skipped,
                    tick.failed,
                    tick.now.map_or_else(String::new, |now| now.to_string())
                );
            }
            if tick.failed > 0 {
                bail!(
                    "{} rung(s) failed; see the log, the next tick retries them",
                    tick.failed
                );
            }
            Ok(())
        }
        ClockCommand::Due { limit, .. } => {
            let now = app.engine.now();
            let due = scheduler.due(now, limit).await?;
            println!("{:<36}  {:<50}  {:>4}  due", "complaint", "subject", "rung");
            for row in &due {
                println!(
                    "{:<36}  {:<50}  {:>4}  {}",
                    row.complaint_id, row.subject, row.rung, row.due_at
                );
            }
            println!("{} rung(s) due at {now}", due.len());
            Ok(())
        }
    };
    database.close().await;
    result
}

async fn webhook(
    database_url: &str,
    master_key_file: &std::path::Path,
    webhook_settings: WebhookSettings,
    command: WebhookCommand,
) -> anyhow::Result<()> {
    // Signing secrets are stored sealed under the master key: the server's own key, created
    // here as `serve` would create it when this installation has none yet.
    let master_key = startup::load_master_key(master_key_file)?;
    let database = startup::connect(database_url).await?;
    let app = App::with_webhook_settings(
        &database,
        &master_key,
        Policy::default(),
        Arc::new(SystemClock),
        webhook_settings,
    )
    .context("the webhook settings")?;
    let webhooks = &app.webhooks;
    let result: anyhow::Result<()> = async {
        match command {
            WebhookCommand::Add {
                url,
                event_types,
                max_attempts,
                from_beginning,
                from,
            } => {
                let start = match (from_beginning, from) {
                    (true, _) => Start::Beginning,
                    (false, Some(position)) => Start::At(position),
                    (false, None) => Start::Next,
                };
                let created = webhooks
                    .subscribe(NewSubscription {
                        url,
                        event_types,
                        secret: None,
                        max_attempts,
                        start,
                        owner: None,
                    })
                    .await?;
                println!(
                    "subscribed {} to {}; its signing secret is shown only this once:",
                    created.subscription.id, created.subscription.url
                );
                println!("{}", created.secret.expose());
            }
            WebhookCommand::List => {
                println!(
                    "{:<36}  {:<16}  {:>8}  {:>6}  {:>8}  {:>4}  url / last error",
                    "id", "made by", "position", "lag", "attempts", "dead"
                );
                for status in webhooks.list().await? {
                    println!(
                        "{:<36}  {:<16}  {:>8}  {:>6}  {:>8}  {:>4}  {}{}{}",
                        status.subscription.id,
                        status
                            .subscription
                            .owner
                            .as_ref()
                            .map_or("(operator)", |owner| owner.name.as_str()),
                        status.position,
                        status.lag,
                        status.attempts,
                        status.dead_letters,
                        status.subscription.url,
                        match (&status.subscription.removed_at, &status.stopped) {
                            (Some(_), _) => " (removed)".to_owned(),
                            (None, Some(stopped)) => format!(" (stopped: {stopped})"),
                            (None, None) => String::new(),
                        },
                        status
                            .last_error
                            .as_deref()
                            .map(|error| format!(" / {error}"))
                            .unwrap_or_default(),
                    );
                }
            }
            WebhookCommand::Remove { id } => {
                let removed = webhooks.remove(id).await?;
                println!(
                    "{}",
                    if removed {
                        "removed"
                    } else {
                        "was already removed"
                    }
                );
            }
            WebhookCommand::Redeliver { id, from } => {
                webhooks.redeliver_from(id, from).await?;
                println!("{id} will deliver again from position {from}");
            }
            WebhookCommand::DeadLetters { id } => {
                for letter in webhooks.dead_letters(id).await? {
                    println!("{}", serde_json::to_string(&letter)?);
                }
            }
        }
        Ok(())
    }
    .await;
    database.close().await;
    result
}

/// A complaint as a person reads it: a header with the state, then one block per event.
pub fn render_timeline(
    id: Uuid,
    complaint: &obliged_domain::Complaint,
    history: &[obliged_storage::RecordedEvent],
    as_of: Option<Timestamp>,
) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let owner = complaint
        .owner
        .as_ref()
        .map_or("nobody yet".to_owned(), ToString::to_string);
    let _ = writeln!(out, "complaint {id}");
    if let Some(as_of) = as_of {
        let _ = writeln!(out, "  as of      {as_of}");
    }
    let _ = writeln!(out, "  status     {}", complaint.status.as_str());
    let _ = writeln!(out, "  owner      {owner}");
    let open = complaint.open_promise_ids();
    let _ = writeln!(
        out,
        "  open promises {}, unmet obligations {}, open follow-ups {}",
        open.len(),
        complaint.unmet_obligation_nos().len(),
        complaint.open_follow_up_ids().len()
    );
    let _ = writeln!(out);
    for event in history {
        let recorded = event.recorded_at.as_deref().unwrap_or("?");
        if let (Some(as_of), Ok(at)) = (as_of, recorded.parse::<Timestamp>()) {
            if at > as_of {
                break;
            }
        }
        let _ = writeln!(
            out,
            "#{:<4} {recorded}  {:<28} by {}",
            event.sequence,
            event.event_type,
            event.actor.as_deref().unwrap_or("?")
        );
        if let serde_json::Value::Object(fields) = &event.payload[&event.event_type] {
            for (name, value) in fields {
                if value.is_null() {
                    continue;
                }
                let shown = match value {
                    serde_json::Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                let _ = writeln!(out, "        {name}: {shown}");
            }
        }
    }
    out
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Promises kept, late, broken, renegotiated and withdrawn; obligations; time to acknowledge
    /// and to resolve; repeat contacts, hand-backs, escalations, reopenings and regulatory
    /// buckets, per owner, team, promise kind, channel, category and period, as of --to. Uses
    /// the calendar and teams of --policy.
    Accountability(AccountabilityArgs),
}

#[derive(Debug, Args)]
pub struct AccountabilityArgs {
    /// Start of the range (inclusive), RFC 3339.
    #[arg(long, value_name = "TIMESTAMP")]
    pub from: Timestamp,
    /// End of the range (exclusive), RFC 3339: the report shows the state as of this moment.
    #[arg(long, value_name = "TIMESTAMP")]
    pub to: Timestamp,
    /// Comma-separated dimensions: owner, team, kind, channel, category, period (none: the
    /// total only).
    #[arg(long, value_name = "DIMENSIONS", default_value = "")]
    pub group_by: String,
    /// Period length: week (ISO weeks) or month, in the calendar's time zone.
    #[arg(long, value_name = "week|month", default_value = "month", value_parser = parse_period)]
    pub period: obliged_domain::Period,
    /// json (every figure with its evidence), csv (one row per group) or svg (a chart of the
    /// kept-on-time rate per owner, or per team when grouped by team).
    #[arg(long, value_name = "json|csv|svg", default_value = "json", value_parser = parse_format)]
    pub format: ReportFormat,
    /// Leave each figure's evidence out of the JSON.
    #[arg(long)]
    pub no_evidence: bool,
    /// Write the report to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

fn parse_period(raw: &str) -> Result<obliged_domain::Period, String> {
    obliged_domain::Period::parse(raw).map_err(|error| error.to_string())
}

fn parse_format(raw: &str) -> Result<ReportFormat, String> {
    ReportFormat::parse(raw).ok_or_else(|| format!("unknown format {raw:?}; use json, csv or svg"))
}

async fn report(database_url: &str, policy: &str, command: ReportCommand) -> anyhow::Result<()> {
    let ReportCommand::Accountability(args) = command;
    let policy = crate::policy::load(policy)?;
    let group_by = obliged_domain::Dimension::parse_list(&args.group_by).context("--group-by")?;
    let params = obliged_domain::ReportParams::new(args.from, args.to, group_by, args.period)
        .context("the report parameters")?;
    let params = args
        .format
        .params(params)
        .context("the report parameters")?;
    let database = startup::connect(database_url).await?;
    let ledger = Ledger::new(database.clone(), Arc::new(SystemClock));
    let report = async {
        while ledger
            .sequence(SEQUENCE_BATCH)
            .await
            .context("sequencing pending events")?
            > 0
        {}
        obliged_projections::accountability_report(&ledger, &policy, params)
            .await
            .context("reading the ledger")
    }
    .await;
    database.close().await;
    let text = args.format.render(&report?, !args.no_evidence);
    match args.output {
        Some(path) => std::fs::write(&path, text)
            .with_context(|| format!("writing the report to {}", path.display())),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}
