//! The lists of a working day: My work (what the signed-in person owes, soonest first) and the
//! complaints, searched, filtered, sorted and paged.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use jiff::Timestamp;
use obliged_domain::{Category, Channel, CustomerReference, Owner, Status};
use obliged_projections::{ComplaintFilter, ComplaintListItem, WorkLine, FLAGS};
use serde::Deserialize;

use crate::i18n::Tr;
use crate::session::{Can, Staff};
use crate::view::{self, Chrome, Section, When};
use crate::ConsoleState;

/// The most items My work shows.
pub const MY_WORK_LIMIT: u32 = 500;
/// Complaints per page of the list.
const PAGE_SIZE: u32 = 50;

/// One line of My work.
pub struct WorkView {
    pub kind: String,
    pub kind_label: String,
    pub complaint: String,
    pub complaint_short: String,
    /// What it is about: category and customer reference.
    pub about: String,
    pub when: When,
    pub broken: bool,
    pub link: String,
}

pub(crate) fn work_view(t: &Tr, line: WorkLine, now: Timestamp) -> WorkView {
    let item = line.item;
    let about = [
        line.category.map(|category| category.to_string()),
        line.customer_reference,
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    let anchor = match item.kind.as_str() {
        "promise" | "follow-up" => format!("#{}-{}", item.kind, item.item_id),
        "obligation" => format!("#obligation-{}", item.item_id),
        _ => String::new(),
    };
    WorkView {
        kind_label: t.value("work-kind", &item.kind),
        link: format!("/complaints/{}{anchor}", item.complaint_id),
        complaint_short: short_id(&item.complaint_id),
        complaint: item.complaint_id,
        about,
        when: When::new(t, item.due_at, now),
        broken: line.promise_status.as_deref() == Some("broken"),
        kind: item.kind,
    }
}

/// The first block of a UUID, enough to tell complaints apart on a screen.
pub fn short_id(id: &str) -> String {
    id.split('-').next().unwrap_or(id).to_owned()
}

#[derive(Template)]
#[template(path = "my_work.html")]
struct MyWorkPage {
    t: Tr,
    c: Chrome,
    items: Vec<WorkView>,
    summary: String,
}

#[derive(Template)]
#[template(path = "partials/my_work_items.html")]
pub struct MyWorkItems {
    pub t: Tr,
    pub items: Vec<WorkView>,
    pub summary: String,
}

/// The items of `staff`'s work as the page shows them.
pub async fn work_items(state: &ConsoleState, staff: &Staff) -> Result<MyWorkItems, Response> {
    let now = state.engine.now();
    let lines = state
        .read_models
        .work(staff.name(), now, MY_WORK_LIMIT)
        .await
        .map_err(|error| unavailable(staff, &error))?;
    let items: Vec<WorkView> = lines
        .into_iter()
        .map(|line| work_view(&staff.tr, line, now))
        .collect();
    let overdue = items.iter().filter(|item| item.when.overdue).count();
    Ok(MyWorkItems {
        summary: staff.tr.ta(
            "my-work-summary",
            &[
                ("total", items.len().to_string()),
                ("overdue", overdue.to_string()),
            ],
        ),
        t: staff.tr.clone(),
        items,
    })
}

pub fn unavailable(staff: &Staff, error: &dyn std::fmt::Display) -> Response {
    tracing::warn!(%error, "reading for the console");
    view::error_page(
        staff.tr.lang,
        StatusCode::SERVICE_UNAVAILABLE,
        "error-unavailable",
    )
}

pub async fn my_work(State(state): State<ConsoleState>, staff: Staff) -> Response {
    if let Err(refused) = staff.require(Can::Read) {
        return refused;
    }
    let work = match work_items(&state, &staff).await {
        Ok(work) => work,
        Err(response) => return response,
    };
    let t = staff.tr.clone();
    let c = Chrome::signed_in(&staff, Section::MyWork, t.t("my-work-title"));
    view::render(
        StatusCode::OK,
        &MyWorkPage {
            t,
            c,
            items: work.items,
            summary: work.summary,
        },
    )
}

/// The complaint list's query, as typed into its filter form.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    overdue: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    flag: String,
    #[serde(default)]
    customer_reference: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    page: String,
}

pub struct ListRow {
    pub id: String,
    pub short: String,
    pub status: String,
    pub status_slug: String,
    pub owner: String,
    pub category: String,
    pub channel: String,
    pub customer_reference: String,
    pub filed: String,
    pub next_due: Option<When>,
    pub flags: Vec<String>,
    pub open: String,
}

/// A choice of a filter's select: value, label, selected.
pub type Choice = (String, String, bool);

#[derive(Template)]
#[template(path = "complaints.html")]
struct ComplaintsPage {
    t: Tr,
    c: Chrome,
    rows: Vec<ListRow>,
    statuses: Vec<Choice>,
    channels: Vec<Choice>,
    flags: Vec<Choice>,
    overdue: Vec<Choice>,
    sorts: Vec<Choice>,
    owner: String,
    category: String,
    customer_reference: String,
    /// Refusals of the filter form's values, translated.
    problems: Vec<String>,
    page: u32,
    previous: Option<String>,
    next: Option<String>,
}

fn choices(
    t: &Tr,
    set: &str,
    slugs: &[&str],
    selected: &str,
    any_label: Option<String>,
) -> Vec<Choice> {
    let mut all = Vec::new();
    if let Some(any) = any_label {
        all.push((String::new(), any, selected.is_empty()));
    }
    for slug in slugs {
        all.push(((*slug).to_owned(), t.value(set, slug), *slug == selected));
    }
    all
}

fn list_row(t: &Tr, item: ComplaintListItem, now: Timestamp) -> ListRow {
    let mut flags = Vec::new();
    if item.sensitive {
        flags.push(t.t("flag-sensitive"));
    }
    if item.non_negotiable {
        flags.push(t.t("flag-non-negotiable"));
    }
    for target in &item.escalations {
        flags.push(t.value("escalation-target", target));
    }
    ListRow {
        short: short_id(&item.id),
        status: t.value("status", &item.status),
        status_slug: item.status.clone(),
        owner: item.owner.unwrap_or_else(|| t.t("unassigned")),
        category: item.category.unwrap_or_default(),
        channel: item
            .channel
            .map(|channel| t.value("channel", &channel))
            .unwrap_or_default(),
        customer_reference: item.customer_reference.unwrap_or_default(),
        filed: item.filed_at.map(|at| t.datetime(at)).unwrap_or_default(),
        next_due: item.next_due_at.map(|at| When::new(t, at, now)),
        flags,
        open: [
            ("count-promises", item.open_promises),
            ("count-obligations", item.open_obligations),
            ("count-follow-ups", item.open_follow_ups),
        ]
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .map(|(key, count)| t.tn(key, "count", count))
        .collect::<Vec<_>>()
        .join(" · "),
        id: item.id,
    }
}

pub async fn complaints(
    State(state): State<ConsoleState>,
    staff: Staff,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    if let Err(refused) = staff.require(Can::Read) {
        return refused;
    }
    let query = query.map(|Query(query)| query).unwrap_or_default();
    let t = staff.tr.clone();
    // The search box takes a complaint's id too: go straight to it.
    let searched = query.customer_reference.trim();
    if let Ok(id) = uuid::Uuid::parse_str(searched) {
        return Redirect::to(&format!("/complaints/{id}")).into_response();
    }
    let mut problems = Vec::new();
    let mut text = |name: &str, raw: &str, check: &dyn Fn(&str) -> bool| -> Option<String> {
        let raw = raw.trim();
        if raw.is_empty() {
            None
        } else if check(raw) {
            Some(raw.to_owned())
        } else {
            problems.push(t.t1(
                "list-invalid-filter",
                "field",
                &t.t(&format!("field-{name}")),
            ));
            None
        }
    };
    let statuses: Vec<&str> = Status::FILED_NAMES.to_vec();
    let channels: Vec<&str> = Channel::ALL.iter().map(Channel::as_str).collect();
    let filter = ComplaintFilter {
        status: text("status", &query.status, &|raw| statuses.contains(&raw)),
        owner: text("owner", &query.owner, &|raw| Owner::parse(raw).is_ok()),
        channel: text("channel", &query.channel, &|raw| channels.contains(&raw)),
        category: text("category", &query.category, &|raw| {
            Category::parse(raw).is_ok()
        }),
        flag: text("flag", &query.flag, &|raw| FLAGS.contains(&raw)),
        customer_reference: text("customer_reference", searched, &|raw| {
            CustomerReference::parse(raw).is_ok()
        }),
        overdue: match query.overdue.as_str() {
            "yes" => Some(true),
            "no" => Some(false),
            _ => None,
        },
        by_next_due: query.sort == "due",
        limit: PAGE_SIZE + 1,
        offset: 0,
    };
    let page = query.page.parse::<u32>().unwrap_or(1).clamp(1, 10_000);
    let filter = ComplaintFilter {
        offset: (page - 1) * PAGE_SIZE,
        ..filter
    };
    let now = state.engine.now();
    let mut items = match state.read_models.list(&filter, now).await {
        Ok(items) => items,
        Err(error) => return unavailable(&staff, &error),
    };
    let more = items.len() > PAGE_SIZE as usize;
    items.truncate(PAGE_SIZE as usize);
    let page_link = |page: u32| {
        let pairs = [
            ("status", &query.status),
            ("owner", &query.owner),
            ("overdue", &query.overdue),
            ("category", &query.category),
            ("channel", &query.channel),
            ("flag", &query.flag),
            ("customer_reference", &query.customer_reference),
            ("sort", &query.sort),
        ];
        let mut link = String::from("/complaints?");
        for (name, value) in pairs {
            if !value.is_empty() {
                link.push_str(&format!("{name}={}&", encode(value)));
            }
        }
        link.push_str(&format!("page={page}"));
        link
    };
    let c = Chrome::signed_in(&staff, Section::Complaints, t.t("complaints-title"));
    let any = || Some(t.t("filter-any"));
    let page = ComplaintsPage {
        rows: items
            .into_iter()
            .map(|item| list_row(&t, item, now))
            .collect(),
        statuses: choices(&t, "status", &statuses, &query.status, any()),
        channels: choices(&t, "channel", &channels, &query.channel, any()),
        flags: FLAGS
            .iter()
            .map(|flag| {
                (
                    (*flag).to_owned(),
                    t.t(&format!("flag-{flag}")),
                    *flag == query.flag,
                )
            })
            .fold(
                vec![(String::new(), t.t("filter-any"), query.flag.is_empty())],
                |mut all, choice| {
                    all.push(choice);
                    all
                },
            ),
        overdue: vec![
            (String::new(), t.t("filter-any"), query.overdue.is_empty()),
            (
                "yes".into(),
                t.t("filter-overdue-yes"),
                query.overdue == "yes",
            ),
            ("no".into(), t.t("filter-overdue-no"), query.overdue == "no"),
        ],
        sorts: vec![
            ("filed".into(), t.t("sort-filed"), query.sort != "due"),
            ("due".into(), t.t("sort-due"), query.sort == "due"),
        ],
        owner: query.owner.clone(),
        category: query.category.clone(),
        customer_reference: query.customer_reference.clone(),
        problems,
        previous: (page > 1).then(|| page_link(page - 1)),
        next: more.then(|| page_link(page + 1)),
        page,
        c,
        t,
    };
    view::render(StatusCode::OK, &page)
}

/// Percent-encodes a query value.
pub(crate) fn encode(value: &str) -> String {
    let mut encoded = String::new();
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}
