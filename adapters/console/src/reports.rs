//! Reports: the accountability report as a page (a GET form for the range, the grouping and the
//! period; the kept-on-time chart; a table of every figure per group), the evidence behind each
//! figure (its complaints and the ledger positions that made it count, each a link to the
//! auditor's view at that position), and the same report as CSV and SVG downloads.
//!
//! The figures are the projections' ([`obliged_projections::accountability_report`]) and the
//! downloads are the API's bytes ([`formats`]): the console only reads the form, lays the report
//! out and puts words on it.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp, ToSpan};
use obliged_domain::{
    AccountabilityReport, Dimension, Evidence, Figure, Group, Period, ReportParams,
    ReportParamsError, Value, MAX_RANGE_DAYS, NOT_APPLICABLE, UNASSIGNED,
};
use obliged_projections::formats::{self, ChartText, ReportFormat, TOTAL_MARKER};
use obliged_projections::ReportError;

use crate::i18n::Tr;
use crate::lists::short_id;
use crate::session::{Can, Staff};
use crate::view::{self, Chrome, Section};
use crate::ConsoleState;

/// How many days the report looks back when no range is given.
const DEFAULT_DAYS: i64 = 30;

/// The report form as it was sent (kept as typed, to show it again).
#[derive(Debug, Clone)]
struct ReportForm {
    from: String,
    to: String,
    group_by: Vec<String>,
    period: String,
}

/// What a request to a report page asks for: the form, and for the evidence page the group
/// (its dimension values in order; none for the total) and the figure.
struct Asked {
    form: ReportForm,
    group: Vec<String>,
    figure: Option<String>,
}

/// Percent-decodes a query component (`+` is a space).
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => out.push(b' '),
            b'%' if index + 2 < bytes.len() => {
                let hex = |byte: u8| (byte as char).to_digit(16);
                match (hex(bytes[index + 1]), hex(bytes[index + 2])) {
                    (Some(high), Some(low)) => {
                        out.push((high * 16 + low) as u8);
                        index += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
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

/// The query's pairs, decoded, in order (a name may repeat: the form's group-by checkboxes).
fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) => (decode(name), decode(value)),
            None => (decode(pair), String::new()),
        })
        .collect()
}

/// The form and the evidence page's choice from the query; what is missing takes the default:
/// the last 30 days up to and including today in the policy's zone, by ISO week, grouped by
/// period (a form sent with no grouping ticked asks for the total only).
fn asked(raw: Option<&str>, tr: &Tr, now: Timestamp) -> Asked {
    let pairs = pairs(raw);
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(named, _)| named == name)
            .map(|(_, value)| value.trim().to_owned())
            .unwrap_or_default()
    };
    let sent = pairs
        .iter()
        .any(|(name, _)| ["from", "to", "group_by", "period"].contains(&name.as_str()));
    let today = tr.zone().to_datetime(now).date();
    let mut group_by: Vec<String> = pairs
        .iter()
        .filter(|(name, _)| name == "group_by")
        .flat_map(|(_, value)| value.split(','))
        .map(|value| value.trim().to_owned())
        .filter(|value| !value.is_empty())
        .collect();
    if !sent {
        group_by = vec![Dimension::Period.as_str().to_owned()];
    }
    let or = |raw: String, default: String| if raw.is_empty() { default } else { raw };
    let from_default = today
        .checked_sub(DEFAULT_DAYS.days())
        .unwrap_or(today)
        .to_string();
    Asked {
        form: ReportForm {
            from: or(value("from"), from_default),
            to: or(value("to"), today.to_string()),
            group_by,
            period: or(value("period"), Period::Week.as_str().to_owned()),
        },
        group: pairs
            .iter()
            .filter(|(name, _)| name == "group")
            .map(|(_, value)| value.clone())
            .collect(),
        figure: Some(value("figure")).filter(|figure| !figure.is_empty()),
    }
}

/// An instant of the form: an RFC 3339 timestamp, a `datetime-local` value or a date in the
/// policy's zone. A date `to` means up to and including that day.
fn instant(tr: &Tr, raw: &str, end: bool) -> Option<Timestamp> {
    if let Ok(at) = raw.parse::<Timestamp>() {
        return Some(at);
    }
    if let Some(at) = tr.parse_datetime_local(raw) {
        return Some(at);
    }
    if raw.len() != 10 {
        return None;
    }
    let date: Date = raw.parse().ok()?;
    let date = if end { date.tomorrow().ok()? } else { date };
    date.to_zoned(tr.zone().clone())
        .ok()
        .map(|zoned| zoned.timestamp())
}

/// Why report parameters were refused, in the reader's words.
fn params_problem(tr: &Tr, error: &ReportParamsError) -> String {
    match error {
        ReportParamsError::EmptyRange { .. } => tr.t("reports-empty-range"),
        ReportParamsError::RangeTooLong { .. } => tr.t1(
            "reports-range-too-long",
            "days",
            &MAX_RANGE_DAYS.to_string(),
        ),
        ReportParamsError::UnknownDimension(raw) => {
            tr.t1("reports-unknown-dimension", "dimension", raw)
        }
        ReportParamsError::DuplicateDimension(dimension) => tr.t1(
            "reports-duplicate-dimension",
            "dimension",
            &dimension_label(tr, *dimension),
        ),
        ReportParamsError::UnknownPeriod(raw) => tr.t1("reports-unknown-period", "period", raw),
    }
}

/// The report's parameters from the form, or every reason it was refused.
fn params(tr: &Tr, form: &ReportForm) -> Result<ReportParams, Vec<String>> {
    let mut problems = Vec::new();
    let from = instant(tr, &form.from, false);
    if from.is_none() {
        problems.push(tr.t("reports-invalid-from"));
    }
    let to = instant(tr, &form.to, true);
    if to.is_none() {
        problems.push(tr.t("reports-invalid-to"));
    }
    let mut group_by = Vec::new();
    for raw in &form.group_by {
        match Dimension::parse(raw) {
            Ok(dimension) => group_by.push(dimension),
            Err(error) => problems.push(params_problem(tr, &error)),
        }
    }
    let period = Period::parse(&form.period).map_err(|error| params_problem(tr, &error));
    let period = match period {
        Ok(period) => Some(period),
        Err(problem) => {
            problems.push(problem);
            None
        }
    };
    match (from, to, period) {
        (Some(from), Some(to), Some(period)) if problems.is_empty() => {
            ReportParams::new(from, to, group_by, period)
                .map_err(|error| vec![params_problem(tr, &error)])
        }
        _ => Err(problems),
    }
}

/// The query of the report as the form asked for it (the range as typed, so every link of the
/// page reads the same range).
fn report_query(form: &ReportForm) -> String {
    format!(
        "from={}&to={}&group_by={}&period={}",
        encode(&form.from),
        encode(&form.to),
        encode(&form.group_by.join(",")),
        encode(&form.period)
    )
}

fn dimension_label(tr: &Tr, dimension: Dimension) -> String {
    tr.t(&format!("reports-dimension-{dimension}"))
}

/// A dimension's value as the reader reads it.
fn dimension_value(tr: &Tr, dimension: Dimension, value: &str) -> String {
    match dimension {
        Dimension::Owner | Dimension::Team if value == UNASSIGNED => tr.t("unassigned"),
        Dimension::Kind if value == NOT_APPLICABLE => tr.t("reports-kind-none"),
        Dimension::Kind => tr.value("promise-kind", value),
        Dimension::Channel => tr.value("channel", value),
        _ => value.to_owned(),
    }
}

/// A group as a heading: its values, or "Total".
fn group_label(tr: &Tr, group: &Group) -> String {
    if group.key.is_empty() {
        return tr.t("reports-total");
    }
    group
        .key
        .iter()
        .map(|(dimension, value)| dimension_value(tr, *dimension, value))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// A business time: "9 h 30 min".
fn duration(tr: &Tr, time: SignedDuration) -> String {
    let minutes = time.as_secs().max(0) / 60;
    let (hours, minutes) = (minutes / 60, minutes % 60);
    let hour = tr.t("unit-hour");
    let minute = tr.t("unit-minute");
    match (hours, minutes) {
        (0, minutes) => format!("{minutes} {minute}"),
        (hours, 0) => format!("{hours} {hour}"),
        (hours, minutes) => format!("{hours} {hour} {minutes} {minute}"),
    }
}

/// A figure's value as the table shows it, and as `data-value` carries it for programs: a
/// count; a rate as `numerator/denominator`; durations as `count/median/p90` in seconds.
fn figure_value(tr: &Tr, value: &Value) -> (String, String) {
    match *value {
        Value::Count(count) => (count.to_string(), count.to_string()),
        Value::Rate {
            numerator,
            denominator,
        } => {
            let text = match value.rate() {
                Some(rate) => tr.ta(
                    "reports-rate",
                    &[
                        ("percent", format!("{:.0}", rate * 100.0)),
                        ("numerator", numerator.to_string()),
                        ("denominator", denominator.to_string()),
                    ],
                ),
                None => tr.t("reports-no-value"),
            };
            (text, format!("{numerator}/{denominator}"))
        }
        Value::Durations { count, median, p90 } => {
            let seconds = |time: Option<SignedDuration>| {
                time.map_or(String::new(), |t| t.as_secs().to_string())
            };
            let text = match (median, p90) {
                (Some(median), Some(p90)) => tr.ta(
                    "reports-durations",
                    &[
                        ("median", duration(tr, median)),
                        ("p90", duration(tr, p90)),
                        ("count", count.to_string()),
                    ],
                ),
                _ => tr.t("reports-no-value"),
            };
            (
                text,
                format!("{count}/{}/{}", seconds(median), seconds(p90)),
            )
        }
    }
}

/// An evidence item's detail in words: a rate's outcome, an escalation's target and reason, a
/// hand-back's reason.
fn detail(tr: &Tr, figure: &str, detail: &str) -> String {
    if let Some((target, reason)) = detail.split_once('/') {
        return tr.ta(
            "reports-detail-escalation",
            &[
                ("target", tr.value("escalation-target", target)),
                ("reason", tr.value("escalation-reason", reason)),
            ],
        );
    }
    if figure == "hand_backs" {
        return tr.value("hand-back-reason", detail);
    }
    tr.value("reports-detail", detail)
}

/// One cell of the table: a figure of a group, linking to its evidence.
struct Cell {
    figure: &'static str,
    text: String,
    value: String,
    /// The group's values joined with `|` (`*` for the total), for programs.
    group: String,
    link: String,
}

struct Row {
    figure: &'static str,
    label: String,
    cells: Vec<Cell>,
}

struct Column {
    label: String,
    total: bool,
}

/// A choice of a select or a checkbox: value, label, chosen.
type Choice = (String, String, bool);

/// The form's fields as the page shows them.
struct FormView {
    from: String,
    from_type: &'static str,
    to: String,
    to_type: &'static str,
    dimensions: Vec<Choice>,
    periods: Vec<Choice>,
    zone: String,
}

/// The report as the page lays it out.
struct ReportView {
    range: String,
    through: String,
    chart: String,
    columns: Vec<Column>,
    rows: Vec<Row>,
    csv: String,
    svg: String,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    t: Tr,
    c: Chrome,
    form: FormView,
    problems: Vec<String>,
    report: Option<ReportView>,
}

/// The `type` of a range field for what it holds, so the browser shows it as typed.
fn input_type(tr: &Tr, raw: &str) -> &'static str {
    if raw.len() == 10 && raw.parse::<Date>().is_ok() {
        "date"
    } else if tr.parse_datetime_local(raw).is_some() {
        "datetime-local"
    } else {
        "text"
    }
}

fn form_view(tr: &Tr, form: &ReportForm) -> FormView {
    FormView {
        from_type: input_type(tr, &form.from),
        from: form.from.clone(),
        to_type: input_type(tr, &form.to),
        to: form.to.clone(),
        dimensions: Dimension::ALL
            .iter()
            .map(|dimension| {
                (
                    dimension.as_str().to_owned(),
                    dimension_label(tr, *dimension),
                    form.group_by.iter().any(|raw| raw == dimension.as_str()),
                )
            })
            .collect(),
        periods: Period::ALL
            .iter()
            .map(|period| {
                (
                    period.as_str().to_owned(),
                    tr.t(&format!("reports-period-{period}")),
                    form.period == period.as_str(),
                )
            })
            .collect(),
        zone: tr.zone().iana_name().unwrap_or("UTC").to_owned(),
    }
}

/// The form again with the reasons it was refused (422), and no report.
fn refused(staff: &Staff, form: &ReportForm, problems: Vec<String>) -> Response {
    let t = staff.tr.clone();
    let c = Chrome::signed_in(staff, Section::Reports, t.t("reports-title"));
    let page = ReportsPage {
        form: form_view(&t, form),
        problems,
        report: None,
        c,
        t,
    };
    view::render(StatusCode::UNPROCESSABLE_ENTITY, &page)
}

/// The report of the ledger as it stands, or the page that explains why there is none.
async fn build(
    state: &ConsoleState,
    staff: &Staff,
    params: ReportParams,
) -> Result<AccountabilityReport, Response> {
    obliged_projections::accountability_report(state.engine.ledger(), state.engine.policy(), params)
        .await
        .map_err(|error| {
            tracing::warn!(%error, "building a report for the console");
            let status = match error {
                ReportError::Ledger(_) => StatusCode::SERVICE_UNAVAILABLE,
                ReportError::Decode { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            };
            view::error_page(staff.tr.lang, status, "reports-error")
        })
}

/// Reads the request: the person may read reports, and the form is valid.
fn read_request(
    state: &ConsoleState,
    staff: &Staff,
    raw: Option<&str>,
) -> Result<(Asked, ReportParams), Response> {
    staff.require(Can::Report)?;
    let asked = asked(raw, &staff.tr, state.engine.now());
    match params(&staff.tr, &asked.form) {
        Ok(params) => Ok((asked, params)),
        Err(problems) => Err(refused(staff, &asked.form, problems)),
    }
}

/// The range in words: "from … to … (zone)".
fn range_text(tr: &Tr, params: &ReportParams) -> String {
    tr.ta(
        "reports-range",
        &[
            ("from", tr.datetime(params.from())),
            ("to", tr.datetime(params.to())),
            ("zone", tr.zone().iana_name().unwrap_or("UTC").to_owned()),
        ],
    )
}

/// The chart in the reader's words, to sit inline in the page.
fn chart(tr: &Tr, report: &AccountabilityReport) -> String {
    let series = formats::chart_series(&report.params);
    let point = |name: &str, period: &str, numerator: u64, denominator: u64| {
        tr.ta(
            "reports-chart-point",
            &[
                ("name", name.to_owned()),
                ("period", period.to_owned()),
                ("numerator", numerator.to_string()),
                ("denominator", denominator.to_string()),
                (
                    "percent",
                    format!("{:.0}", numerator as f64 / denominator as f64 * 100.0),
                ),
            ],
        )
    };
    let series_label = dimension_label(tr, series);
    let text = ChartText {
        title: tr.ta(
            "reports-chart-title",
            &[
                ("series", series_label.clone()),
                ("from", tr.datetime(report.params.from())),
                ("to", tr.datetime(report.params.to())),
            ],
        ),
        y_axis: tr.t("reports-chart-y-axis"),
        x_axis: tr.t1(
            "reports-chart-x-axis",
            "period",
            &tr.t(&format!("reports-period-{}", report.params.period())),
        ),
        legend: series_label,
        empty: tr.t("reports-chart-empty"),
        no_verdicts: format!(" ({})", tr.t("reports-chart-no-verdicts")),
        point: &point,
        inline: Some(("report-chart", "report-chart-note")),
    };
    formats::chart(report, &text)
}

/// The link to a figure's evidence.
fn evidence_link(query: &str, group: &Group, figure: &str) -> String {
    let mut link = format!("/reports/evidence?{query}");
    for (_, value) in &group.key {
        link.push_str(&format!("&group={}", encode(value)));
    }
    link.push_str(&format!("&figure={}", encode(figure)));
    link
}

fn report_view(
    tr: &Tr,
    form: &ReportForm,
    report: &AccountabilityReport,
    chart_report: &AccountabilityReport,
) -> ReportView {
    let query = report_query(form);
    let groups: Vec<&Group> = report.groups.iter().chain([&report.total]).collect();
    let columns = groups
        .iter()
        .map(|group| Column {
            label: group_label(tr, group),
            total: group.key.is_empty(),
        })
        .collect();
    let rows = report
        .total
        .figures
        .iter()
        .map(|total| Row {
            figure: total.name,
            label: tr.t(&format!("reports-figure-{}", total.name)),
            cells: groups
                .iter()
                .filter_map(|group| {
                    let figure = group.figure(total.name)?;
                    let (text, value) = figure_value(tr, &figure.value);
                    Some(Cell {
                        figure: figure.name,
                        text,
                        value,
                        group: if group.key.is_empty() {
                            TOTAL_MARKER.to_owned()
                        } else {
                            group
                                .key
                                .iter()
                                .map(|(_, value)| value.as_str())
                                .collect::<Vec<_>>()
                                .join("|")
                        },
                        link: evidence_link(&query, group, figure.name),
                    })
                })
                .collect(),
        })
        .collect();
    ReportView {
        range: range_text(tr, &report.params),
        through: tr.t1(
            "reports-through",
            "position",
            &report.through_position.to_string(),
        ),
        chart: chart(tr, chart_report),
        columns,
        rows,
        csv: format!("/reports/accountability.csv?{query}"),
        svg: format!("/reports/accountability.svg?{query}"),
    }
}

/// `GET /reports`: the form, and the report it asks for (by default the last 30 days by week).
pub async fn page(
    State(state): State<ConsoleState>,
    staff: Staff,
    RawQuery(raw): RawQuery,
) -> Response {
    let (asked, params) = match read_request(&state, &staff, raw.as_deref()) {
        Ok(read) => read,
        Err(response) => return response,
    };
    let chart_params = match ReportFormat::Svg.params(params.clone()) {
        Ok(params) => params,
        Err(error) => {
            let problem = params_problem(&staff.tr, &error);
            return refused(&staff, &asked.form, vec![problem]);
        }
    };
    let report = match build(&state, &staff, params).await {
        Ok(report) => report,
        Err(response) => return response,
    };
    let chart_report = match build(&state, &staff, chart_params).await {
        Ok(report) => report,
        Err(response) => return response,
    };
    let t = staff.tr.clone();
    let c = Chrome::signed_in(&staff, Section::Reports, t.t("reports-title"));
    let page = ReportsPage {
        form: form_view(&t, &asked.form),
        problems: Vec::new(),
        report: Some(report_view(&t, &asked.form, &report, &chart_report)),
        c,
        t,
    };
    view::render(StatusCode::OK, &page)
}

/// One evidence item as the drill-down lists it.
struct ItemView {
    complaint: String,
    short: String,
    /// The promise or obligation it concerns, in words; empty for the complaint itself.
    subject: String,
    /// (position, link to the auditor's view at that position)
    positions: Vec<(u64, String)>,
    detail: String,
    business_time: String,
}

#[derive(Template)]
#[template(path = "report_evidence.html")]
struct EvidencePage {
    t: Tr,
    c: Chrome,
    figure: String,
    figure_slug: &'static str,
    group: String,
    value: String,
    range: String,
    back: String,
    items: Vec<ItemView>,
}

fn item_view(tr: &Tr, figure: &Figure, item: &Evidence) -> ItemView {
    let complaint = item.complaint_id.to_string();
    let subject = match (item.promise_id, item.obligation_no) {
        (Some(promise_id), _) => tr.t1(
            "reports-evidence-promise",
            "id",
            &short_id(&promise_id.to_string()),
        ),
        (None, Some(number)) => tr.t1("reports-evidence-obligation", "no", &number.to_string()),
        (None, None) => String::new(),
    };
    ItemView {
        short: short_id(&complaint),
        positions: item
            .positions
            .iter()
            .map(|&position| {
                (
                    position,
                    format!("/complaints/{complaint}/audit?position={position}#entry-{position}"),
                )
            })
            .collect(),
        detail: item
            .detail
            .as_deref()
            .map(|slug| detail(tr, figure.name, slug))
            .unwrap_or_default(),
        business_time: item
            .business_time
            .map(|time| duration(tr, time))
            .unwrap_or_default(),
        subject,
        complaint,
    }
}

/// `GET /reports/evidence`: what made one figure of one group count.
pub async fn evidence(
    State(state): State<ConsoleState>,
    staff: Staff,
    RawQuery(raw): RawQuery,
) -> Response {
    let (asked, params) = match read_request(&state, &staff, raw.as_deref()) {
        Ok(read) => read,
        Err(response) => return response,
    };
    let report = match build(&state, &staff, params).await {
        Ok(report) => report,
        Err(response) => return response,
    };
    let group = if asked.group.is_empty() {
        Some(&report.total)
    } else {
        report.groups.iter().find(|group| {
            group.key.len() == asked.group.len()
                && group
                    .key
                    .iter()
                    .zip(&asked.group)
                    .all(|((_, value), asked)| value == asked)
        })
    };
    let figure = group.and_then(|group| {
        asked
            .figure
            .as_deref()
            .and_then(|name| group.figure(name))
            .map(|figure| (group, figure))
    });
    let Some((group, figure)) = figure else {
        return view::error_page(staff.tr.lang, StatusCode::NOT_FOUND, "reports-no-figure");
    };
    let t = staff.tr.clone();
    let label = t.t(&format!("reports-figure-{}", figure.name));
    let c = Chrome::signed_in(&staff, Section::Reports, label.clone());
    let page = EvidencePage {
        figure: label,
        figure_slug: figure.name,
        group: group_label(&t, group),
        value: figure_value(&t, &figure.value).0,
        range: range_text(&t, &report.params),
        back: format!("/reports?{}", report_query(&asked.form)),
        items: figure
            .evidence
            .iter()
            .map(|item| item_view(&t, figure, item))
            .collect(),
        c,
        t,
    };
    view::render(StatusCode::OK, &page)
}

/// The report as a file to download, with the API's bytes for the same parameters.
async fn download(
    state: ConsoleState,
    staff: Staff,
    raw: Option<String>,
    format: ReportFormat,
) -> Response {
    let (asked, params) = match read_request(&state, &staff, raw.as_deref()) {
        Ok(read) => read,
        Err(response) => return response,
    };
    let params = match format.params(params) {
        Ok(params) => params,
        Err(error) => {
            let problem = params_problem(&staff.tr, &error);
            return refused(&staff, &asked.form, vec![problem]);
        }
    };
    let report = match build(&state, &staff, params).await {
        Ok(report) => report,
        Err(response) => return response,
    };
    let zone = staff.tr.zone();
    let day = |at: Timestamp| zone.to_datetime(at).date().to_string();
    let extension = match format {
        ReportFormat::Csv => "csv",
        ReportFormat::Svg => "svg",
        ReportFormat::Json => "json",
    };
    let filename = format!(
        "accountability-{}-{}.{extension}",
        day(report.params.from()),
        day(report.params.to())
    );
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
                    .expect("a file name of digits, dashes and a dot"),
            ),
        ],
        format.render(&report, false),
    )
        .into_response()
}

/// `GET /reports/accountability.csv`
pub async fn csv(
    State(state): State<ConsoleState>,
    staff: Staff,
    RawQuery(raw): RawQuery,
) -> Response {
    download(state, staff, raw, ReportFormat::Csv).await
}

/// `GET /reports/accountability.svg`
pub async fn svg(
    State(state): State<ConsoleState>,
    staff: Staff,
    RawQuery(raw): RawQuery,
) -> Response {
    download(state, staff, raw, ReportFormat::Svg).await
}

#[cfg(test)]
mod tests {
    use obliged_domain::FIGURES;

    use super::*;
    use crate::i18n::Lang;

    /// Every figure, dimension, period and detail of the report has words in both languages.
    #[test]
    fn every_report_word_is_in_both_languages() {
        for lang in Lang::ALL {
            let tr = Tr::new(lang, jiff::tz::TimeZone::UTC);
            let keys = FIGURES
                .iter()
                .map(|figure| format!("reports-figure-{figure}"))
                .chain(
                    Dimension::ALL
                        .iter()
                        .map(|dimension| format!("reports-dimension-{dimension}")),
                )
                .chain(
                    Period::ALL
                        .iter()
                        .map(|period| format!("reports-period-{period}")),
                )
                .chain(
                    [
                        "kept-on-time",
                        "kept-late",
                        "withdrawn",
                        "overdue",
                        "reopened",
                        "not-reopened",
                    ]
                    .iter()
                    .map(|detail| format!("reports-detail-{detail}")),
                );
            for key in keys {
                assert_ne!(tr.t(&key), key, "{key} in {lang:?}");
            }
            assert_eq!(
                detail(&tr, "escalations", "lead/repeat-contacts"),
                match lang {
                    Lang::En => "Team lead: Repeated contacts",
                    Lang::Nl => "Teamleider: Herhaald contact",
                }
            );
        }
    }

    #[test]
    fn business_times_read_in_hours_and_minutes() {
        let tr = Tr::new(Lang::En, jiff::tz::TimeZone::UTC);
        assert_eq!(duration(&tr, SignedDuration::from_mins(45)), "45 min");
        assert_eq!(duration(&tr, SignedDuration::from_hours(9)), "9 h");
        assert_eq!(duration(&tr, SignedDuration::from_mins(570)), "9 h 30 min");
    }

    #[test]
    fn a_date_to_includes_its_day_in_the_zone() {
        let tr = Tr::new(
            Lang::En,
            jiff::tz::TimeZone::get("Europe/Amsterdam").expect("tzdb"),
        );
        let at = |raw: &str| raw.parse::<Timestamp>().expect("timestamp");
        assert_eq!(
            instant(&tr, "2026-12-01", false),
            Some(at("2026-11-30T23:00:00Z"))
        );
        assert_eq!(
            instant(&tr, "2026-12-01", true),
            Some(at("2026-12-01T23:00:00Z"))
        );
        assert_eq!(
            instant(&tr, "2026-12-01T10:00", true),
            Some(at("2026-12-01T09:00:00Z"))
        );
        assert_eq!(
            instant(&tr, "2026-12-01T10:00:00Z", false),
            Some(at("2026-12-01T10:00:00Z"))
        );
        for raw in ["", "yesterday", "2026-13-01", "01-12-2026"] {
            assert_eq!(instant(&tr, raw, false), None, "{raw:?}");
        }
    }

    #[test]
    fn query_components_decode() {
        assert_eq!(decode("a+b%2Cc"), "a b,c");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz"), "%zz");
        assert_eq!(decode("team%3Abilling"), "team:billing");
        assert_eq!(decode(&encode("team:billing, é")), "team:billing, é");
    }
}
