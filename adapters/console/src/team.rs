//! The Team page, for leads: everyone's open items per kind with what is overdue, the people
//! with the oldest breach first, and every overdue item with a form to take its complaint over
//! (the domain's `TakeOver`, posted to the complaint's command route like any other command).

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::Timestamp;
use obliged_projections::{OverdueLine, TeamLoad};
use uuid::Uuid;

use crate::i18n::Tr;
use crate::lists::{unavailable, work_view, WorkView};
use crate::session::{Can, Staff};
use crate::view::{self, Chrome, Section, When};
use crate::ConsoleState;

/// The kinds the page counts, in its columns' order.
pub const KINDS: [&str; 5] = ["promise", "follow-up", "obligation", "deadline", "triage"];
/// The most overdue items the page lists at once (the oldest first).
const OVERDUE_SHOWN: u32 = 200;

/// One count of the overview: open items of a kind, how many overdue, a link to those.
pub struct Cell {
    pub open: i64,
    pub overdue: i64,
    pub link: String,
}

/// One person's (or team queue's) row of the overview.
pub struct PersonRow {
    pub person: String,
    pub cells: Vec<Cell>,
    pub overdue: i64,
    pub oldest: Option<When>,
    pub link: String,
}

/// One overdue item, with whose it is and whether the lead may take its complaint over.
pub struct OverdueView {
    pub person: String,
    pub work: WorkView,
    pub owner: String,
    pub take_over: bool,
    pub key: String,
}

#[derive(Template)]
#[template(path = "team.html")]
struct TeamPage {
    t: Tr,
    c: Chrome,
    kinds: Vec<(String, String)>,
    people: Vec<PersonRow>,
    overdue: Vec<OverdueView>,
    /// The filter of the list, as a sentence ("Overdue promises of alice"), if any.
    filter: Option<String>,
    shown_limit: bool,
}

#[derive(serde::Deserialize, Default)]
pub struct TeamQuery {
    #[serde(default)]
    person: String,
    #[serde(default)]
    kind: String,
}

fn filter_link(person: Option<&str>, kind: Option<&str>) -> String {
    let mut query = Vec::new();
    if let Some(person) = person {
        query.push(format!("person={}", crate::lists::encode(person)));
    }
    if let Some(kind) = kind {
        query.push(format!("kind={kind}"));
    }
    if query.is_empty() {
        "/team#overdue".to_owned()
    } else {
        format!("/team?{}#overdue", query.join("&"))
    }
}

fn people(t: &Tr, load: Vec<TeamLoad>, now: Timestamp) -> Vec<PersonRow> {
    let mut rows: Vec<PersonRow> = Vec::new();
    let mut oldest: Vec<Option<Timestamp>> = Vec::new();
    for item in load {
        let index = match rows.iter().position(|row| row.person == item.person) {
            Some(index) => index,
            None => {
                rows.push(PersonRow {
                    link: filter_link(Some(&item.person), None),
                    cells: KINDS
                        .iter()
                        .map(|kind| Cell {
                            open: 0,
                            overdue: 0,
                            link: filter_link(Some(&item.person), Some(kind)),
                        })
                        .collect(),
                    person: item.person.clone(),
                    overdue: 0,
                    oldest: None,
                });
                oldest.push(None);
                rows.len() - 1
            }
        };
        let row = &mut rows[index];
        if let Some(column) = KINDS.iter().position(|kind| *kind == item.kind) {
            row.cells[column].open += item.open;
            row.cells[column].overdue += item.overdue;
        }
        row.overdue += item.overdue;
        oldest[index] = match (oldest[index], item.oldest_overdue) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
    for (row, oldest) in rows.iter_mut().zip(oldest) {
        row.oldest = oldest.map(|at| When::new(t, at, now));
    }
    rows
}

fn overdue_view(t: &Tr, me: &str, line: OverdueLine, now: Timestamp) -> OverdueView {
    let owner = line.complaint_owner.clone().unwrap_or_default();
    let open = !matches!(line.line.complaint_status.as_deref(), Some("closed"));
    OverdueView {
        take_over: open && owner != me,
        owner: if owner.is_empty() {
            t.t("unassigned")
        } else {
            owner
        },
        person: line.person,
        work: work_view(t, line.line, now),
        key: Uuid::new_v4().to_string(),
    }
}

/// The Team page (leads and admins).
pub async fn page(
    State(state): State<ConsoleState>,
    staff: Staff,
    query: Result<Query<TeamQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Err(refused) = staff.require(Can::TakeOver) {
        return refused;
    }
    let Ok(Query(query)) = query else {
        return view::error_page(staff.tr.lang, StatusCode::BAD_REQUEST, "error-bad-form");
    };
    let person = Some(query.person.trim()).filter(|person| !person.is_empty());
    let kind = Some(query.kind.as_str()).filter(|kind| !kind.is_empty());
    let t = staff.tr.clone();
    if kind.is_some_and(|kind| !KINDS.contains(&kind)) {
        return view::error_page(t.lang, StatusCode::BAD_REQUEST, "error-bad-form");
    }
    let now = state.engine.now();
    let (load, overdue) = tokio::join!(
        state.read_models.team_load(now),
        state
            .read_models
            .team_overdue(now, person, kind, OVERDUE_SHOWN)
    );
    let (load, overdue) = match (load, overdue) {
        (Ok(load), Ok(overdue)) => (load, overdue),
        (Err(error), _) | (_, Err(error)) => return unavailable(&staff, &error),
    };
    let filter = match (person, kind) {
        (None, None) => None,
        (Some(person), None) => Some(t.t1("team-filter-person", "person", person)),
        (None, Some(kind)) => Some(t.t1("team-filter-kind", "kind", &t.value("work-kind", kind))),
        (Some(person), Some(kind)) => Some(t.ta(
            "team-filter-both",
            &[
                ("person", person.to_owned()),
                ("kind", t.value("work-kind", kind)),
            ],
        )),
    };
    let shown_limit = overdue.len() as u32 == OVERDUE_SHOWN;
    let me = staff.name().to_owned();
    let page = TeamPage {
        kinds: KINDS
            .iter()
            .map(|kind| ((*kind).to_owned(), t.value("work-kind", kind)))
            .collect(),
        people: people(&t, load, now),
        overdue: overdue
            .into_iter()
            .map(|line| overdue_view(&t, &me, line, now))
            .collect(),
        filter,
        shown_limit,
        c: Chrome::signed_in(&staff, Section::Team, t.t("team-title")),
        t,
    };
    view::render(StatusCode::OK, &page)
}
