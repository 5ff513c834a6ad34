//! The OpenAPI document of the API, derived from the code: every route is registered once, with
//! its `#[utoipa::path]` description, through [`routes`]; the router and the document are the two
//! halves of that one registration ([`utoipa_axum::router::OpenApiRouter::split_for_parts`]).
//!
//! Request bodies are described by the very types that decode them: the commands and values of
//! `obliged-domain` (their `ToSchema`, behind its `openapi` feature, sits next to the validation
//! it describes, so a new command, field or pattern shows up here by itself) and the body types of
//! this crate. Responses built from the storage and webhook crates' types are described here by
//! schema-only mirrors (those crates stay free of utoipa); the contract test (`tests/contract`)
//! checks them against live responses.
//!
//! What holds for every route is added in one place, [`CommonResponses`]: the 408 of the request
//! deadline, and for routes behind a bearer token the 401, 403 and 503 of authentication.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use obliged_domain::{ComplaintCommand, ComplaintError, PlainText};
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::{Response as DocResponse, ResponseBuilder};
use utoipa::openapi::schema::{AdditionalProperties, Discriminator, OneOfBuilder, Schema};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, RefOr};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

/// The document's frame: title, description, security scheme and the shared schemas. The paths
/// come from [`routes`].
#[derive(OpenApi)]
#[openapi(
    info(
        title = "obliged",
        description = "Complaint resolution engine: listening obliges action. Every call but \
            /healthz and /api/openapi.json needs `Authorization: Bearer <token>`. Request bodies \
            are JSON sent as `Content-Type: application/json` (415 otherwise), at most 1 MiB \
            (413). A request head must arrive within 10 s (the connection is closed otherwise) \
            and a request, body included, be answered within 30 s (408; a command already \
            accepted still completes, so retry with the same Idempotency-Key). A path asked with \
            a method it does not answer gets 405. Errors are RFC 9457 problems whose `type` is a \
            stable slug."
    ),
    security(("bearer" = [])),
    modifiers(&Frame, &CommonResponses),
    components(schemas(crate::error::Problem))
)]
struct ApiDoc;

/// Every route of the API with its description. The router serves exactly these routes.
pub(crate) fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(crate::health))
        .routes(routes!(crate::openapi_json))
        .routes(routes!(crate::file_complaint, crate::reads::list))
        .routes(routes!(crate::show_complaint))
        .routes(routes!(crate::run_command))
        .routes(routes!(crate::history))
        .routes(routes!(crate::reads::queue))
        .routes(routes!(crate::reads::counters))
        .routes(routes!(crate::reads::projections))
        .routes(routes!(crate::reports::accountability))
        .routes(routes!(crate::feed::page))
        .routes(routes!(crate::feed::stream))
        .routes(routes!(crate::webhooks::subscribe, crate::webhooks::list))
        .routes(routes!(crate::webhooks::show, crate::webhooks::remove))
        .routes(routes!(crate::webhooks::redeliver))
        .routes(routes!(crate::webhooks::dead_letters))
}

/// The document as served at `/api/openapi.json`.
pub fn document() -> Document {
    let (_, mut document) = routes().split_for_parts();
    // Modifiers of `ApiDoc` ran before the routes were added: the per-route additions run now.
    CommonResponses.modify(&mut document);
    document
}

/// [`document`] as JSON text, built once.
pub(crate) static DOCUMENT_JSON: LazyLock<String> = LazyLock::new(|| {
    document()
        .to_pretty_json()
        .expect("the OpenAPI document serializes")
});

/// The security scheme and the command schemas.
struct Frame;

impl Modify for Frame {
    fn modify(&self, document: &mut Document) {
        let components = document.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "an API token made with `obliged token create --role ROLE --name NAME`",
                    ))
                    .build(),
            ),
        );
        add_commands(&mut components.schemas);
    }
}

/// `Command`, the body of `POST /api/complaints/{id}/commands`: one schema per command, named
/// after its `type`, derived from `ComplaintCommand<PlainText>` (the type the body decodes to),
/// less `FileComplaint` (filed with `POST /api/complaints` and refused as a command). Each
/// command refuses fields it does not know, those without fields too (see `decode::command`).
fn add_commands(schemas: &mut BTreeMap<String, RefOr<Schema>>) {
    let mut referenced = Vec::new();
    <ComplaintCommand<PlainText> as ToSchema>::schemas(&mut referenced);
    for (name, schema) in referenced {
        schemas.entry(name).or_insert(schema);
    }
    let RefOr::T(Schema::OneOf(variants)) = <ComplaintCommand<PlainText>>::schema() else {
        panic!("a command is one of its variants");
    };
    let mut one_of = OneOfBuilder::new();
    for variant in variants.items {
        let RefOr::T(Schema::Object(mut object)) = variant else {
            panic!("every command is an object");
        };
        let name = object
            .properties
            .get("type")
            .and_then(|tag| match tag {
                RefOr::T(Schema::Object(tag)) => tag.enum_values.as_ref()?.first()?.as_str(),
                _ => None,
            })
            .expect("every command has its name as `type`")
            .to_owned();
        if name == "FileComplaint" {
            continue;
        }
        object.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
        object.title = Some(name.clone());
        schemas.insert(name.clone(), Schema::Object(object).into());
        one_of = one_of.item(Ref::from_schema_name(name));
    }
    let one_of = one_of
        .discriminator(Some(Discriminator::new("type")))
        .description(Some(
            "one command, named by `type`; a rule of the complaint may refuse it (422)",
        ));
    schemas.insert("Command".to_owned(), one_of.into());
}

/// Responses that every route can give, added to each operation: 408 (the request deadline) and,
/// for routes behind a bearer token, 401 (no or unknown token), 403 (role not allowed) and 503
/// (the token cannot be checked while the database is unreachable).
struct CommonResponses;

impl Modify for CommonResponses {
    fn modify(&self, document: &mut Document) {
        for item in document.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                add_common_responses(operation);
            }
        }
    }
}

fn add_common_responses(operation: &mut Operation) {
    // An operation without its own `security` needs the document's bearer token.
    let authenticated = operation.security.is_none();
    let mut add = |status: &str, response: DocResponse| {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| response.into());
    };
    add(
        "408",
        problem("request-timeout: the request was not received and answered within 30 s"),
    );
    if authenticated {
        add(
            "401",
            ResponseBuilder::from(problem("unauthorized: no bearer token, or not a valid one"))
                .header(
                    "WWW-Authenticate",
                    utoipa::openapi::header::HeaderBuilder::new()
                        .schema(String::schema())
                        .description(Some("Bearer"))
                        .build(),
                )
                .build(),
        );
        add(
            "403",
            problem("forbidden: the token's role may not do this"),
        );
        add(
            "503",
            ResponseBuilder::from(problem(
                "unavailable: the database cannot be reached; retry after Retry-After seconds",
            ))
            .header("Retry-After", retry_after())
            .build(),
        );
    }
}

/// The `Retry-After` header of a 409 or 503.
pub(crate) fn retry_after() -> utoipa::openapi::header::Header {
    utoipa::openapi::header::HeaderBuilder::new()
        .schema(i64::schema())
        .description(Some("seconds to wait before retrying"))
        .build()
}

/// A problem response described by `description` (which names its slugs).
pub(crate) fn problem(description: &str) -> DocResponse {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
}

/// The body of `POST /api/complaints/{id}/commands`: the `Command` schema.
pub(crate) struct CommandBody;

impl PartialSchema for CommandBody {
    fn schema() -> RefOr<Schema> {
        Ref::from_schema_name("Command").into()
    }
}

impl ToSchema for CommandBody {}

/// The problem of a refused command: a [`Problem`](crate::Problem) whose `type` is the slug of
/// a rule of the complaint (`ComplaintError::SLUGS`) or `idempotency-key-reused`.
pub(crate) struct CommandRefusal;

impl PartialSchema for CommandRefusal {
    fn schema() -> RefOr<Schema> {
        let slugs: Vec<&str> = ComplaintError::SLUGS
            .iter()
            .copied()
            .filter(|slug| *slug != "complaint-not-found")
            .chain(["idempotency-key-reused"])
            .collect();
        utoipa::openapi::schema::AllOfBuilder::new()
            .item(Ref::from_schema_name("Problem"))
            .item(
                utoipa::openapi::ObjectBuilder::new().property(
                    "type",
                    utoipa::openapi::ObjectBuilder::new()
                        .schema_type(utoipa::openapi::Type::String)
                        .enum_values(Some(slugs)),
                ),
            )
            .into()
    }
}

impl ToSchema for CommandRefusal {}

// Schema-only mirrors of response bodies that the handlers build from other crates' types (see
// the module's documentation). Field names and types follow what those types serialize to.

/// A complaint's state (`view::complaint`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct ComplaintState {
    id: uuid::Uuid,
    /// The moment asked for with `as_of`; null for the current state.
    as_of: Option<jiff::Timestamp>,
    #[schema(schema_with = complaint_status)]
    status: String,
    customer_reference: Option<obliged_domain::CustomerReference>,
    channel: Option<obliged_domain::Channel>,
    category: Option<obliged_domain::Category>,
    filed_at: Option<jiff::Timestamp>,
    /// Null until someone (or a team queue) is made accountable.
    owner: Option<obliged_domain::Owner>,
    triage_due_at: Option<jiff::Timestamp>,
    pending_handover: Option<HandoverView>,
    /// How many contacts were logged.
    contacts: u32,
    /// Responses owed to the customer's requests, not yet given.
    open_obligations: Vec<ObligationView>,
    open_promises: Vec<PromiseView>,
    promises: Vec<PromiseView>,
    follow_ups: Vec<FollowUpView>,
    escalations: Vec<obliged_domain::EscalationTarget>,
    conduct_incidents: u32,
    hand_backs: u32,
    flags: FlagsView,
    /// Null until a resolution is proposed.
    resolution: Option<ResolutionView>,
    /// The regime of the complaint's deadlines, once set.
    regime: Option<obliged_domain::Regime>,
    /// Regulatory deadlines.
    deadlines: Vec<DeadlineView>,
    /// Set while the deadline clock is paused.
    clock_paused_at: Option<jiff::Timestamp>,
    /// The next ladder rung of everything owed, soonest first.
    next_rungs: Vec<NextRungView>,
}

/// A string that is one of `values`.
pub(crate) fn string_enum(values: &[&str]) -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(values.iter().copied()))
        .build()
}

/// A complaint's status as the API shows it and filters on it.
pub(crate) fn complaint_status() -> utoipa::openapi::Object {
    string_enum(&crate::reads::COMPLAINT_STATUSES)
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct HandoverView {
    from: obliged_domain::Owner,
    to: obliged_domain::Owner,
    offered_at: jiff::Timestamp,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct ObligationView {
    obligation_no: u32,
    /// The contact that asked.
    contact_no: u32,
    due_at: jiff::Timestamp,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct PromiseView {
    promise_id: uuid::Uuid,
    kind: obliged_domain::PromiseKind,
    promiser: String,
    due_at: jiff::Timestamp,
    #[schema(schema_with = promise_status)]
    status: String,
    /// Set once kept.
    kept_on_time: Option<bool>,
    /// Still owed (pending or broken).
    open: bool,
    /// The rungs whose reminders were recorded.
    reminders: Vec<u32>,
}

fn promise_status() -> utoipa::openapi::Object {
    string_enum(&["pending", "broken", "kept", "withdrawn"])
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct FollowUpView {
    follow_up_id: uuid::Uuid,
    owner: String,
    due_at: jiff::Timestamp,
    /// `"Open"`, or `{"Completed": {"on_time": BOOL}}`.
    status: serde_json::Value,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct FlagsView {
    /// Why the case needs a human touch; null if it does not.
    sensitive: Option<obliged_domain::SensitiveReason>,
    non_negotiable: Vec<NonNegotiableView>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct NonNegotiableView {
    element: obliged_domain::ElementName,
    explanation: String,
    referral: String,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct ResolutionView {
    #[schema(schema_with = resolution_state)]
    state: String,
    proposal_no: u32,
}

fn resolution_state() -> utoipa::openapi::Object {
    string_enum(&["proposed", "accepted", "rejected"])
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct DeadlineView {
    deadline: obliged_domain::DeadlineKind,
    due_at: jiff::Timestamp,
    extended: bool,
    met: bool,
    /// Null until met.
    met_on_time: Option<bool>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct NextRungView {
    subject: obliged_domain::Subject,
    rung: u32,
    name: String,
    due_at: jiff::Timestamp,
}

/// A complaint's history (`Engine::history`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct History {
    id: uuid::Uuid,
    events: Vec<RecordedEvent>,
}

/// One event of a history.
#[derive(ToSchema)]
#[allow(dead_code)]
struct RecordedEvent {
    sequence: u64,
    #[schema(rename = "type")]
    event_type: String,
    version: String,
    event_id: Option<String>,
    command_id: Option<String>,
    correlation_id: Option<String>,
    actor: Option<String>,
    recorded_at: Option<String>,
    /// The event's fields; personal data opened, or `[erased]` after erasure.
    #[schema(value_type = Object)]
    payload: serde_json::Value,
}

/// A page of the ledger.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct EventsPage {
    events: Vec<LedgerEntry>,
    /// The position to pass as `after` for the next page.
    next_after: u64,
    /// The ledger's last position.
    head: u64,
}

/// A ledger entry as integrations see it (`obliged_storage::entry_json`).
#[derive(ToSchema)]
#[allow(dead_code)]
struct LedgerEntry {
    position: u64,
    complaint_id: String,
    sequence: u64,
    #[schema(rename = "type")]
    event_type: String,
    version: String,
    recorded_at: Option<String>,
    #[schema(value_type = Object)]
    metadata: serde_json::Value,
    /// The event's fields; personal data reads `[sealed]` for the integration role.
    #[schema(value_type = Object)]
    payload: serde_json::Value,
    /// SHA-256 chaining the previous entry.
    hash: String,
}

/// A page of the complaint list.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct ComplaintList {
    complaints: Vec<ComplaintListItem>,
    limit: u32,
    offset: u32,
    /// The ledger position the read models include.
    position: u64,
}

/// One line of the complaint list (`obliged_storage::ComplaintListItem`).
#[derive(ToSchema)]
#[allow(dead_code)]
struct ComplaintListItem {
    id: String,
    status: String,
    owner: Option<String>,
    channel: Option<String>,
    category: Option<String>,
    customer_reference: Option<String>,
    filed_at: Option<jiff::Timestamp>,
    sensitive: bool,
    non_negotiable: bool,
    escalations: Vec<String>,
    next_due_at: Option<jiff::Timestamp>,
    overdue: bool,
    open_promises: i64,
    open_obligations: i64,
    open_follow_ups: i64,
    /// The ledger position this line reflects.
    position: i64,
}

/// An owner's work queue.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct Queue {
    owner: String,
    items: Vec<QueueItem>,
    position: u64,
}

/// One thing an owner has to do (`obliged_storage::QueueItem`).
#[derive(ToSchema)]
#[allow(dead_code)]
struct QueueItem {
    complaint_id: String,
    /// `obligation`, `promise`, `follow-up`, `triage`, `handover` (an offer waiting for this
    /// owner) or `deadline` (a regulatory deadline of a complaint this owner owns).
    kind: String,
    item_id: String,
    due_at: jiff::Timestamp,
    overdue: bool,
}

/// The owners' counters.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct Counters {
    owners: Vec<OwnerCounters>,
    position: u64,
}

/// One owner's counters (`obliged_storage::OwnerCounters`).
#[derive(ToSchema)]
#[allow(dead_code)]
struct OwnerCounters {
    owner: String,
    open_complaints: i64,
    open_promises: i64,
    promises_kept_on_time: i64,
    promises_kept_late: i64,
    promises_broken: i64,
    promises_withdrawn: i64,
}

/// The ledger head and the consumers' positions.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct Consumers {
    head: u64,
    consumers: Vec<Consumer>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct Consumer {
    name: String,
    /// `projector` or `publisher`.
    kind: String,
    position: u64,
    lag: u64,
}

/// A webhook subscription (`obliged_webhooks::Subscription`).
#[derive(ToSchema)]
#[allow(dead_code)]
struct Subscription {
    id: uuid::Uuid,
    url: String,
    /// Empty means every event type.
    event_types: Vec<String>,
    max_attempts: u32,
    created_at: jiff::Timestamp,
    /// Set once the subscription is removed; nothing is delivered after that.
    removed_at: Option<jiff::Timestamp>,
    /// The token that made it; null for the operator's (made on the command line).
    owner: Option<SubscriptionOwner>,
}

/// Who made a subscription (`obliged_webhooks::SubscriptionOwner`).
#[derive(ToSchema)]
#[allow(dead_code)]
struct SubscriptionOwner {
    token_id: uuid::Uuid,
    name: String,
}

/// A subscription with its delivery status (`obliged_webhooks::SubscriptionStatus`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct SubscriptionStatus {
    id: uuid::Uuid,
    url: String,
    event_types: Vec<String>,
    max_attempts: u32,
    created_at: jiff::Timestamp,
    removed_at: Option<jiff::Timestamp>,
    owner: Option<SubscriptionOwner>,
    /// The last ledger position this subscription is done with.
    position: u64,
    head: u64,
    lag: u64,
    /// Failed attempts on the entry after `position`.
    attempts: u32,
    next_attempt_at: Option<jiff::Timestamp>,
    last_error: Option<String>,
    last_error_at: Option<jiff::Timestamp>,
    last_delivered_at: Option<jiff::Timestamp>,
    dead_letters: u64,
    claimed_until: Option<jiff::Timestamp>,
    /// Why nothing is delivered although it is not removed: its token was revoked.
    stopped: Option<String>,
}

/// A new subscription and its secret, shown this once.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct SubscriptionCreated {
    subscription: Subscription,
    secret: String,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct Subscriptions {
    subscriptions: Vec<SubscriptionStatus>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct Removed {
    /// False when it had been removed before.
    removed: bool,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct DeadLetters {
    dead_letters: Vec<DeadLetter>,
}

/// An entry given up on (`obliged_webhooks::DeadLetter`).
#[derive(ToSchema)]
#[allow(dead_code)]
struct DeadLetter {
    id: i64,
    subscription_id: uuid::Uuid,
    position: u64,
    event_type: String,
    attempts: u32,
    last_error: String,
    dead_lettered_at: jiff::Timestamp,
}

/// The accountability report as JSON (`obliged_projections::formats::json_report`).
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct ReportBody {
    #[schema(schema_with = report_name)]
    report: String,
    from: jiff::Timestamp,
    to: jiff::Timestamp,
    group_by: Vec<String>,
    period: String,
    time_zone: String,
    periods: Vec<String>,
    /// The last ledger position the report read.
    through_position: u64,
    groups: Vec<ReportGroup>,
    total: ReportGroup,
}

fn report_name() -> utoipa::openapi::Object {
    string_enum(&["accountability"])
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct ReportGroup {
    /// Dimension to value; empty for the total.
    key: BTreeMap<String, String>,
    /// Figure name (`promises_made`, `kept_on_time_rate`, ...; the README lists them) to figure.
    figures: BTreeMap<String, ReportFigure>,
}

/// A count `{value}`, a rate `{value (null when the denominator is 0), numerator,
/// denominator}` or durations `{count, median_seconds, p90_seconds}`; each with evidence unless
/// `evidence=false`.
#[derive(ToSchema)]
#[allow(dead_code)]
struct ReportFigure {
    value: Option<f64>,
    numerator: Option<u64>,
    denominator: Option<u64>,
    count: Option<u64>,
    median_seconds: Option<i64>,
    p90_seconds: Option<i64>,
    evidence: Option<Vec<ReportEvidence>>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
struct ReportEvidence {
    complaint_id: uuid::Uuid,
    promise_id: Option<uuid::Uuid>,
    obligation_no: Option<u32>,
    /// Ledger positions of the events that made the item count.
    positions: Vec<u64>,
    /// How the item counted: a rate's outcome, an escalation's target and reason, a hand-back's
    /// reason.
    detail: Option<String>,
    /// For durations.
    business_seconds: Option<i64>,
}

/// One Server-Sent Event of `/api/events/stream`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct StreamEvent {
    /// The entry's ledger position: send it back as Last-Event-ID to resume after it.
    #[schema(pattern = "^[0-9]+$")]
    id: String,
    /// The event's type, such as `ComplaintFiled`.
    event: String,
    /// The ledger entry as JSON text, as in `/api/events`.
    #[schema(schema_with = entry_text)]
    data: String,
}

fn entry_text() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .content_media_type("application/json")
        .description(Some("a LedgerEntry as JSON text"))
        .build()
}
