//! One complaint on one screen: its header, its whole history as a timeline, what is owed and
//! by when, and a form for every command the person may run; and the form that files a new
//! complaint.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use obliged_domain::{
    Complaint, ComplaintCommand, FollowUpStatus, Owner, PlainText, PromiseStatus, Status, Subject,
};
use obliged_storage::{CommandRequest, Disclosure, EngineError, RecordedEvent};
use serde_json::Value;
use uuid::Uuid;

use crate::forms::{self, FormError, Group, Input, Spec, SPECS};
use crate::i18n::Tr;
use crate::lists::{short_id, unavailable, Choice};
use crate::session::{Can, Staff};
use crate::view::{self, Chrome, Section, When};
use crate::ConsoleState;

/// What the page shows of the customer (personal data, opened for staff).
pub struct CustomerView {
    pub reference: String,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub erased: bool,
}

pub struct DeadlineView {
    pub label: String,
    pub when: When,
    pub state: String,
    pub met: bool,
}

pub struct RungView {
    pub name: String,
    pub when: When,
    pub reached: bool,
}

/// Something owed: a promise, a follow-up or an obligation to respond.
pub struct OwedView {
    pub kind: &'static str,
    pub id: String,
    pub anchor: String,
    pub title: String,
    pub text: String,
    pub who: String,
    pub when: When,
    pub state: String,
    pub broken: bool,
    pub rungs: Vec<RungView>,
}

pub struct EventView {
    pub sequence: u64,
    pub event_type: String,
    pub name: String,
    pub actor: String,
    pub when: String,
    pub iso: String,
    pub details: Vec<(String, String)>,
    pub erased: bool,
}

/// The complaint as the page shows it.
pub struct ComplaintView {
    pub id: String,
    pub short: String,
    pub status_slug: String,
    pub status: String,
    pub owner: String,
    pub handover: Option<String>,
    pub customer: CustomerView,
    pub category: String,
    pub channel: String,
    pub filed: String,
    pub flags: Vec<String>,
    pub non_negotiable: Vec<(String, String, String)>,
    pub next_due: Option<When>,
    pub deadlines: Vec<DeadlineView>,
    pub regime: Option<String>,
    pub paused: Option<String>,
    pub events: Vec<EventView>,
    pub owed: Vec<OwedView>,
    pub settled: usize,
}

/// The texts that tell the story, in the order they are shown.
const TEXT_FIELDS: &[&str] = &[
    "summary",
    "description",
    "note",
    "reason",
    "evidence",
    "outcome",
    "explanation",
    "referral",
    "notice",
    "comment",
    "override_reason",
];
/// Facts shown beside the story, each translated where it names a value of the domain.
const FACT_FIELDS: &[(&str, &[&str])] = &[
    ("direction", &["direction"]),
    ("channel", &["channel"]),
    ("kind", &["promise-kind", "conduct-kind"]),
    ("response", &["conduct-response"]),
    ("to", &["escalation-target"]),
    ("from", &[]),
    ("owner", &[]),
    ("category", &[]),
    ("due_at", &[]),
    ("previous_due_at", &[]),
    ("deadline", &["deadline-kind"]),
    ("regime", &["regime"]),
    ("element", &[]),
    ("accepted", &[]),
    ("request", &[]),
    ("concerns", &[]),
    ("rung", &[]),
];
const ERASED: &str = "[erased]";

fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        Value::Bool(_) | Value::Number(_) => Some(value.to_string()),
        other => Some(other.to_string()),
    }
}

pub(crate) fn event_view(t: &Tr, event: &RecordedEvent) -> EventView {
    let body = event
        .payload
        .as_object()
        .and_then(|outer| outer.values().next())
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut details = Vec::new();
    let mut erased = false;
    for (field, sets) in FACT_FIELDS {
        let Some(value) = body.get(*field).and_then(text_of) else {
            continue;
        };
        let shown = if field.ends_with("_at") {
            value
                .parse::<Timestamp>()
                .map(|at| t.datetime(at))
                .unwrap_or(value)
        } else if value == "true" || value == "false" {
            t.t(if value == "true" { "yes" } else { "no" })
        } else {
            sets.iter()
                .map(|set| t.value(set, &value))
                .find(|label| *label != value)
                .unwrap_or(value)
        };
        details.push((t.t(&format!("field-{field}")), shown));
    }
    if let Some(customer) = body.get("customer").and_then(Value::as_object) {
        for part in ["reference", "name", "email", "phone"] {
            if let Some(value) = customer.get(part).and_then(text_of) {
                erased |= value == ERASED;
                details.push((t.t(&format!("field-customer-{part}")), value));
            }
        }
    }
    for field in TEXT_FIELDS {
        let Some(value) = body.get(*field).and_then(text_of) else {
            continue;
        };
        // A reason may be one of the domain's values (hand-back, sensitive, escalation).
        let value = ["hand-back-reason", "sensitive-reason", "escalation-reason"]
            .iter()
            .map(|set| t.value(set, &value))
            .find(|label| *label != value)
            .unwrap_or(value);
        erased |= value == ERASED;
        details.push((t.t(&format!("field-{field}")), value));
    }
    for (_, value) in &mut details {
        if value == ERASED {
            *value = t.t("erased");
        }
    }
    let staff = body
        .get("staff")
        .or_else(|| body.get("filed_by"))
        .and_then(Value::as_str);
    let actor = event.actor.clone().or(staff.map(str::to_owned));
    let alias = body.get("alias").and_then(Value::as_str);
    let actor = match (alias, actor) {
        (Some(alias), Some(actor)) => t.ta(
            "event-actor-alias",
            &[("alias", alias.to_owned()), ("person", actor)],
        ),
        (_, Some(actor)) => actor,
        (Some(alias), None) => alias.to_owned(),
        (None, None) => t.t("actor-unknown"),
    };
    let recorded = event
        .recorded_at
        .as_deref()
        .and_then(|at| at.parse::<Timestamp>().ok());
    EventView {
        sequence: event.sequence,
        name: t.event(&event.event_type),
        event_type: event.event_type.clone(),
        actor,
        when: recorded.map(|at| t.datetime(at)).unwrap_or_default(),
        iso: recorded.map(|at| at.to_string()).unwrap_or_default(),
        details,
        erased,
    }
}

/// The opened text of each promise and follow-up, from the events that made them.
fn made_texts(events: &[RecordedEvent]) -> HashMap<String, String> {
    let mut texts = HashMap::new();
    for event in events {
        let Some(body) = event
            .payload
            .as_object()
            .and_then(|outer| outer.values().next())
            .and_then(Value::as_object)
        else {
            continue;
        };
        let id = body
            .get("promise_id")
            .or_else(|| body.get("follow_up_id"))
            .and_then(Value::as_str);
        if let (Some(id), Some(text)) = (id, body.get("description").and_then(Value::as_str)) {
            texts.insert(id.to_owned(), text.to_owned());
        }
    }
    texts
}

fn rungs(t: &Tr, complaint: &Complaint, subject: &Subject, now: Timestamp) -> Vec<RungView> {
    complaint
        .ladders
        .get(subject)
        .map(|ladder| {
            ladder
                .rungs
                .iter()
                .map(|rung| RungView {
                    name: rung.name.clone(),
                    when: When::new(t, rung.due_at, now),
                    reached: ladder.reached.contains(&rung.rung),
                })
                .collect()
        })
        .unwrap_or_default()
}

pub fn complaint_view(
    t: &Tr,
    id: Uuid,
    complaint: &Complaint,
    events: &[RecordedEvent],
    now: Timestamp,
) -> ComplaintView {
    let filed = events.first();
    let customer = filed
        .and_then(|event| event.payload.get("ComplaintFiled"))
        .and_then(|body| body.get("customer"));
    let part = |name: &str| {
        customer
            .and_then(|customer| customer.get(name))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let erased_name = part("name") == ERASED;
    let shown = |value: String| {
        if value == ERASED {
            t.t("erased")
        } else {
            value
        }
    };
    let customer = CustomerView {
        reference: part("reference"),
        name: shown(part("name")),
        email: shown(part("email")),
        phone: shown(part("phone")),
        erased: erased_name,
    };
    let texts = made_texts(events);
    let mut owed = Vec::new();
    let mut settled = 0;
    for (promise_id, promise) in &complaint.promises {
        if !promise.status.is_outstanding() {
            settled += 1;
            continue;
        }
        let id = promise_id.to_string();
        owed.push(OwedView {
            kind: "promise",
            anchor: format!("promise-{id}"),
            title: t.value("promise-kind", promise.kind.as_str()),
            text: texts.get(&id).cloned().unwrap_or_default(),
            who: promise.promiser.to_string(),
            when: When::new(t, promise.due_at, now),
            state: t.value(
                "promise-status",
                if promise.status == PromiseStatus::Broken {
                    "broken"
                } else {
                    "pending"
                },
            ),
            broken: promise.status == PromiseStatus::Broken,
            rungs: rungs(
                t,
                complaint,
                &Subject::Promise {
                    promise_id: *promise_id,
                },
                now,
            ),
            id,
        });
    }
    for (follow_up_id, follow_up) in &complaint.follow_ups {
        if follow_up.status != FollowUpStatus::Open {
            settled += 1;
            continue;
        }
        let id = follow_up_id.to_string();
        owed.push(OwedView {
            kind: "follow-up",
            anchor: format!("follow-up-{id}"),
            title: t.value("work-kind", "follow-up"),
            text: texts.get(&id).cloned().unwrap_or_default(),
            who: follow_up.owner.to_string(),
            when: When::new(t, follow_up.due_at, now),
            state: t.value("follow-up-status", "open"),
            broken: false,
            rungs: rungs(
                t,
                complaint,
                &Subject::FollowUp {
                    follow_up_id: *follow_up_id,
                },
                now,
            ),
            id,
        });
    }
    for (number, obligation) in &complaint.obligations {
        if obligation.discharged.is_some() {
            settled += 1;
            continue;
        }
        owed.push(OwedView {
            kind: "obligation",
            anchor: format!("obligation-{number}"),
            id: number.to_string(),
            title: t.value("work-kind", "obligation"),
            text: t.t1(
                "obligation-text",
                "contact",
                &obligation.contact_no.to_string(),
            ),
            who: complaint
                .owner
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_else(|| t.t("unassigned")),
            when: When::new(t, obligation.due_at, now),
            state: String::new(),
            broken: false,
            rungs: rungs(
                t,
                complaint,
                &Subject::Obligation {
                    obligation_no: *number,
                },
                now,
            ),
        });
    }
    owed.sort_by(|a, b| a.when.iso.cmp(&b.when.iso));
    let deadlines: Vec<DeadlineView> = complaint
        .deadlines
        .iter()
        .map(|(kind, deadline)| DeadlineView {
            label: t.value("deadline-kind", kind.as_str()),
            when: When::new(t, deadline.due_at, now),
            state: match deadline.met {
                Some(true) => t.t("deadline-met"),
                Some(false) => t.t("deadline-met-late"),
                None if deadline.extended => t.t("deadline-extended"),
                None => String::new(),
            },
            met: deadline.met.is_some(),
        })
        .collect();
    let next_due = owed
        .iter()
        .map(|item| item.when.iso.clone())
        .chain(
            complaint
                .deadlines
                .values()
                .filter(|deadline| deadline.met.is_none())
                .map(|deadline| deadline.due_at.to_string()),
        )
        .filter_map(|iso| iso.parse::<Timestamp>().ok())
        .min()
        .filter(|_| !matches!(complaint.status, Status::Closed))
        .map(|at| When::new(t, at, now));
    let mut flags = Vec::new();
    if let Some(reason) = complaint.sensitive {
        flags.push(t.t1(
            "flag-sensitive-because",
            "reason",
            &t.value("sensitive-reason", reason.as_str()),
        ));
    }
    for target in &complaint.escalations {
        flags.push(t.t1(
            "flag-escalated-to",
            "target",
            &t.value("escalation-target", target.as_str()),
        ));
    }
    ComplaintView {
        id: id.to_string(),
        short: short_id(&id.to_string()),
        status_slug: complaint.status.as_str().to_owned(),
        status: t.value("status", complaint.status.as_str()),
        owner: complaint
            .owner
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_else(|| t.t("unassigned")),
        handover: complaint.pending_handover.as_ref().map(|offer| {
            t.ta(
                "handover-pending",
                &[
                    ("from", offer.from.to_string()),
                    ("to", offer.to.to_string()),
                    ("when", t.datetime(offer.offered_at)),
                ],
            )
        }),
        customer,
        category: complaint
            .category
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        channel: complaint
            .channel
            .map(|channel| t.value("channel", channel.as_str()))
            .unwrap_or_default(),
        filed: complaint
            .filed_at
            .map(|at| t.datetime(at))
            .unwrap_or_default(),
        flags,
        non_negotiable: complaint
            .non_negotiable
            .iter()
            .map(|(element, rule)| {
                (
                    element.to_string(),
                    rule.explanation.to_string(),
                    rule.referral.to_string(),
                )
            })
            .collect(),
        next_due,
        deadlines,
        regime: complaint
            .regime
            .map(|regime| t.value("regime", regime.as_str())),
        paused: complaint.clock_paused_at.map(|at| t.datetime(at)),
        events: events.iter().map(|event| event_view(t, event)).collect(),
        owed,
        settled,
    }
}

pub struct FieldView {
    pub name: &'static str,
    pub id: String,
    pub label: String,
    /// `line`, `area`, `select`, `check` or `datetime`.
    pub widget: &'static str,
    pub value: String,
    pub options: Vec<Choice>,
    pub required: bool,
    pub checked: bool,
    pub invalid: bool,
}

pub struct FormView {
    pub slug: &'static str,
    pub command: &'static str,
    pub title: String,
    pub action: String,
    pub fields: Vec<FieldView>,
    pub refusal: Option<String>,
    pub key: String,
    pub danger: bool,
}

pub struct GroupView {
    pub id: &'static str,
    pub title: String,
    pub forms: Vec<FormView>,
    pub open: bool,
}

/// A form's typed values and its refusal, when the page answers a post.
pub struct Posted {
    pub slug: String,
    pub values: HashMap<String, String>,
    pub refusal: String,
    pub invalid: Option<&'static str>,
}

/// Whether a form belongs on the page now: the forms that could apply to the complaint as it
/// stands. (The engine decides whether a command is allowed; this only keeps the page short.)
fn relevant(spec: &Spec, complaint: &Complaint, me: &str) -> bool {
    let closed = complaint.status == Status::Closed;
    let owned = complaint.owner.is_some();
    let pending = complaint.pending_handover.as_ref();
    let open_promises = !complaint.open_promise_ids().is_empty();
    match spec.command {
        "Reopen" => closed,
        _ if closed => false,
        "AssignOwner" => !owned,
        "OfferHandover" => owned && pending.is_none(),
        "AcceptHandover" | "DeclineHandover" => {
            pending.is_some_and(|offer| offer.to == Owner::Person(staff_id(me)))
        }
        "TakeOver" => owned && complaint.owner != Some(Owner::Person(staff_id(me))),
        "KeepPromise" | "RenegotiatePromise" | "WithdrawPromise" => open_promises,
        "CompleteFollowUp" => !complaint.open_follow_up_ids().is_empty(),
        "PauseClock" => complaint.clock_paused_at.is_none(),
        "ResumeClock" => complaint.clock_paused_at.is_some(),
        "ExtendDeadline" => complaint
            .deadlines
            .values()
            .any(|deadline| deadline.met.is_none() && !deadline.extended),
        "FlagSensitive" => complaint.sensitive.is_none(),
        "ClearSensitiveFlag" => complaint.sensitive.is_some(),
        _ => true,
    }
}

fn staff_id(name: &str) -> obliged_domain::StaffId {
    obliged_domain::StaffId::parse(name).expect("an account's name is a staff id")
}

fn field_view(
    t: &Tr,
    spec: &Spec,
    field: &forms::Field,
    complaint: &Complaint,
    view: &ComplaintView,
    posted: Option<&Posted>,
) -> Option<FieldView> {
    let typed = posted.and_then(|posted| posted.values.get(field.name).cloned());
    let value = typed.clone().unwrap_or_default();
    let choose = |pairs: Vec<(String, String)>, blank: bool| {
        let mut all: Vec<Choice> = Vec::new();
        if blank {
            all.push((String::new(), t.t("choose"), value.is_empty()));
        }
        for (slug, label) in pairs {
            let selected = slug == value;
            all.push((slug, label, selected));
        }
        all
    };
    let (widget, options) = match field.input {
        Input::NewId => return None,
        Input::Line => ("line", Vec::new()),
        Input::Area => ("area", Vec::new()),
        Input::Check => ("check", Vec::new()),
        Input::DateTime => ("datetime", Vec::new()),
        Input::YesNo => (
            "select",
            choose(
                vec![("yes".to_owned(), t.t("yes")), ("no".to_owned(), t.t("no"))],
                true,
            ),
        ),
        Input::Choice(set) => (
            "select",
            choose(
                forms::options(set)
                    .into_iter()
                    .map(|slug| (slug.to_owned(), t.value(set, slug)))
                    .collect(),
                true,
            ),
        ),
        Input::Promise | Input::FollowUp => {
            let kind = if field.input == Input::Promise {
                "promise"
            } else {
                "follow-up"
            };
            (
                "select",
                choose(
                    view.owed
                        .iter()
                        .filter(|item| item.kind == kind)
                        .map(|item| {
                            let text: String = item.text.chars().take(60).collect();
                            (
                                item.id.clone(),
                                format!("{} · {} · {}", item.title, item.when.absolute, text),
                            )
                        })
                        .collect(),
                    false,
                ),
            )
        }
        Input::Deadline => (
            "select",
            choose(
                complaint
                    .deadlines
                    .iter()
                    .filter(|(_, deadline)| deadline.met.is_none())
                    .map(|(kind, _)| {
                        (
                            kind.as_str().to_owned(),
                            t.value("deadline-kind", kind.as_str()),
                        )
                    })
                    .collect(),
                false,
            ),
        ),
    };
    Some(FieldView {
        name: field.name,
        id: format!("cmd-{}-{}", spec.slug, field.name.replace('_', "-")),
        label: t.t(&format!("field-{}", field.name)),
        widget,
        checked: field.input == Input::Check && typed.as_deref().is_some_and(|v| !v.is_empty()),
        value,
        options,
        required: field.required,
        invalid: posted.is_some_and(|posted| posted.invalid == Some(field.name)),
    })
}

pub fn form_groups(
    staff: &Staff,
    complaint: &Complaint,
    view: &ComplaintView,
    posted: Option<&Posted>,
) -> Vec<GroupView> {
    let t = &staff.tr;
    Group::ALL
        .iter()
        .map(|group| {
            let forms: Vec<FormView> = SPECS
                .iter()
                .filter(|spec| spec.group == *group)
                .filter(|spec| staff.can(spec.need))
                .filter(|spec| {
                    relevant(spec, complaint, staff.name())
                        || posted.is_some_and(|posted| posted.slug == spec.slug)
                })
                .map(|spec| {
                    let mine = posted.filter(|posted| posted.slug == spec.slug);
                    FormView {
                        slug: spec.slug,
                        command: spec.command,
                        title: t.t(&format!("command-{}", spec.command)),
                        action: format!("/complaints/{}/commands/{}", view.id, spec.slug),
                        fields: spec
                            .fields
                            .iter()
                            .filter_map(|field| field_view(t, spec, field, complaint, view, mine))
                            .collect(),
                        refusal: mine.map(|posted| posted.refusal.clone()),
                        // A refused post keeps its key: nothing was recorded under it.
                        key: mine
                            .and_then(|posted| posted.values.get("idempotency_key").cloned())
                            .unwrap_or_else(|| Uuid::new_v4().to_string()),
                        danger: matches!(spec.command, "Close" | "TakeOver" | "WithdrawPromise"),
                    }
                })
                .collect();
            GroupView {
                id: group.key(),
                title: t.t(group.key()),
                open: matches!(group, Group::Contact | Group::Promises)
                    || forms.iter().any(|form| form.refusal.is_some()),
                forms,
            }
        })
        .filter(|group| !group.forms.is_empty())
        .collect()
}

#[derive(Template)]
#[template(path = "complaint.html")]
struct ComplaintPage {
    t: Tr,
    c: Chrome,
    v: ComplaintView,
    groups: Vec<GroupView>,
    can_command: bool,
}

/// The parts of the page that change live.
#[derive(Template)]
#[template(path = "partials/complaint_header.html")]
pub struct HeaderPart<'a> {
    pub t: &'a Tr,
    pub v: &'a ComplaintView,
}

#[derive(Template)]
#[template(path = "partials/timeline.html")]
pub struct TimelinePart<'a> {
    pub t: &'a Tr,
    pub v: &'a ComplaintView,
}

#[derive(Template)]
#[template(path = "partials/owed.html")]
pub struct OwedPart<'a> {
    pub t: &'a Tr,
    pub v: &'a ComplaintView,
}

/// Loads what the page shows of complaint `id`.
pub async fn load(
    state: &ConsoleState,
    staff: &Staff,
    id: Uuid,
) -> Result<(Complaint, ComplaintView), Response> {
    let complaint = state.engine.complaint(id, None);
    let history = state.engine.history(id, Disclosure::Full);
    let (complaint, history) = tokio::join!(complaint, history);
    let failed = |error: EngineError| match error {
        EngineError::NotFound(_) => {
            view::error_page(staff.tr.lang, StatusCode::NOT_FOUND, "error-no-complaint")
        }
        other => unavailable(staff, &other),
    };
    let complaint = complaint.map_err(failed)?;
    let history = history.map_err(failed)?;
    let view = complaint_view(&staff.tr, id, &complaint, &history, state.engine.now());
    Ok((complaint, view))
}

pub(crate) fn complaint_id(staff: &Staff, raw: &str) -> Result<Uuid, Response> {
    Uuid::parse_str(raw)
        .map_err(|_| view::error_page(staff.tr.lang, StatusCode::NOT_FOUND, "error-no-complaint"))
}

#[derive(serde::Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    done: String,
}

async fn render_page(
    state: &ConsoleState,
    staff: &Staff,
    id: Uuid,
    status: StatusCode,
    posted: Option<Posted>,
    done: Option<&str>,
) -> Response {
    let (complaint, v) = match load(state, staff, id).await {
        Ok(loaded) => loaded,
        Err(response) => return response,
    };
    let t = staff.tr.clone();
    let mut c = Chrome::signed_in(
        staff,
        Section::Complaints,
        t.t1("complaint-title", "id", &v.short),
    );
    if done == Some("new") {
        c.flash = Some(t.t("complaint-filed"));
    } else if let Some(spec) = done.and_then(forms::spec) {
        c.flash = Some(t.t1(
            "command-done",
            "command",
            &t.t(&format!("command-{}", spec.command)),
        ));
    }
    let groups = form_groups(staff, &complaint, &v, posted.as_ref());
    let page = ComplaintPage {
        can_command: staff.can(Can::Command),
        t,
        c,
        v,
        groups,
    };
    view::render(status, &page)
}

pub async fn page(
    State(state): State<ConsoleState>,
    staff: Staff,
    Path(id): Path<String>,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Err(refused) = staff.require(Can::Read) {
        return refused;
    }
    let id = match complaint_id(&staff, &id) {
        Ok(id) => id,
        Err(response) => return response,
    };
    let done = query.map(|Query(query)| query.done).unwrap_or_default();
    render_page(
        &state,
        &staff,
        id,
        StatusCode::OK,
        None,
        Some(done.as_str()).filter(|done| !done.is_empty()),
    )
    .await
}

/// The form's idempotency key: 1 to 255 visible ASCII characters.
fn idempotency_key(form: &HashMap<String, String>) -> Option<String> {
    form.get("idempotency_key")
        .filter(|key| !key.is_empty() && key.len() <= 255)
        .filter(|key| key.bytes().all(|byte| byte.is_ascii_graphic()))
        .cloned()
}

fn request(staff: &Staff, command: ComplaintCommand<PlainText>, key: String) -> CommandRequest {
    CommandRequest {
        actor: staff.session.account.name.clone(),
        command,
        idempotency_key: Some(key),
        correlation_id: None,
    }
}

/// The status a refusal is answered with.
fn refusal_status(error: &EngineError) -> StatusCode {
    match error {
        EngineError::Rejected(_)
        | EngineError::Erased(_)
        | EngineError::IdempotencyKeyReused { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        EngineError::Conflict { .. } => StatusCode::CONFLICT,
        EngineError::NotFound(_) => StatusCode::NOT_FOUND,
        EngineError::Unavailable(_) | EngineError::Internal(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

pub async fn command(
    State(state): State<ConsoleState>,
    staff: Staff,
    Path((id, slug)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Err(refused) = staff.check_csrf(form.get("csrf").map(String::as_str)) {
        return refused;
    }
    let id = match complaint_id(&staff, &id) {
        Ok(id) => id,
        Err(response) => return response,
    };
    let Some(spec) = forms::spec(&slug) else {
        return view::error_page(staff.tr.lang, StatusCode::NOT_FOUND, "error-not-found");
    };
    if let Err(refused) = staff.require(spec.need) {
        return refused;
    }
    let Some(key) = idempotency_key(&form) else {
        return view::error_page(staff.tr.lang, StatusCode::BAD_REQUEST, "error-bad-form");
    };
    let refuse = |status: StatusCode, refusal: String, invalid: Option<&'static str>| {
        let posted = Posted {
            slug: spec.slug.to_owned(),
            values: form.clone(),
            refusal,
            invalid,
        };
        render_page(&state, &staff, id, status, Some(posted), None)
    };
    let command = match forms::decode(spec, &form, &key, &staff.tr) {
        Ok(command) => command,
        Err(error) => {
            let field = error.field();
            return refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                error.message(&staff.tr),
                Some(field),
            )
            .await;
        }
    };
    match state
        .engine
        .execute(id, request(&staff, command, key))
        .await
    {
        Ok(_) => Redirect::to(&format!("/complaints/{id}?done={}", spec.slug)).into_response(),
        Err(EngineError::NotFound(_)) => {
            view::error_page(staff.tr.lang, StatusCode::NOT_FOUND, "error-no-complaint")
        }
        Err(error) => refuse(refusal_status(&error), staff.tr.engine_error(&error), None).await,
    }
}

#[derive(Template)]
#[template(path = "new_complaint.html")]
struct NewComplaintPage {
    t: Tr,
    c: Chrome,
    values: HashMap<String, String>,
    channels: Vec<Choice>,
    refusal: Option<String>,
    invalid: Option<&'static str>,
    key: String,
    take: bool,
}

impl NewComplaintPage {
    fn value(&self, name: &str) -> &str {
        self.values.get(name).map(String::as_str).unwrap_or("")
    }

    fn is_invalid(&self, name: &str) -> bool {
        self.invalid == Some(name)
    }
}

fn new_complaint_page(
    staff: &Staff,
    status: StatusCode,
    values: HashMap<String, String>,
    refusal: Option<String>,
    invalid: Option<&'static str>,
) -> Response {
    let t = staff.tr.clone();
    let chosen = values.get("channel").cloned().unwrap_or_default();
    let mut channels = vec![(String::new(), t.t("choose"), chosen.is_empty())];
    channels.extend(
        forms::options("channel")
            .into_iter()
            .map(|slug| (slug.to_owned(), t.value("channel", slug), slug == chosen)),
    );
    let key = values
        .get("idempotency_key")
        .cloned()
        .unwrap_or_else(|| Uuid::new_v4().to_string());
    let take = values.is_empty() || values.contains_key("take");
    let page = NewComplaintPage {
        c: Chrome::signed_in(staff, Section::NewComplaint, t.t("new-complaint-title")),
        t,
        values,
        channels,
        refusal,
        invalid,
        key,
        take,
    };
    view::render(status, &page)
}

pub async fn new_form(staff: Staff) -> Response {
    if let Err(refused) = staff.require(Can::Command) {
        return refused;
    }
    new_complaint_page(&staff, StatusCode::OK, HashMap::new(), None, None)
}

/// The fields of the new-complaint form, in the order they are checked.
const NEW_FIELDS: &[(&str, bool)] = &[
    ("customer_reference", true),
    ("customer_name", true),
    ("customer_email", false),
    ("customer_phone", false),
    ("channel", true),
    ("category", true),
    ("description", true),
];

fn new_complaint(form: &HashMap<String, String>) -> Result<ComplaintCommand<PlainText>, FormError> {
    let get = |name: &'static str| -> Result<Value, FormError> {
        let raw = form.get(name).map(|value| value.trim()).unwrap_or("");
        let required = NEW_FIELDS
            .iter()
            .any(|(field, required)| *field == name && *required);
        if raw.is_empty() {
            if required {
                Err(FormError::Missing(name))
            } else {
                Ok(Value::Null)
            }
        } else {
            Ok(Value::String(raw.to_owned()))
        }
    };
    let body = serde_json::json!({
        "type": "FileComplaint",
        "customer": {
            "reference": get("customer_reference")?,
            "name": get("customer_name")?,
            "email": get("customer_email")?,
            "phone": get("customer_phone")?,
        },
        "channel": get("channel")?,
        "category": get("category")?,
        "description": get("description")?,
    });
    serde_path_to_error::deserialize::<_, ComplaintCommand<PlainText>>(body).map_err(|error| {
        let path = error.path().to_string();
        let field = NEW_FIELDS
            .iter()
            .map(|(field, _)| *field)
            .find(|field| {
                let json = field.replacen("customer_", "customer.", 1);
                path == json || path.starts_with(&format!("{json}."))
            })
            .unwrap_or("description");
        FormError::Invalid(field)
    })
}

pub async fn file(
    State(state): State<ConsoleState>,
    staff: Staff,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if let Err(refused) = staff.check_csrf(form.get("csrf").map(String::as_str)) {
        return refused;
    }
    if let Err(refused) = staff.require(Can::Command) {
        return refused;
    }
    let Some(key) = idempotency_key(&form) else {
        return view::error_page(staff.tr.lang, StatusCode::BAD_REQUEST, "error-bad-form");
    };
    let command = match new_complaint(&form) {
        Ok(command) => command,
        Err(error) => {
            let message = error.message(&staff.tr);
            return new_complaint_page(
                &staff,
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
                Some(message),
                Some(error.field()),
            );
        }
    };
    let filed = match state
        .engine
        .file(request(&staff, command, key.clone()))
        .await
    {
        Ok(outcome) => outcome,
        Err(error) => {
            let message = staff.tr.engine_error(&error);
            return new_complaint_page(&staff, refusal_status(&error), form, Some(message), None);
        }
    };
    let id = filed.complaint_id;
    if form.contains_key("take") {
        // The person who files it owns it, unless they said otherwise. A refusal here leaves
        // the complaint filed and unowned, which its page shows.
        let assign = ComplaintCommand::AssignOwner {
            owner: Owner::Person(staff.session.account.name.clone()),
        };
        if let Err(error) = state
            .engine
            .execute(id, request(&staff, assign, format!("{key}:owner")))
            .await
        {
            tracing::info!(%error, complaint = %id, "assigning a new complaint to its filer");
        }
    }
    Redirect::to(&format!("/complaints/{id}?done=new")).into_response()
}
