//! The console's Reports page over HTTP, on both stores: who may read it, its table against the
//! API's JSON report for the same parameters, the drill-down from a figure to its complaints
//! and ledger positions (each a link to the auditor's view there), the CSV and SVG downloads
//! against the API's, refusals of bad parameters, and the page in Dutch.
//!
//! The data: on office-free UTC time from Monday 2 March 2026, alice keeps a promise on time
//! and lets another pass its due time, which the promise clock marks broken; bob (in alice's
//! team) files a complaint and promises nothing.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use obliged_storage::Role;
use serde_json::Value;

use crate::console::{between, Console, Page};
use crate::support::{for_each_store, Backend};

for_each_store!(
    only_leads_auditors_and_admins_read_reports,
    the_reports_table_holds_the_apis_figures_and_each_drills_down_to_its_evidence,
    downloads_are_the_apis_csv_and_svg_for_the_same_parameters,
    bad_report_parameters_get_the_form_with_the_reason_and_nothing_else,
    the_report_speaks_dutch_and_its_chart_is_labelled_by_its_title,
);

/// The default calendar (UTC, always open), a team, and a promise ladder whose rung at the due time marks the promise broken.
const POLICY: &str = r#"
[teams]
billing = ["alice", "bob"]

[[ladders.promise]]
name = "breach"
offset = "0"
mark_broken = true
remind = ["owner"]
"#;

/// The range, grouping and period of the report under test, as the form sends them.
const QUERY: &str = "from=2026-03-01&to=2026-03-31&group_by=owner%2Cperiod&period=week";
/// The same report as the API is asked for it.
const API_QUERY: &str =
    "from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z&group_by=owner,period&period=week";

/// The console with the scenario's data, a session per role, and an auditor's API token.
struct Seeded {
    console: Console,
    /// Session cookies by name.
    sessions: BTreeMap<&'static str, String>,
    token: String,
    kept: String,
    broken: String,
    bobs: String,
}

impl Seeded {
    async fn page(&self, who: &str, path: &str) -> Page {
        self.console.get(path, Some(&self.sessions[who])).await
    }

    /// An API answer as the auditor's token reads it.
    async fn api(&self, path: &str) -> Page {
        let bearer = format!("Bearer {}", self.token);
        let page = self
            .console
            .get_with(path, None, &[("authorization", &bearer)])
            .await;
        page.assert_status(StatusCode::OK);
        page
    }

    async fn api_json(&self, path: &str) -> Value {
        serde_json::from_str(&self.api(path).await.body).expect("JSON")
    }
}

/// The id of the promise the complaint page offers to keep (the only open one).
fn open_promise(page: &Page) -> String {
    let form = page
        .form("cmd-keep-promise")
        .expect("the keep-promise form");
    form.split("<option value=\"")
        .skip(1)
        .filter_map(|option| option.split('"').next())
        .find(|value| !value.is_empty())
        .expect("an open promise")
        .to_owned()
}

async fn seed(backend: Backend) -> Option<Seeded> {
    let policy = obliged::policy::parse(POLICY).expect("the test policy");
    let console = Console::start_with(backend, policy).await?;
    console
        .people(&[
            ("alice", Role::Agent),
            ("bob", Role::Agent),
            ("lena", Role::Lead),
            ("audrey", Role::Auditor),
            ("root", Role::Admin),
        ])
        .await;
    let mut sessions = BTreeMap::new();
    for name in ["alice", "bob"] {
        sessions.insert(name, console.sign_in(name).await);
    }
    let token = console
        .app
        .tokens
        .create("audit-api", Role::Auditor)
        .await
        .expect("a token")
        .secret;

    // Monday 09:00: a promise due Tuesday 10:00, kept ten minutes after it was made.
    let kept = console.file(&sessions["alice"]).await;
    let promise = [
        ("kind", "callback"),
        ("description", "Call back with the corrected invoice"),
        ("due_at", "2026-03-03T10:00"),
    ];
    console
        .ok(&sessions["alice"], &kept, "make-promise", &promise)
        .await;
    console.clock.advance(jiff::SignedDuration::from_mins(10));
    let promise_id = open_promise(&console.complaint(&sessions["alice"], &kept).await);
    console
        .ok(
            &sessions["alice"],
            &kept,
            "keep-promise",
            &[("promise_id", &promise_id), ("evidence", "Called back")],
        )
        .await;

    // The same promise on another complaint, left to pass its due time: the clock breaks it.
    let broken = console.file(&sessions["alice"]).await;
    console
        .ok(&sessions["alice"], &broken, "make-promise", &promise)
        .await;
    let bobs = console.file(&sessions["bob"]).await;
    console
        .clock
        .set("2026-03-03T11:00:00Z".parse().expect("timestamp"));
    let tick = console.tick().await;
    assert_eq!(tick.reached.len(), 1, "the breach rung: {tick:?}");
    // A day later the sessions of the morning have ended: everyone signs in now.
    for name in ["alice", "bob", "lena", "audrey", "root"] {
        sessions.insert(name, console.sign_in(name).await);
    }
    Some(Seeded {
        console,
        sessions,
        token,
        kept,
        broken,
        bobs,
    })
}

/// An agent may not see the report, its evidence or its downloads, nor the link to them; a
/// lead, an auditor and an admin may.
async fn only_leads_auditors_and_admins_read_reports(backend: Backend) {
    let Some(seeded) = seed(backend).await else {
        return;
    };
    let paths = [
        "/reports".to_owned(),
        format!("/reports?{QUERY}"),
        format!("/reports/evidence?{QUERY}&figure=promises_made"),
        format!("/reports/accountability.csv?{QUERY}"),
        format!("/reports/accountability.svg?{QUERY}"),
    ];
    for path in &paths {
        let refused = seeded.page("alice", path).await;
        refused.assert_status(StatusCode::FORBIDDEN);
        assert!(refused.body.contains("<h1 id=\"forbidden\">"), "{path}");
        assert!(!refused.body.contains("report-table"), "{path}");
        for who in ["lena", "audrey", "root"] {
            seeded.page(who, path).await.assert_status(StatusCode::OK);
        }
    }
    let agents = seeded.page("alice", "/my-work").await;
    assert!(!agents.body.contains("href=\"/reports\""));
    let leads = seeded.page("lena", "/my-work").await;
    assert!(leads.body.contains("href=\"/reports\""));
    // Signed out: to the sign-in page.
    let signed_out = seeded.console.get("/reports", None).await;
    signed_out.assert_status(StatusCode::SEE_OTHER);
}

/// `(group, figure) -> value` of the page's table, as its links carry them.
fn page_figures(page: &Page) -> BTreeMap<(String, String), String> {
    let table = between(&page.body, "id=\"report-table\"", "</table>").expect("the table");
    table
        .split("<a class=\"figure-link\"")
        .skip(1)
        .map(|link| {
            let attribute = |name: &str| {
                between(link, &format!("{name}=\""), "\"")
                    .unwrap_or_else(|| panic!("no {name} in {link}"))
                    .to_owned()
            };
            (
                (attribute("data-group"), attribute("data-figure")),
                attribute("data-value"),
            )
        })
        .collect()
}

/// The same map from the API's JSON report: a count, `numerator/denominator` of a rate,
/// `count/median/p90` (seconds) of durations.
fn api_figures(report: &Value) -> BTreeMap<(String, String), String> {
    let dimensions: Vec<&str> = report["group_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    let groups = report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|group| {
            let key = dimensions
                .iter()
                .map(|d| group["key"][d].as_str().unwrap())
                .collect::<Vec<_>>()
                .join("|");
            (key, group)
        })
        .chain([("*".to_owned(), &report["total"])]);
    let mut figures = BTreeMap::new();
    for (key, group) in groups {
        for (name, figure) in group["figures"].as_object().unwrap() {
            let seconds = |value: &Value| value.as_i64().map(|s| s.to_string()).unwrap_or_default();
            let value = if let Some(denominator) = figure.get("denominator") {
                format!("{}/{}", figure["numerator"], denominator)
            } else if figure.get("median_seconds").is_some() {
                format!(
                    "{}/{}/{}",
                    figure["count"],
                    seconds(&figure["median_seconds"]),
                    seconds(&figure["p90_seconds"])
                )
            } else {
                figure["value"].to_string()
            };
            figures.insert((key.clone(), name.clone()), value);
        }
    }
    figures
}

/// The evidence page's items: complaint id and the `href`s of its position links.
fn evidence_items(page: &Page) -> Vec<(String, Vec<String>)> {
    page.body
        .split("<tr class=\"evidence-item\"")
        .skip(1)
        .map(|row| {
            let row = &row[..row.find("</tr>").expect("a row ends")];
            let complaint = between(row, "data-complaint=\"", "\"").unwrap().to_owned();
            let positions = row
                .split("<a class=\"position-link\" href=\"")
                .skip(1)
                .map(|link| {
                    link.split('"')
                        .next()
                        .unwrap()
                        .replace("&#38;", "&")
                        .replace("&amp;", "&")
                })
                .collect();
            (complaint, positions)
        })
        .collect()
}

/// The link of one figure of the page's table.
fn figure_link(page: &Page, group: &str, figure: &str) -> String {
    let table = between(&page.body, "id=\"report-table\"", "</table>").expect("the table");
    let needle = format!("data-figure=\"{figure}\" data-group=\"{group}\"");
    let link = table
        .split("<a class=\"figure-link\" href=\"")
        .skip(1)
        .find(|link| link.contains(&needle))
        .unwrap_or_else(|| panic!("no link for {group} {figure}"));
    link.split('"')
        .next()
        .unwrap()
        .replace("&#38;", "&")
        .replace("&amp;", "&")
}

/// Every figure of the table is the API's for the same parameters; a figure opens exactly the
/// complaints behind it, each ledger position a link to the auditor's view there, at the
/// events the figure's definition names.
async fn the_reports_table_holds_the_apis_figures_and_each_drills_down_to_its_evidence(
    backend: Backend,
) {
    let Some(seeded) = seed(backend).await else {
        return;
    };
    let page = seeded.page("lena", &format!("/reports?{QUERY}")).await;
    page.assert_status(StatusCode::OK);
    let report = seeded
        .api_json(&format!(
            "/api/reports/accountability?{API_QUERY}&evidence=true"
        ))
        .await;
    let on_page = page_figures(&page);
    let expected = api_figures(&report);
    assert_eq!(on_page, expected);
    assert_eq!(
        on_page.len(),
        3 * 30,
        "alice's and bob's week and the total, 30 figures each: {:?}",
        on_page
            .keys()
            .map(|(group, _)| group)
            .collect::<std::collections::BTreeSet<_>>()
    );
    assert_eq!(on_page[&("*".into(), "promises_made".into())], "2");
    assert_eq!(on_page[&("*".into(), "promises_broken".into())], "1");
    assert_eq!(
        on_page[&("alice|2026-W10".into(), "kept_on_time_rate".into())],
        "1/2"
    );
    assert_eq!(
        on_page[&("bob|2026-W10".into(), "complaints_filed".into())],
        "1"
    );
    // Every figure is a link, and the range reads in the policy's zone.
    assert_eq!(
        page.body.matches("class=\"figure-link\"").count(),
        on_page.len()
    );
    assert!(page.body.contains("(UTC)"), "{}", page.body);

    // The broken promise: the complaint, and the positions of PromiseMade and PromiseBroken.
    let evidence_of = |group: &str, figure: &str| -> Vec<(String, Vec<u64>)> {
        let groups = report["groups"].as_array().unwrap();
        let group = if group == "*" {
            &report["total"]
        } else {
            groups
                .iter()
                .find(|g| {
                    format!(
                        "{}|{}",
                        g["key"]["owner"].as_str().unwrap(),
                        g["key"]["period"].as_str().unwrap()
                    ) == group
                })
                .expect("the group")
        };
        group["figures"][figure]["evidence"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| {
                (
                    item["complaint_id"].as_str().unwrap().to_owned(),
                    item["positions"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|p| p.as_u64().unwrap())
                        .collect(),
                )
            })
            .collect()
    };
    for (group, figure, complaints, last_event) in [
        (
            "*",
            "promises_broken",
            vec![&seeded.broken],
            "PromiseBroken",
        ),
        (
            "alice|2026-W10",
            "promises_kept_on_time",
            vec![&seeded.kept],
            "PromiseKept",
        ),
        (
            "bob|2026-W10",
            "complaints_filed",
            vec![&seeded.bobs],
            "ComplaintFiled",
        ),
    ] {
        let link = figure_link(&page, group, figure);
        assert!(link.starts_with("/reports/evidence?"), "{link}");
        let drilled = seeded.page("audrey", &link).await;
        drilled.assert_status(StatusCode::OK);
        assert!(
            drilled.body.contains(&format!("data-figure=\"{figure}\"")),
            "{}",
            drilled.body
        );
        let items = evidence_items(&drilled);
        let expected = evidence_of(group, figure);
        assert_eq!(
            items.iter().map(|(id, _)| id).collect::<Vec<_>>(),
            complaints,
            "{group} {figure}"
        );
        for ((id, links), (expected_id, positions)) in items.iter().zip(&expected) {
            assert_eq!(id, expected_id);
            let wanted: Vec<String> = positions
                .iter()
                .map(|n| format!("/complaints/{id}/audit?position={n}#entry-{n}"))
                .collect();
            assert_eq!(links, &wanted, "{group} {figure}");
            assert!(drilled.body.contains(&format!("href=\"/complaints/{id}\"")));
            // The last position is the event that made it count, in this complaint.
            let last = positions.last().expect("a position");
            let entry = seeded
                .api_json(&format!("/api/events?after={}&limit=1", last - 1))
                .await;
            let entry = &entry["events"][0];
            assert_eq!(entry["position"].as_u64(), Some(*last));
            assert_eq!(entry["complaint_id"].as_str(), Some(id.as_str()));
            assert_eq!(entry["type"].as_str(), Some(last_event), "{entry}");
        }
    }

    // The rate's evidence says how each item counted, in words.
    let rate = seeded
        .page(
            "lena",
            &figure_link(&page, "alice|2026-W10", "kept_on_time_rate"),
        )
        .await;
    assert_eq!(evidence_items(&rate).len(), 2);
    assert!(rate.body.contains("<td>Kept on time</td>"), "{}", rate.body);
    assert!(rate.body.contains("<td>Overdue</td>"), "{}", rate.body);

    // A group or figure the report does not have.
    for path in [
        format!("/reports/evidence?{QUERY}&group=carol&group=2026-W10&figure=promises_made"),
        format!("/reports/evidence?{QUERY}&figure=no_such_figure"),
        format!("/reports/evidence?{QUERY}"),
    ] {
        seeded
            .page("lena", &path)
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }
}

/// The downloads carry the API's bytes for the same parameters, as attachments.
async fn downloads_are_the_apis_csv_and_svg_for_the_same_parameters(backend: Backend) {
    let Some(seeded) = seed(backend).await else {
        return;
    };
    let page = seeded.page("audrey", &format!("/reports?{QUERY}")).await;
    for (format, content_type) in [("csv", "text/csv; charset=utf-8"), ("svg", "image/svg+xml")] {
        let href = between(
            &page.body,
            &format!("id=\"download-{format}\" class=\"button\" href=\""),
            "\"",
        )
        .expect("the download link")
        .replace("&#38;", "&")
        .replace("&amp;", "&");
        assert_eq!(href, format!("/reports/accountability.{format}?{QUERY}"));
        let file = seeded.page("audrey", &href).await;
        file.assert_status(StatusCode::OK);
        assert_eq!(file.header("content-type"), content_type);
        assert_eq!(
            file.header("content-disposition"),
            format!("attachment; filename=\"accountability-2026-03-01-2026-04-01.{format}\"")
        );
        let api = seeded
            .api(&format!(
                "/api/reports/accountability?{API_QUERY}&format={format}"
            ))
            .await;
        assert_eq!(file.body, api.body, "{format}");
    }
    let csv = seeded
        .page("audrey", &format!("/reports/accountability.csv?{QUERY}"))
        .await;
    assert!(
        csv.body.starts_with("owner,period,promises_made,"),
        "{}",
        csv.body
    );
}

/// A range that does not read, is empty or too long, an unknown grouping or period: the form
/// again with the reason (422), no report, on the page, the evidence page and the downloads.
async fn bad_report_parameters_get_the_form_with_the_reason_and_nothing_else(backend: Backend) {
    let Some(seeded) = seed(backend).await else {
        return;
    };
    let cases = [
        (
            "from=yesterday&to=2026-03-31&period=week",
            "“From” is not a date",
        ),
        (
            "from=2026-03-01&to=31-03-2026&period=week",
            "“To” is not a date",
        ),
        (
            "from=2026-03-31&to=2026-03-01&period=week",
            "“To” must be after “From”",
        ),
        (
            "from=2000-01-01&to=2026-03-31&period=week",
            "at most 3660 days",
        ),
        (
            "from=2026-03-01&to=2026-03-31&period=day",
            "“day” is not a period",
        ),
        (
            "from=2026-03-01&to=2026-03-31&period=week&group_by=colour",
            "“colour” is not something",
        ),
        (
            "from=2026-03-01&to=2026-03-31&period=week&group_by=owner&group_by=owner",
            "“owner” is chosen twice",
        ),
    ];
    for (query, reason) in cases {
        for path in [
            "/reports",
            "/reports/evidence",
            "/reports/accountability.csv",
            "/reports/accountability.svg",
        ] {
            let page = seeded
                .page("lena", &format!("{path}?{query}&figure=promises_made"))
                .await;
            page.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
            assert!(
                page.header("content-type").starts_with("text/html"),
                "{path}?{query}"
            );
            assert!(page.body.contains("id=\"report-form\""), "{path}?{query}");
            let refusal = between(&page.body, "id=\"report-refusal\"", "</div>")
                .unwrap_or_else(|| panic!("no refusal for {path}?{query}: {}", page.body));
            assert!(refusal.contains(reason), "{path}?{query}: {refusal}");
            assert!(!page.body.contains("id=\"report-table\""), "{path}?{query}");
            assert!(!page.body.contains("<svg"), "{path}?{query}");
        }
    }
    // What was typed stays in the form.
    let page = seeded
        .page("lena", "/reports?from=yesterday&to=2026-03-31&period=week")
        .await;
    assert!(page.body.contains("value=\"yesterday\""), "{}", page.body);
}

/// Without a range the report covers the last 30 days by week; in Dutch every word is Dutch;
/// the inline chart is an image named by its title and pointing to the table.
async fn the_report_speaks_dutch_and_its_chart_is_labelled_by_its_title(backend: Backend) {
    let Some(seeded) = seed(backend).await else {
        return;
    };
    let defaults = seeded.page("lena", "/reports").await;
    defaults.assert_status(StatusCode::OK);
    // The clock says Tuesday 3 March 2026.
    assert!(
        defaults
            .body
            .contains("name=\"from\" type=\"date\" value=\"2026-02-01\""),
        "{}",
        defaults.body
    );
    assert!(defaults
        .body
        .contains("name=\"to\" type=\"date\" value=\"2026-03-03\""));
    assert!(defaults.body.contains("<option value=\"week\" selected>"));
    assert!(defaults.body.contains("value=\"period\" checked"));
    assert!(!defaults.body.contains(" style=\""));

    let dutch = seeded
        .console
        .get_with(
            &format!("/reports?{QUERY}"),
            Some(&seeded.sessions["lena"]),
            &[("accept-language", "nl-NL,nl;q=0.9")],
        )
        .await;
    dutch.assert_status(StatusCode::OK);
    assert!(dutch.body.contains("<html lang=\"nl\">"));
    for words in [
        "Toezeggingen gedaan",
        "Aandeel op tijd nagekomen",
        "Groeperen op",
        "Totaal",
    ] {
        assert!(dutch.body.contains(words), "{words}");
    }
    let svg = between(&dutch.body, "<svg", "</svg>").expect("the chart");
    assert!(svg.contains("role=\"img\""), "{svg}");
    assert!(
        svg.contains("aria-labelledby=\"report-chart-title\""),
        "{svg}"
    );
    assert!(
        svg.contains("aria-describedby=\"report-chart-note\""),
        "{svg}"
    );
    assert!(
        svg.contains("<title id=\"report-chart-title\">Op tijd nagekomen per eigenaar"),
        "{svg}"
    );
    assert!(dutch.body.contains("id=\"report-chart-note\""));
    assert!(dutch.body.contains("href=\"#report-table\""));
    assert!(!dutch.body.contains("<?xml"));
}
