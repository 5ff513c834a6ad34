//! The accountability report as people and programs read it: JSON (every figure with its
//! evidence), CSV (one row per group, the total last) and an SVG line chart of the kept-on-time
//! rate per owner or team over the periods. Shared by the HTTP endpoint and the CLI, so both
//! give the same bytes for the same report.

use std::fmt::Write;

use obliged_domain::{
    AccountabilityReport, Dimension, Evidence, Figure, Group, ReportParams, ReportParamsError,
    Value,
};
use serde_json::{json, Map, Value as Json};

/// The marker of the total row in the dimension columns of the CSV (no dimension value can
/// contain it).
pub const TOTAL_MARKER: &str = "*";

/// How a report is rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Json,
    Csv,
    Svg,
}

impl ReportFormat {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim() {
            "json" => Some(Self::Json),
            "csv" => Some(Self::Csv),
            "svg" => Some(Self::Svg),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Csv => "text/csv; charset=utf-8",
            Self::Svg => "image/svg+xml",
        }
    }

    /// The parameters to build the report with: the chart always needs its series (team if
    /// asked for, else owner) by period, whatever grouping was asked for.
    pub fn params(self, params: ReportParams) -> Result<ReportParams, ReportParamsError> {
        match self {
            Self::Json | Self::Csv => Ok(params),
            Self::Svg => params.regrouped(vec![chart_series(&params), Dimension::Period]),
        }
    }

    /// The report rendered; `evidence` applies to JSON only.
    pub fn render(self, report: &AccountabilityReport, evidence: bool) -> String {
        match self {
            Self::Json => {
                let mut text = serde_json::to_string_pretty(&json_report(report, evidence))
                    .expect("JSON values always serialize");
                text.push('\n');
                text
            }
            Self::Csv => csv(report),
            Self::Svg => svg(report),
        }
    }
}

/// What the chart draws one line for: teams when the report is grouped by team, else owners.
pub fn chart_series(params: &ReportParams) -> Dimension {
    if params.group_by().contains(&Dimension::Team) {
        Dimension::Team
    } else {
        Dimension::Owner
    }
}

fn seconds(duration: Option<jiff::SignedDuration>) -> Json {
    duration.map_or(Json::Null, |duration| json!(duration.as_secs()))
}

fn evidence_json(item: &Evidence) -> Json {
    let mut object = Map::new();
    object.insert("complaint_id".into(), json!(item.complaint_id));
    if let Some(promise_id) = item.promise_id {
        object.insert("promise_id".into(), json!(promise_id));
    }
    if let Some(obligation_no) = item.obligation_no {
        object.insert("obligation_no".into(), json!(obligation_no));
    }
    object.insert("positions".into(), json!(item.positions));
    if let Some(detail) = &item.detail {
        object.insert("detail".into(), json!(detail));
    }
    if let Some(time) = item.business_time {
        object.insert("business_seconds".into(), json!(time.as_secs()));
    }
    Json::Object(object)
}

fn figure_json(figure: &Figure, evidence: bool) -> Json {
    let mut object = match figure.value {
        Value::Count(count) => json!({ "value": count }),
        Value::Rate {
            numerator,
            denominator,
        } => json!({
            "value": figure.value.rate(),
            "numerator": numerator,
            "denominator": denominator,
        }),
        Value::Durations { count, median, p90 } => json!({
            "count": count,
            "median_seconds": seconds(median),
            "p90_seconds": seconds(p90),
        }),
    };
    if evidence {
        object["evidence"] = figure.evidence.iter().map(evidence_json).collect();
    }
    object
}

fn group_json(group: &Group, evidence: bool) -> Json {
    let key: Map<String, Json> = group
        .key
        .iter()
        .map(|(dimension, value)| (dimension.as_str().to_owned(), json!(value)))
        .collect();
    let figures: Map<String, Json> = group
        .figures
        .iter()
        .map(|figure| (figure.name.to_owned(), figure_json(figure, evidence)))
        .collect();
    json!({ "key": key, "figures": figures })
}

/// The report as JSON; without `evidence`, figures carry their values only.
pub fn json_report(report: &AccountabilityReport, evidence: bool) -> Json {
    let params = &report.params;
    json!({
        "report": "accountability",
        "from": params.from(),
        "to": params.to(),
        "group_by": params.group_by().iter().map(Dimension::as_str).collect::<Vec<_>>(),
        "period": params.period().as_str(),
        "time_zone": report.time_zone,
        "periods": report.periods,
        "through_position": report.through_position,
        "groups": report.groups.iter().map(|group| group_json(group, evidence)).collect::<Vec<_>>(),
        "total": group_json(&report.total, evidence),
    })
}

/// A CSV field, quoted when it needs to be (RFC 4180). A field a spreadsheet would read as a
/// formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) is neutralized the way
/// OWASP recommends: a leading `'` makes it text, and the field is quoted. Only text reaches
/// here that way (owner, team, category names); the figures are never negative.
fn csv_field(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("\"'{}\"", text.replace('"', "\"\""))
    } else if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn csv_line(out: &mut String, fields: impl IntoIterator<Item = String>) {
    let fields: Vec<String> = fields.into_iter().map(|field| csv_field(&field)).collect();
    out.push_str(&fields.join(","));
    out.push_str("\r\n");
}

/// The report as CSV: a header, one row per group, and the total (its dimension columns `*`).
/// A count is one column; a rate one column (a fraction, empty when nothing counts); a duration
/// three (`_count`, `_median_seconds`, `_p90_seconds`).
pub fn csv(report: &AccountabilityReport) -> String {
    let mut out = String::new();
    let dimensions = report.params.group_by();
    let mut header: Vec<String> = dimensions.iter().map(|d| d.as_str().to_owned()).collect();
    for figure in &report.total.figures {
        match figure.value {
            Value::Count(_) | Value::Rate { .. } => header.push(figure.name.to_owned()),
            Value::Durations { .. } => {
                for suffix in ["count", "median_seconds", "p90_seconds"] {
                    header.push(format!("{}_{suffix}", figure.name));
                }
            }
        }
    }
    csv_line(&mut out, header);
    let total_key: Vec<String> = dimensions.iter().map(|_| TOTAL_MARKER.to_owned()).collect();
    let rows = report
        .groups
        .iter()
        .map(|group| {
            (
                group.key.iter().map(|(_, value)| value.clone()).collect(),
                group,
            )
        })
        .chain([(total_key, &report.total)]);
    for (key, group) in rows {
        let mut fields: Vec<String> = key;
        for figure in &group.figures {
            match figure.value {
                Value::Count(count) => fields.push(count.to_string()),
                Value::Rate { .. } => fields.push(
                    figure
                        .value
                        .rate()
                        .map(|rate| rate.to_string())
                        .unwrap_or_default(),
                ),
                Value::Durations { count, median, p90 } => {
                    fields.push(count.to_string());
                    for value in [median, p90] {
                        fields.push(value.map(|d| d.as_secs().to_string()).unwrap_or_default());
                    }
                }
            }
        }
        csv_line(&mut out, fields);
    }
    out
}

/// Text made safe for XML content and attribute values.
fn xml(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// Distinguishable line colours (the Okabe-Ito palette and a few more), reused in turn.
const PALETTE: [&str; 10] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#000000", "#F0E442",
    "#7F7F7F", "#882255",
];

/// One line of the chart: the kept-on-time rate (kept, with a verdict) of each period.
struct Series {
    name: String,
    points: Vec<Option<(u64, u64)>>,
}

fn chart_lines(report: &AccountabilityReport, series: Dimension) -> Vec<Series> {
    let mut lines: Vec<Series> = Vec::new();
    for group in &report.groups {
        let (Some(name), Some(period)) =
            (group.dimension(series), group.dimension(Dimension::Period))
        else {
            continue;
        };
        let index = match lines.iter().position(|line| line.name == name) {
            Some(index) => index,
            None => {
                lines.push(Series {
                    name: name.to_owned(),
                    points: vec![None; report.periods.len()],
                });
                lines.len() - 1
            }
        };
        let Some(slot) = report.periods.iter().position(|known| known == period) else {
            continue;
        };
        if let Some(Value::Rate {
            numerator,
            denominator,
        }) = group.figure("kept_on_time_rate").map(|figure| figure.value)
        {
            if denominator > 0 {
                lines[index].points[slot] = Some((numerator, denominator));
            }
        }
    }
    lines.sort_by(|a, b| a.name.cmp(&b.name));
    lines
}

/// The words of a chart, in the reader's language, and how it sits on a page.
pub struct ChartText<'a> {
    /// The chart's title (its `<title>` and its heading).
    pub title: String,
    /// The y axis: the kept-on-time rate.
    pub y_axis: String,
    /// The x axis: the periods.
    pub x_axis: String,
    /// The legend's heading: what a line stands for (owner or team).
    pub legend: String,
    /// Shown instead of lines when there is nothing to draw.
    pub empty: String,
    /// After a legend entry whose line has no point.
    pub no_verdicts: String,
    /// A point's tooltip from its line, period, numerator and denominator.
    pub point: &'a dyn Fn(&str, &str, u64, u64) -> String,
    /// For a chart inside an HTML page, `(id, described_by)`: no XML declaration, and the root
    /// is an image named by its title (`{id}-title`) and described by the element
    /// `described_by` (the table of the same figures).
    pub inline: Option<(&'a str, &'a str)>,
}

/// The report as an SVG line chart of the kept-on-time rate per owner (or per team, when the
/// report is grouped by team) in each period. A period where a line has no promise with a
/// verdict is a gap; a line with none at all is listed in the legend only.
pub fn svg(report: &AccountabilityReport) -> String {
    let series = chart_series(&report.params);
    let point = |name: &str, period: &str, numerator: u64, denominator: u64| {
        format!(
            "{name} in {period}: {numerator} of {denominator} kept on time ({:.0}%)",
            numerator as f64 / denominator as f64 * 100.0
        )
    };
    chart(
        report,
        &ChartText {
            title: format!(
                "Kept-on-time rate per {series}, {} to {}",
                report.params.from(),
                report.params.to()
            ),
            y_axis: "kept on time (of promises with a verdict)".to_owned(),
            x_axis: format!("{} ({})", Dimension::Period, report.params.period()),
            legend: series.to_string(),
            empty: "no promises or complaints in this range".to_owned(),
            no_verdicts: " (no verdicts)".to_owned(),
            point: &point,
            inline: None,
        },
    )
}

/// The chart of [`svg`] with the words of `text`.
pub fn chart(report: &AccountabilityReport, text: &ChartText<'_>) -> String {
    let series = chart_series(&report.params);
    let lines = chart_lines(report, series);
    let periods = &report.periods;
    let (left, top, plot_width, plot_height) = (70.0, 60.0, 560.0_f64, 300.0_f64);
    let legend_x = left + plot_width + 30.0;
    let legend_height = 20.0 * lines.len() as f64;
    let width = legend_x + 200.0;
    let height = (top + plot_height + 90.0).max(top + legend_height + 20.0);
    let x_of = |slot: usize| {
        if periods.len() <= 1 {
            left + plot_width / 2.0
        } else {
            left + plot_width * slot as f64 / (periods.len() - 1) as f64
        }
    };
    let y_of = |rate: f64| top + plot_height * (1.0 - rate);

    let mut out = String::new();
    let (labelled, title_id) = match text.inline {
        None => {
            let _ = writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
            (String::new(), String::new())
        }
        Some((id, described_by)) => (
            format!(
                r#" id="{0}" role="img" aria-labelledby="{0}-title" aria-describedby="{1}""#,
                xml(id),
                xml(described_by)
            ),
            format!(r#" id="{}-title""#, xml(id)),
        ),
    };
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg"{labelled} width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    let title = &text.title;
    let _ = writeln!(out, "<title{title_id}>{}</title>", xml(title));
    let _ = writeln!(
        out,
        r#"<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>"#
    );
    let _ = writeln!(
        out,
        r#"<text x="{left}" y="30" font-size="16" font-weight="bold">{}</text>"#,
        xml(title)
    );

    // The y axis: 0 % to 100 %, a grid line every quarter.
    for step in 0..=4 {
        let rate = f64::from(step) / 4.0;
        let y = y_of(rate);
        let _ = writeln!(
            out,
            "<line x1=\"{left}\" y1=\"{y}\" x2=\"{}\" y2=\"{y}\" stroke=\"#dddddd\"/>",
            left + plot_width
        );
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" text-anchor="end">{}%</text>"#,
            left - 8.0,
            y + 4.0,
            step * 25
        );
    }
    let _ = writeln!(
        out,
        "<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{}\" stroke=\"#333333\"/>",
        top + plot_height
    );
    let _ = writeln!(
        out,
        "<line x1=\"{left}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" stroke=\"#333333\"/>",
        top + plot_height,
        left + plot_width
    );
    let _ = writeln!(
        out,
        r#"<text x="20" y="{0}" text-anchor="middle" transform="rotate(-90 20 {0})">{1}</text>"#,
        top + plot_height / 2.0,
        xml(&text.y_axis)
    );

    // The x axis: one tick per period.
    let slanted = periods.len() > 8;
    for (slot, period) in periods.iter().enumerate() {
        let x = x_of(slot);
        let y = top + plot_height;
        let _ = writeln!(
            out,
            "<line x1=\"{x}\" y1=\"{y}\" x2=\"{x}\" y2=\"{}\" stroke=\"#333333\"/>",
            y + 5.0
        );
        if slanted {
            let _ = writeln!(
                out,
                r#"<text x="{x}" y="{0}" text-anchor="end" transform="rotate(-45 {x} {0})">{1}</text>"#,
                y + 18.0,
                xml(period)
            );
        } else {
            let _ = writeln!(
                out,
                r#"<text x="{x}" y="{}" text-anchor="middle">{}</text>"#,
                y + 20.0,
                xml(period)
            );
        }
    }
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
        left + plot_width / 2.0,
        top + plot_height + 70.0,
        xml(&text.x_axis)
    );

    if lines.is_empty() {
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" text-anchor="middle">{}</text>"#,
            left + plot_width / 2.0,
            top + plot_height / 2.0,
            xml(&text.empty)
        );
    }

    // One line per series, broken where a period has no verdict; a dot per point.
    for (index, line) in lines.iter().enumerate() {
        let colour = PALETTE[index % PALETTE.len()];
        let mut path = String::new();
        let mut drawing = false;
        for (slot, point) in line.points.iter().enumerate() {
            match point {
                Some((numerator, denominator)) => {
                    let rate = *numerator as f64 / *denominator as f64;
                    let command = if drawing { 'L' } else { 'M' };
                    let _ = write!(path, "{command}{:.1},{:.1} ", x_of(slot), y_of(rate));
                    drawing = true;
                }
                None => drawing = false,
            }
        }
        let _ = writeln!(
            out,
            r#"<g class="series" data-series="{}">"#,
            xml(&line.name)
        );
        if !path.is_empty() {
            let _ = writeln!(
                out,
                r#"<path d="{}" fill="none" stroke="{colour}" stroke-width="2"/>"#,
                path.trim_end()
            );
        }
        for (slot, point) in line.points.iter().enumerate() {
            if let Some((numerator, denominator)) = point {
                let rate = *numerator as f64 / *denominator as f64;
                let _ = writeln!(
                    out,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="4" fill="{colour}"><title>{}</title></circle>"#,
                    x_of(slot),
                    y_of(rate),
                    xml(&(text.point)(
                        &line.name,
                        &periods[slot],
                        *numerator,
                        *denominator
                    ))
                );
            }
        }
        let _ = writeln!(out, "</g>");
    }

    // The legend.
    let _ = writeln!(
        out,
        r#"<text x="{legend_x}" y="{}" font-weight="bold">{}</text>"#,
        top - 10.0,
        xml(&text.legend)
    );
    for (index, line) in lines.iter().enumerate() {
        let colour = PALETTE[index % PALETTE.len()];
        let y = top + 20.0 * index as f64;
        let _ = writeln!(
            out,
            r#"<rect x="{legend_x}" y="{y}" width="14" height="4" fill="{colour}"/>"#
        );
        let note = if line.points.iter().all(Option::is_none) {
            text.no_verdicts.as_str()
        } else {
            ""
        };
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}">{}{}</text>"#,
            legend_x + 20.0,
            y + 6.0,
            xml(&line.name),
            xml(note)
        );
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("alice"), "alice");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    #[test]
    fn csv_fields_a_spreadsheet_would_run_are_text() {
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("+1"), "\"'+1\"");
        assert_eq!(csv_field("-2+3"), "\"'-2+3\"");
        assert_eq!(csv_field("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(csv_field("\tcmd"), "\"'\tcmd\"");
        assert_eq!(csv_field("\rcmd"), "\"'\rcmd\"");
        // Inside a field, the same characters are harmless.
        assert_eq!(csv_field("a-b@c"), "a-b@c");
        assert_eq!(csv_field("0.5"), "0.5");
    }

    #[test]
    fn xml_text_is_escaped() {
        assert_eq!(xml("<a & 'b'>\""), "&lt;a &amp; &apos;b&apos;&gt;&quot;");
    }
}
