//! The auditor's view of a complaint: the complaint as it stood after any of its events (stepped
//! event by event, or found by a date and time, or by a ledger position), what changed between
//! two such instants, every event with its ledger position, hash and metadata, and the result of
//! verifying the ledger's hash chain.
//!
//! Everything here is read from the complaint's events and the ledger; nothing is cached except
//! the last verification's result (per process), which says when it was obtained.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use jiff::{SignedDuration, Timestamp};
use obliged_domain::{Complaint, FollowUpStatus, PromiseStatus, Status};
use obliged_storage::{Disclosure, EngineError, RecordedEvent, Verification};
use uuid::Uuid;

use crate::complaint::{complaint_id, complaint_view, event_view, ComplaintView, EventView};
use crate::i18n::Tr;
use crate::lists::{short_id, unavailable};
use crate::session::{Can, Staff};
use crate::view::{self, Chrome, Section};
use crate::ConsoleState;

/// The last verification of the ledger this process ran, with when it ran.
#[derive(Clone, Default)]
pub struct Verifications(Arc<Mutex<Option<LastVerification>>>);

#[derive(Clone)]
struct LastVerification {
    at: Timestamp,
    by: String,
    result: Verification,
}

impl Verifications {
    fn last(&self) -> Option<LastVerification> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn record(&self, last: LastVerification) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(last);
    }
}

/// Which instant a request asks for; at most one of the three is given per instant.
#[derive(serde::Deserialize, Default)]
pub struct AuditQuery {
    #[serde(default)]
    seq: String,
    #[serde(default)]
    position: String,
    #[serde(default)]
    at: String,
    #[serde(default)]
    from_seq: String,
    #[serde(default)]
    from_position: String,
    #[serde(default)]
    from_at: String,
}

/// One event of the complaint with its place in the ledger.
pub struct EntryView {
    pub event: EventView,
    pub position: Option<u64>,
    pub hash: String,
    pub command_id: String,
    pub correlation_id: String,
    pub recorded_iso: String,
    /// The event is the instant shown.
    pub current: bool,
    /// The event happened after the instant shown.
    pub later: bool,
    pub link: String,
    /// For an event before the instant shown: what changed between it and that instant.
    pub compare: Option<String>,
}

/// One fact of the complaint at an instant, for the table of everything owed and the changes.
#[derive(Clone, PartialEq, Eq)]
pub struct Fact {
    pub area: String,
    pub item: String,
    pub value: String,
}

/// One difference between two instants.
pub struct Change {
    pub key: String,
    pub area: String,
    pub item: String,
    pub before: String,
    pub after: String,
}

/// An instant a link steps to.
pub struct Step {
    pub href: String,
    pub label: String,
}

pub struct VerificationView {
    pub intact: bool,
    pub summary: String,
    pub head: String,
    /// "Verified 4 Dec 2026 14:05 by alice".
    pub when: String,
    pub iso: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    t: Tr,
    c: Chrome,
    v: ComplaintView,
    id: String,
    /// "Event 3 of 7: Promise made, 4 Dec 2026 14:05, position 12".
    instant: String,
    seq: u64,
    total: u64,
    first: Option<Step>,
    previous: Option<Step>,
    next: Option<Step>,
    last: Option<Step>,
    at_value: String,
    from_value: String,
    /// "Changes from <instant> to <instant>".
    changes_between: String,
    facts: Vec<(String, Fact)>,
    changes: Vec<Change>,
    entries: Vec<EntryView>,
    verification: Option<VerificationView>,
    back: String,
    refusal: Option<String>,
}

/// What the request's parameters name, in sequences of the complaint (0: before its first
/// event), or the message saying what was wrong.
struct Instants {
    to: u64,
    from: Option<u64>,
}

/// The complaint's events with their ledger entries: `(recorded at, position)` per sequence.
struct Timeline<'a> {
    events: &'a [RecordedEvent],
    positions: &'a HashMap<u64, (u64, String)>,
}

impl Timeline<'_> {
    fn last(&self) -> u64 {
        self.events.last().map_or(0, |event| event.sequence)
    }

    fn recorded(&self, event: &RecordedEvent) -> Option<Timestamp> {
        event.recorded_at.as_deref()?.parse().ok()
    }

    /// The last event recorded at or before `at` (0 if none).
    fn at(&self, at: Timestamp) -> u64 {
        self.events
            .iter()
            .filter(|event| self.recorded(event).is_some_and(|recorded| recorded <= at))
            .map(|event| event.sequence)
            .max()
            .unwrap_or(0)
    }

    /// The last event at or before ledger position `position` (0 if none).
    fn position(&self, position: u64) -> u64 {
        self.events
            .iter()
            .filter(|event| {
                self.positions
                    .get(&event.sequence)
                    .is_some_and(|(at, _)| *at <= position)
            })
            .map(|event| event.sequence)
            .max()
            .unwrap_or(0)
    }

    /// One instant from its three possible parameters.
    fn instant(&self, t: &Tr, seq: &str, position: &str, at: &str) -> Result<Option<u64>, String> {
        let number = |raw: &str, name: &str| {
            raw.trim()
                .parse::<u64>()
                .map_err(|_| t.t1("audit-bad-number", "field", &t.t(name)))
        };
        if !seq.trim().is_empty() {
            return Ok(Some(number(seq, "audit-field-seq")?.min(self.last())));
        }
        if !position.trim().is_empty() {
            return Ok(Some(
                self.position(number(position, "audit-field-position")?),
            ));
        }
        if !at.trim().is_empty() {
            let parsed = parse_instant(t, at).ok_or_else(|| t.t("audit-bad-time"))?;
            return Ok(Some(self.at(parsed)));
        }
        Ok(None)
    }

    fn instants(&self, t: &Tr, q: &AuditQuery) -> Result<Instants, String> {
        let to = self.instant(t, &q.seq, &q.position, &q.at)?;
        let from = self.instant(t, &q.from_seq, &q.from_position, &q.from_at)?;
        let to = to.unwrap_or(self.last()).max(1);
        Ok(Instants { to, from })
    }
}

/// A time typed into a `datetime-local` field (in the policy's zone; without seconds it means
/// the whole minute, so that an event's own minute includes it) or an RFC 3339 timestamp.
fn parse_instant(t: &Tr, raw: &str) -> Option<Timestamp> {
    let raw = raw.trim();
    if let Ok(at) = raw.parse::<Timestamp>() {
        return Some(at);
    }
    let at = t.parse_datetime_local(raw)?;
    if raw.len() == 16 {
        at.checked_add(SignedDuration::from_micros(59_999_999)).ok()
    } else {
        Some(at)
    }
}

fn href(id: &str, seq: u64, positions: &HashMap<u64, (u64, String)>) -> String {
    match positions.get(&seq) {
        Some((position, _)) => {
            format!("/complaints/{id}/audit?position={position}#entry-{position}")
        }
        None => format!("/complaints/{id}/audit?seq={seq}"),
    }
}

/// The facts an auditor compares, keyed so that two instants line up: status, owner, the
/// handover offered, flags, every promise, follow-up and obligation with its state (settled
/// ones included), the regulatory deadlines.
fn facts(t: &Tr, complaint: &Complaint) -> BTreeMap<String, Fact> {
    let mut facts = BTreeMap::new();
    let mut put = |key: String, area: String, item: String, value: String| {
        facts.insert(key, Fact { area, item, value });
    };
    if complaint.status == Status::NotFiled {
        return facts;
    }
    put(
        "0-status".into(),
        t.t("audit-area-complaint"),
        t.t("field-status"),
        t.value("status", complaint.status.as_str()),
    );
    put(
        "0-owner".into(),
        t.t("audit-area-complaint"),
        t.t("field-owner"),
        complaint
            .owner
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_else(|| t.t("unassigned")),
    );
    if let Some(offer) = &complaint.pending_handover {
        put(
            "0-handover".into(),
            t.t("audit-area-complaint"),
            t.t("field-handover"),
            t.ta(
                "handover-pending",
                &[
                    ("from", offer.from.to_string()),
                    ("to", offer.to.to_string()),
                    ("when", t.datetime(offer.offered_at)),
                ],
            ),
        );
    }
    if let Some(reason) = complaint.sensitive {
        put(
            "1-flag-sensitive".into(),
            t.t("audit-area-flags"),
            t.t("audit-flag-sensitive"),
            t.value("sensitive-reason", reason.as_str()),
        );
    }
    for target in &complaint.escalations {
        put(
            format!("1-flag-escalated-{}", target.as_str()),
            t.t("audit-area-flags"),
            t.t("audit-flag-escalated"),
            t.value("escalation-target", target.as_str()),
        );
    }
    for element in complaint.non_negotiable.keys() {
        put(
            format!("1-flag-non-negotiable-{element}"),
            t.t("audit-area-flags"),
            t.t("non-negotiable-title"),
            element.to_string(),
        );
    }
    if let Some(paused) = complaint.clock_paused_at {
        put(
            "1-flag-paused".into(),
            t.t("audit-area-flags"),
            t.t("audit-flag-paused"),
            t.datetime(paused),
        );
    }
    for (id, promise) in &complaint.promises {
        let state = match promise.status {
            PromiseStatus::Pending => "pending",
            PromiseStatus::Broken => "broken",
            PromiseStatus::Kept { on_time: true } => "kept",
            PromiseStatus::Kept { on_time: false } => "kept-late",
            PromiseStatus::Withdrawn => "withdrawn",
        };
        put(
            format!("2-promise-{id}"),
            t.value("work-kind", "promise"),
            format!(
                "{} {} · {}",
                t.value("promise-kind", promise.kind.as_str()),
                short_id(&id.to_string()),
                promise.promiser
            ),
            t.ta(
                "audit-owed-value",
                &[
                    ("state", t.value("promise-status", state)),
                    ("due", t.datetime(promise.due_at)),
                ],
            ),
        );
    }
    for (id, follow_up) in &complaint.follow_ups {
        let state = match follow_up.status {
            FollowUpStatus::Open => "open",
            FollowUpStatus::Completed { on_time: true } => "completed",
            FollowUpStatus::Completed { on_time: false } => "completed-late",
        };
        put(
            format!("3-follow-up-{id}"),
            t.value("work-kind", "follow-up"),
            format!("{} · {}", short_id(&id.to_string()), follow_up.owner),
            t.ta(
                "audit-owed-value",
                &[
                    ("state", t.value("follow-up-status", state)),
                    ("due", t.datetime(follow_up.due_at)),
                ],
            ),
        );
    }
    for (number, obligation) in &complaint.obligations {
        let state = if obligation.discharged.is_some() {
            t.t("audit-obligation-met")
        } else {
            t.t("audit-obligation-open")
        };
        put(
            format!("4-obligation-{number:06}"),
            t.value("work-kind", "obligation"),
            t.t1(
                "obligation-text",
                "contact",
                &obligation.contact_no.to_string(),
            ),
            t.ta(
                "audit-owed-value",
                &[("state", state), ("due", t.datetime(obligation.due_at))],
            ),
        );
    }
    for (kind, deadline) in &complaint.deadlines {
        let state = match deadline.met {
            Some(true) => t.t("deadline-met"),
            Some(false) => t.t("deadline-met-late"),
            None if deadline.extended => t.t("deadline-extended"),
            None => t.t("audit-deadline-running"),
        };
        put(
            format!("5-deadline-{}", kind.as_str()),
            t.value("work-kind", "deadline"),
            t.value("deadline-kind", kind.as_str()),
            t.ta(
                "audit-owed-value",
                &[("state", state), ("due", t.datetime(deadline.due_at))],
            ),
        );
    }
    facts
}

/// What differs between two instants' facts, in the facts' order.
fn changes(t: &Tr, before: &BTreeMap<String, Fact>, after: &BTreeMap<String, Fact>) -> Vec<Change> {
    let mut keys: Vec<&String> = before.keys().chain(after.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|key| {
            let (old, new) = (before.get(key), after.get(key));
            if old.map(|fact| &fact.value) == new.map(|fact| &fact.value) {
                return None;
            }
            let fact = new.or(old)?;
            Some(Change {
                key: key.clone(),
                area: fact.area.clone(),
                item: fact.item.clone(),
                before: old.map_or_else(|| t.t("audit-absent"), |fact| fact.value.clone()),
                after: new.map_or_else(|| t.t("audit-absent"), |fact| fact.value.clone()),
            })
        })
        .collect()
}

fn verification_view(t: &Tr, last: LastVerification) -> VerificationView {
    let (intact, summary, head) = match &last.result {
        Verification::Verified {
            entries,
            head,
            unsequenced,
        } => (
            true,
            t.ta(
                if *unsequenced == 0 {
                    "audit-verified"
                } else {
                    "audit-verified-unsequenced"
                },
                &[
                    ("entries", entries.to_string()),
                    ("unsequenced", unsequenced.to_string()),
                ],
            ),
            head.clone(),
        ),
        Verification::Broken { position, problem } => (
            false,
            t.ta(
                "audit-broken",
                &[
                    ("position", position.to_string()),
                    ("problem", problem.clone()),
                ],
            ),
            String::new(),
        ),
    };
    VerificationView {
        intact,
        summary,
        head,
        when: t.ta(
            "audit-verified-when",
            &[("when", t.datetime(last.at)), ("by", last.by)],
        ),
        iso: last.at.to_string(),
    }
}

/// The auditor's view of complaint `id` (everyone who may read complaints).
pub async fn page(
    State(state): State<ConsoleState>,
    staff: Staff,
    Path(id): Path<String>,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Err(refused) = staff.require(Can::Read) {
        return refused;
    }
    let id = match complaint_id(&staff, &id) {
        Ok(id) => id,
        Err(response) => return response,
    };
    let query = query.map(|Query(query)| query).unwrap_or_default();
    render(&state, &staff, id, &query).await
}

async fn render(state: &ConsoleState, staff: &Staff, id: Uuid, query: &AuditQuery) -> Response {
    let t = staff.tr.clone();
    let key = id.to_string();
    let (history, entries) = tokio::join!(
        state.engine.history(id, Disclosure::Full),
        state.engine.ledger().entries_of(&key)
    );
    let history = match history {
        Ok(history) => history,
        Err(EngineError::NotFound(_)) => {
            return view::error_page(t.lang, StatusCode::NOT_FOUND, "error-no-complaint")
        }
        Err(error) => return unavailable(staff, &error),
    };
    let entries = match entries {
        Ok(entries) => entries,
        Err(error) => return unavailable(staff, &error),
    };
    let positions: HashMap<u64, (u64, String)> = entries
        .into_iter()
        .map(|(sequence, position, hash)| (sequence, (position, hash)))
        .collect();
    let timeline = Timeline {
        events: &history,
        positions: &positions,
    };
    let last = timeline.last();
    let (instants, refusal, status) = match timeline.instants(&t, query) {
        Ok(instants) => (instants, None, StatusCode::OK),
        Err(refusal) => (
            Instants {
                to: last,
                from: None,
            },
            Some(refusal),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    };
    let to = instants.to;
    let from = instants.from.unwrap_or(to.saturating_sub(1));
    let states = match state.engine.complaint_after(id, &[to, from]).await {
        Ok(states) => states,
        Err(error) => return unavailable(staff, &error),
    };
    let (now_state, from_state) = (&states[0], &states[1]);
    let shown: Vec<RecordedEvent> = history
        .iter()
        .filter(|event| event.sequence <= to)
        .cloned()
        .collect();
    let instant_at = shown
        .last()
        .and_then(|event| timeline.recorded(event))
        .unwrap_or_else(|| state.engine.now());
    let v = complaint_view(&t, id, now_state, &shown, instant_at);
    let before = facts(&t, from_state);
    let after = facts(&t, now_state);
    let changes = changes(&t, &before, &after);

    let label = |seq: u64| -> String {
        let Some(event) = history.iter().find(|event| event.sequence == seq) else {
            return t.t("audit-before-filing");
        };
        let when = timeline
            .recorded(event)
            .map(|at| t.datetime(at))
            .unwrap_or_default();
        match positions.get(&seq) {
            Some((position, _)) => t.ta(
                "audit-instant",
                &[
                    ("seq", seq.to_string()),
                    ("total", last.to_string()),
                    ("event", t.event(&event.event_type)),
                    ("when", when),
                    ("position", position.to_string()),
                ],
            ),
            None => t.ta(
                "audit-instant-unsequenced",
                &[
                    ("seq", seq.to_string()),
                    ("total", last.to_string()),
                    ("event", t.event(&event.event_type)),
                    ("when", when),
                ],
            ),
        }
    };
    let step = |seq: u64, name: &str| Step {
        href: href(&key, seq, &positions),
        label: t.t(name),
    };
    let entries: Vec<EntryView> = history
        .iter()
        .map(|event| {
            let (position, hash) = positions
                .get(&event.sequence)
                .cloned()
                .map_or((None, String::new()), |(position, hash)| {
                    (Some(position), hash)
                });
            EntryView {
                event: event_view(&t, event),
                position,
                hash,
                command_id: event.command_id.clone().unwrap_or_default(),
                correlation_id: event.correlation_id.clone().unwrap_or_default(),
                recorded_iso: event.recorded_at.clone().unwrap_or_default(),
                current: event.sequence == to,
                later: event.sequence > to,
                link: href(&key, event.sequence, &positions),
                compare: (event.sequence < to).then(|| {
                    format!(
                        "/complaints/{key}/audit?seq={to}&from_seq={}#changes-card",
                        event.sequence
                    )
                }),
            }
        })
        .collect();
    let at_value = history
        .iter()
        .find(|event| event.sequence == to)
        .and_then(|event| timeline.recorded(event))
        .map(|at| t.datetime_local_value(at))
        .unwrap_or_default();
    let from_value = if instants.from.is_some() {
        history
            .iter()
            .find(|event| event.sequence == from)
            .and_then(|event| timeline.recorded(event))
            .map(|at| t.datetime_local_value(at))
            .unwrap_or_default()
    } else {
        String::new()
    };
    let back = match positions.get(&to) {
        Some((position, _)) => format!("/complaints/{key}/audit?position={position}"),
        None => format!("/complaints/{key}/audit?seq={to}"),
    };
    let c = Chrome::signed_in(
        staff,
        Section::Complaints,
        t.t1("audit-title", "id", &short_id(&key)),
    );
    let page = AuditPage {
        instant: label(to),
        seq: to,
        total: last,
        first: (to > 1).then(|| step(1, "audit-first")),
        previous: (to > 1).then(|| step(to - 1, "audit-previous")),
        next: (to < last).then(|| step(to + 1, "audit-next")),
        last: (to < last).then(|| step(last, "audit-last")),
        at_value,
        from_value,
        changes_between: t.ta(
            "audit-changes-between",
            &[("from", label(from)), ("to", label(to))],
        ),
        facts: after.into_iter().collect(),
        changes,
        entries,
        verification: state.audit.last().map(|last| verification_view(&t, last)),
        back,
        refusal,
        id: key,
        v,
        c,
        t,
    };
    view::render(status, &page)
}

#[derive(serde::Deserialize)]
pub struct VerifyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    back: String,
}

/// Recomputes the ledger's whole hash chain, keeps the result with when it was obtained, and
/// goes back to the auditor's view it was asked from.
pub async fn verify(
    State(state): State<ConsoleState>,
    staff: Staff,
    Form(form): Form<VerifyForm>,
) -> Response {
    if let Err(refused) = staff.check_csrf(Some(&form.csrf)) {
        return refused;
    }
    if let Err(refused) = staff.require(Can::Read) {
        return refused;
    }
    // Only a page of this console: a path under /complaints/, nothing that leaves the site.
    let back = Some(form.back.as_str())
        .filter(|back| back.starts_with("/complaints/") && !back.contains("//"))
        .filter(|back| !back.contains(['\\', '\r', '\n']))
        .unwrap_or("/complaints")
        .to_owned();
    let result = match state.engine.ledger().verify().await {
        Ok(result) => result,
        Err(error) => return unavailable(&staff, &error),
    };
    if let Verification::Broken { position, problem } = &result {
        tracing::error!(position, problem, "the ledger's hash chain does not verify");
    }
    state.audit.record(LastVerification {
        at: state.engine.now(),
        by: staff.name().to_owned(),
        result,
    });
    (
        StatusCode::SEE_OTHER,
        [(header::LOCATION, format!("{back}#verification"))],
    )
        .into_response()
}
