//! The console's languages and words. Every string a person reads comes from a Fluent catalog in
//! `locales/{en,nl}/*.ftl` (embedded at build time; English is the fallback); times are shown in
//! the policy's time zone, formatted for the reader's language.
//!
//! [`Tr`] is what a handler hands to a template: the reader's language and the zone, with the
//! lookups (`t`, `t1`, `ta`, `tn`), the domain's words (`event`, `value`, `refusal`,
//! `engine_error`) and times (`datetime`, `date`, `countdown`, `datetime_local_value`,
//! `parse_datetime_local`). Day and month names live in the catalogs (`weekday-*`, `month-*`),
//! as do the patterns that put them together (`datetime`, `date`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{LazyLock, RwLock};

use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader};
use jiff::civil::{DateTime, Weekday};
use jiff::tz::TimeZone;
use jiff::Timestamp;
use obliged_domain::{ComplaintError, Subject};
use obliged_storage::EngineError;

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

/// A language of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lang {
    En,
    Nl,
}

static EN: LazyLock<LanguageIdentifier> =
    LazyLock::new(|| "en".parse().expect("a valid language tag"));
static NL: LazyLock<LanguageIdentifier> =
    LazyLock::new(|| "nl".parse().expect("a valid language tag"));

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Nl];

    /// The language tag (`<html lang>`, the account setting).
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Nl => "nl",
        }
    }

    /// A language tag's language, by its primary subtag: `nl`, `nl-NL` and `NL-be` are Dutch.
    /// `None` for anything the console does not speak (including `auto` and `*`).
    pub fn parse(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next().unwrap_or_default();
        Self::ALL
            .into_iter()
            .find(|lang| primary.eq_ignore_ascii_case(lang.code()))
    }

    /// The person's setting if it names a language, else the best match of an `Accept-Language`
    /// header (the highest q-value the console speaks; the first of equals), else English.
    pub fn negotiate(setting: Option<&str>, accept_language: Option<&str>) -> Lang {
        setting
            .and_then(Lang::parse)
            .or_else(|| accept_language.and_then(best_accepted))
            .unwrap_or(Lang::En)
    }

    fn id(self) -> &'static LanguageIdentifier {
        match self {
            Self::En => &EN,
            Self::Nl => &NL,
        }
    }
}

/// The best language of an `Accept-Language` value that the console speaks.
fn best_accepted(header: &str) -> Option<Lang> {
    let mut best: Option<(f32, Lang)> = None;
    for range in header.split(',') {
        let mut parts = range.split(';');
        let tag = parts.next().unwrap_or_default().trim();
        let mut quality = 1.0_f32;
        for parameter in parts {
            let parameter = parameter.trim();
            if let Some(value) = parameter
                .strip_prefix("q=")
                .or_else(|| parameter.strip_prefix("Q="))
            {
                quality = value.trim().parse().unwrap_or(0.0);
            }
        }
        if quality.is_nan() || quality <= 0.0 {
            continue;
        }
        if let Some(lang) = Lang::parse(tag) {
            if best.is_none_or(|(best_quality, _)| quality > best_quality) {
                best = Some((quality, lang));
            }
        }
    }
    best.map(|(_, lang)| lang)
}

type Args = HashMap<Cow<'static, str>, FluentValue<'static>>;

fn args<const N: usize>(pairs: [(&'static str, FluentValue<'static>); N]) -> Args {
    pairs
        .into_iter()
        .map(|(name, value)| (Cow::Borrowed(name), value))
        .collect()
}

fn text(value: impl ToString) -> FluentValue<'static> {
    FluentValue::from(value.to_string())
}

fn number(value: impl Into<f64>) -> FluentValue<'static> {
    FluentValue::from(value.into())
}

/// Messages without arguments, per language, as formatted once: a page of 500 work items asks
/// for the same few words thousands of times. Only messages the catalogs hold are kept, so it
/// never outgrows them.
static PLAIN: LazyLock<[RwLock<HashMap<String, String>>; 2]> = LazyLock::new(Default::default);

/// The message `key` without arguments in `lang` (or English), if a catalog holds it.
fn plain(lang: Lang, key: &str) -> Option<String> {
    let memo = &PLAIN[lang as usize];
    if let Some(message) = memo.read().ok().and_then(|map| map.get(key).cloned()) {
        return Some(message);
    }
    let message = LOCALES.try_lookup(lang.id(), key)?;
    if let Ok(mut map) = memo.write() {
        map.insert(key.to_owned(), message.clone());
    }
    Some(message)
}

/// The reader's language and the policy's time zone: everything a template needs to put words
/// and times on a page. Cheap to clone (the zone is shared).
#[derive(Debug, Clone)]
pub struct Tr {
    pub lang: Lang,
    zone: TimeZone,
}

impl Tr {
    pub fn new(lang: Lang, zone: TimeZone) -> Self {
        Self { lang, zone }
    }

    /// The time zone times are shown in.
    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    /// The message `key`. A missing message gives the key itself (and a warning in the log).
    pub fn t(&self, key: &str) -> String {
        self.lookup(key, None)
    }

    /// The message `key` with one text argument `$name`.
    pub fn t1(&self, key: &str, name: &str, value: &str) -> String {
        self.ta(key, &[(name, value.to_owned())])
    }

    /// The message `key` with text arguments.
    pub fn ta(&self, key: &str, arguments: &[(&str, String)]) -> String {
        let arguments: Args = arguments
            .iter()
            .map(|(name, value)| (Cow::Owned((*name).to_owned()), text(value)))
            .collect();
        self.lookup(key, Some(&arguments))
    }

    /// The message `key` with one number argument `$name`, for plurals
    /// (`{ $count -> [one] … *[other] … }`).
    pub fn tn(&self, key: &str, name: &str, value: i64) -> String {
        // Counts on a page are far below 2^53, where f64 is exact.
        let arguments: Args = [(Cow::Owned(name.to_owned()), number(value as f64))].into();
        self.lookup(key, Some(&arguments))
    }

    fn lookup(&self, key: &str, arguments: Option<&Args>) -> String {
        if arguments.is_none() {
            if let Some(message) = plain(self.lang, key) {
                return message;
            }
        }
        match LOCALES.try_lookup_complete(self.lang.id(), key, arguments) {
            Some(message) => message,
            None => {
                tracing::warn!(
                    key,
                    lang = self.lang.code(),
                    "missing or unformattable message"
                );
                key.to_owned()
            }
        }
    }

    /// An event's name (`event-<EventName>`), as the timeline shows it.
    pub fn event(&self, event_name: &str) -> String {
        self.t(&format!("event-{event_name}"))
    }

    /// A value of a closed set (`<set>-<slug>`): `value("channel", "email")` is "E-mail". An
    /// unknown slug is shown as it is.
    pub fn value(&self, set: &str, slug: &str) -> String {
        let key = format!("{set}-{slug}");
        plain(self.lang, &key).unwrap_or_else(|| {
            tracing::debug!(key, "no message for this value; showing the slug");
            slug.to_owned()
        })
    }

    /// Something owed, as it reads inside a sentence ("promise 1b4e…", "the “Final response”
    /// deadline").
    pub fn subject(&self, subject: &Subject) -> String {
        match subject {
            Subject::Promise { promise_id } => {
                self.format("subject-promise", args([("id", text(promise_id))]))
            }
            Subject::FollowUp { follow_up_id } => {
                self.format("subject-follow-up", args([("id", text(follow_up_id))]))
            }
            Subject::Obligation { obligation_no } => {
                self.format("subject-obligation", args([("no", number(*obligation_no))]))
            }
            Subject::Deadline { deadline } => self.format(
                "subject-deadline",
                args([(
                    "deadline",
                    text(self.value("deadline-kind", deadline.as_str())),
                )]),
            ),
        }
    }

    fn format(&self, key: &str, arguments: Args) -> String {
        self.lookup(key, Some(&arguments))
    }

    fn deadline(&self, deadline: obliged_domain::DeadlineKind) -> FluentValue<'static> {
        text(self.value("deadline-kind", deadline.as_str()))
    }

    fn when(&self, at: &Timestamp) -> FluentValue<'static> {
        text(self.datetime(*at))
    }

    /// Why the aggregate refused a command, in plain words (`refusal-<slug>`).
    pub fn refusal(&self, error: &ComplaintError) -> String {
        use ComplaintError as E;
        let key = format!("refusal-{}", error.slug());
        let arguments = match error {
            E::NotFiled
            | E::AlreadyFiled
            | E::Closed
            | E::NoOwner
            | E::NoHandoverPending
            | E::AlreadySensitive
            | E::NotSensitive
            | E::NoPendingProposal
            | E::ResolutionNotAccepted
            | E::AlreadyResolved
            | E::NotResolved
            | E::NotReopenable
            | E::ClockNotPaused
            | E::NothingToPause => Args::new(),
            E::AlreadyOwned { owner } | E::AlreadyOwner { owner } => args([("owner", text(owner))]),
            E::HandoverPending { to } | E::NotHandoverReceiver { to } => args([("to", text(to))]),
            E::HandBackRefused { reason } => args([(
                "reason",
                text(self.value("hand-back-reason", reason.as_str())),
            )]),
            E::DueInPast { due_at, now } => {
                args([("due_at", self.when(due_at)), ("now", self.when(now))])
            }
            E::PromiseExists { promise_id }
            | E::PromiseNotFound { promise_id }
            | E::PromiseAlreadyKept { promise_id }
            | E::PromiseWithdrawn { promise_id }
            | E::PromiseAlreadyBroken { promise_id }
            | E::ConsentRequired { promise_id } => args([("promise_id", text(promise_id))]),
            E::PromiseNotDue { promise_id, due_at }
            | E::DueTimeUnchanged { promise_id, due_at } => args([
                ("promise_id", text(promise_id)),
                ("due_at", self.when(due_at)),
            ]),
            E::ReminderAlreadyRecorded { promise_id, rung } => {
                args([("promise_id", text(promise_id)), ("rung", number(*rung))])
            }
            E::NonNegotiableElement {
                element,
                explanation,
                referral,
            } => args([
                ("element", text(element)),
                ("explanation", text(explanation)),
                ("referral", text(referral)),
            ]),
            E::ElementAlreadyFlagged { element } => args([("element", text(element))]),
            E::FollowUpExists { follow_up_id }
            | E::FollowUpNotFound { follow_up_id }
            | E::FollowUpAlreadyCompleted { follow_up_id } => {
                args([("follow_up_id", text(follow_up_id))])
            }
            E::AlreadyEscalated { to } => {
                args([("to", text(self.value("escalation-target", to.as_str())))])
            }
            E::ProposalPending { proposal_no } => args([("proposal_no", number(*proposal_no))]),
            E::OpenPromises { promise_ids } => args([
                ("count", number(promise_ids.len() as u32)),
                ("promise_ids", text(list(promise_ids))),
            ]),
            E::OpenFollowUps { follow_up_ids } => args([
                ("count", number(follow_up_ids.len() as u32)),
                ("follow_up_ids", text(list(follow_up_ids))),
            ]),
            E::UnmetObligations { obligation_nos } => args([
                ("count", number(obligation_nos.len() as u32)),
                ("obligation_nos", text(list(obligation_nos))),
            ]),
            E::NoSuchDeadline { deadline }
            | E::DeadlineAlreadyMet { deadline }
            | E::AlreadyExtended { deadline } => args([("deadline", self.deadline(*deadline))]),
            E::ExtensionNotAllowed { regime, deadline } => args([
                ("regime", text(self.value("regime", regime.as_str()))),
                ("deadline", self.deadline(*deadline)),
            ]),
            E::ExtensionBeyondLimit { deadline, limit } => args([
                ("deadline", self.deadline(*deadline)),
                ("limit", self.when(limit)),
            ]),
            E::ExtensionNotLater { deadline, due_at } => args([
                ("deadline", self.deadline(*deadline)),
                ("due_at", self.when(due_at)),
            ]),
            E::ClockAlreadyPaused { paused_at } => args([("paused_at", self.when(paused_at))]),
            E::ClockPaused { subject } | E::SubjectSettled { subject } => {
                args([("subject", text(self.subject(subject)))])
            }
            E::RungNotScheduled { subject, rung } | E::RungAlreadyReached { subject, rung } => {
                args([
                    ("subject", text(self.subject(subject))),
                    ("rung", number(*rung)),
                ])
            }
            E::RungOutOfOrder {
                subject,
                rung,
                next,
            } => args([
                ("subject", text(self.subject(subject))),
                ("rung", number(*rung)),
                ("next", number(*next)),
            ]),
            E::RungNotDue {
                subject,
                rung,
                due_at,
            } => args([
                ("subject", text(self.subject(subject))),
                ("rung", number(*rung)),
                ("due_at", self.when(due_at)),
            ]),
        };
        self.format(&key, arguments)
    }

    /// Why the engine did not carry out a command: the aggregate's refusal, or what went wrong
    /// around it (`refusal-engine-*`).
    pub fn engine_error(&self, error: &EngineError) -> String {
        match error {
            EngineError::Rejected(refusal) => self.refusal(refusal),
            EngineError::NotFound(_) => self.t("refusal-engine-not-found"),
            EngineError::Conflict { .. } => self.t("refusal-engine-conflict"),
            EngineError::IdempotencyKeyReused { .. } => {
                self.t("refusal-engine-idempotency-key-reused")
            }
            EngineError::Erased(_) => self.t("refusal-engine-erased"),
            EngineError::Unavailable(_) => self.t("refusal-engine-unavailable"),
            EngineError::Internal(_) => self.t("refusal-engine-internal"),
        }
    }

    /// An absolute time in the zone: "Fri 4 Dec 2026, 14:05" / "vr 4 dec 2026, 14:05".
    pub fn datetime(&self, at: Timestamp) -> String {
        let civil = self.zone.to_datetime(at);
        let mut arguments = self.date_arguments(civil);
        arguments.insert(
            Cow::Borrowed("time"),
            text(format!("{:02}:{:02}", civil.hour(), civil.minute())),
        );
        self.format("datetime", arguments)
    }

    /// The day of a time in the zone: "Fri 4 Dec 2026" / "vr 4 dec 2026".
    pub fn date(&self, at: Timestamp) -> String {
        let civil = self.zone.to_datetime(at);
        self.format("date", self.date_arguments(civil))
    }

    fn date_arguments(&self, civil: DateTime) -> Args {
        let weekday = match civil.weekday() {
            Weekday::Monday => "weekday-mon",
            Weekday::Tuesday => "weekday-tue",
            Weekday::Wednesday => "weekday-wed",
            Weekday::Thursday => "weekday-thu",
            Weekday::Friday => "weekday-fri",
            Weekday::Saturday => "weekday-sat",
            Weekday::Sunday => "weekday-sun",
        };
        let month = MONTHS[usize::try_from(civil.month() - 1).unwrap_or_default()];
        // Text, not numbers: a year is not written with a thousands separator.
        args([
            ("weekday", text(self.t(weekday))),
            ("day", text(civil.day())),
            ("month", text(self.t(month))),
            ("year", text(civil.year())),
        ])
    }

    /// How far away `due` is from `now`, in the two most significant units: "in 2 h 5 min",
    /// "3 d 4 h overdue", "now" within a minute. `assets/console.js` computes the same text in
    /// the browser from the `<body data-*>` words.
    pub fn countdown(&self, due: Timestamp, now: Timestamp) -> String {
        let seconds = due.as_second() - now.as_second();
        if seconds.abs() < 60 {
            return self.t("countdown-now");
        }
        let minutes = seconds.unsigned_abs() / 60;
        let (days, hours, minutes) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
        let unit = |amount: u64, key: &str| format!("{amount} {}", self.t(key));
        let mut parts = Vec::with_capacity(2);
        if days > 0 {
            parts.push(unit(days, "unit-day"));
            if hours > 0 {
                parts.push(unit(hours, "unit-hour"));
            }
        } else if hours > 0 {
            parts.push(unit(hours, "unit-hour"));
            if minutes > 0 {
                parts.push(unit(minutes, "unit-minute"));
            }
        } else {
            parts.push(unit(minutes, "unit-minute"));
        }
        let key = if seconds > 0 {
            "countdown-future"
        } else {
            "countdown-past"
        };
        self.t1(key, "time", &parts.join(" "))
    }

    /// `countdown-future` with `{}` for the time ("in {}"), for `<body data-countdown-future>`:
    /// the script in the browser fills it in.
    pub fn countdown_future_pattern(&self) -> String {
        self.t1("countdown-future", "time", "{}")
    }

    /// `countdown-past` with `{}` for the time ("{} overdue"), for `<body data-countdown-past>`.
    pub fn countdown_past_pattern(&self) -> String {
        self.t1("countdown-past", "time", "{}")
    }

    /// The value of an `<input type="datetime-local">` for `at` in the zone: "2026-12-04T14:05".
    pub fn datetime_local_value(&self, at: Timestamp) -> String {
        self.zone
            .to_datetime(at)
            .strftime("%Y-%m-%dT%H:%M")
            .to_string()
    }

    /// What an `<input type="datetime-local">` sent ("2026-12-04T14:05", seconds optional), read
    /// in the zone. A wall-clock time that happens twice (the clocks go back) is the first; one
    /// that does not happen (the clocks go forward) is moved forward by the gap.
    pub fn parse_datetime_local(&self, raw: &str) -> Option<Timestamp> {
        let raw = raw.trim();
        if raw.len() < 16 || raw.as_bytes()[10] != b'T' {
            return None;
        }
        let civil: DateTime = raw.parse().ok()?;
        self.zone.to_ambiguous_timestamp(civil).compatible().ok()
    }
}

const MONTHS: [&str; 12] = [
    "month-jan",
    "month-feb",
    "month-mar",
    "month-apr",
    "month-may",
    "month-jun",
    "month-jul",
    "month-aug",
    "month-sep",
    "month-oct",
    "month-nov",
    "month-dec",
];

fn list<T: ToString>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use obliged_domain::{
        ComplaintCommand, DeadlineKind, EscalationTarget, Owner, PromiseId, Regime, SealedText,
    };

    use super::*;

    /// Every catalog of a language: the tests read them as the loader does.
    const CATALOGS: [(Lang, &[(&str, &str)]); 2] = [
        (
            Lang::En,
            &[
                ("en/domain.ftl", include_str!("../locales/en/domain.ftl")),
                ("en/pages.ftl", include_str!("../locales/en/pages.ftl")),
                ("en/team.ftl", include_str!("../locales/en/team.ftl")),
                ("en/audit.ftl", include_str!("../locales/en/audit.ftl")),
                ("en/reports.ftl", include_str!("../locales/en/reports.ftl")),
                ("en/admin.ftl", include_str!("../locales/en/admin.ftl")),
            ],
        ),
        (
            Lang::Nl,
            &[
                ("nl/domain.ftl", include_str!("../locales/nl/domain.ftl")),
                ("nl/pages.ftl", include_str!("../locales/nl/pages.ftl")),
                ("nl/team.ftl", include_str!("../locales/nl/team.ftl")),
                ("nl/audit.ftl", include_str!("../locales/nl/audit.ftl")),
                ("nl/reports.ftl", include_str!("../locales/nl/reports.ftl")),
                ("nl/admin.ftl", include_str!("../locales/nl/admin.ftl")),
            ],
        ),
    ];

    /// The message ids of one catalog: every line that starts with an identifier and `=` (terms
    /// start with `-`, comments with `#`, continuations with a space).
    fn message_ids(source: &str) -> Vec<&str> {
        source
            .lines()
            .filter(|line| line.starts_with(|first: char| first.is_ascii_alphabetic()))
            .filter_map(|line| {
                let (id, _) = line.split_once('=')?;
                let id = id.trim_end();
                id.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                    .then_some(id)
            })
            .collect()
    }

    fn ids_of(lang: Lang) -> BTreeSet<&'static str> {
        let (_, files) = CATALOGS
            .iter()
            .find(|(of, _)| *of == lang)
            .expect("a catalog per language");
        let mut ids = BTreeSet::new();
        for (file, source) in files.iter() {
            for id in message_ids(source) {
                assert!(ids.insert(id), "{id} is defined twice in {lang:?} ({file})");
            }
        }
        ids
    }

    fn tr(lang: Lang) -> Tr {
        Tr::new(
            lang,
            TimeZone::get("Europe/Amsterdam").expect("bundled tzdb"),
        )
    }

    fn at(raw: &str) -> Timestamp {
        raw.parse().expect("a timestamp")
    }

    /// The variant names in `ComplaintEvent::name`, read from its source (the domain keeps no
    /// list of them).
    fn event_names() -> Vec<&'static str> {
        let source = include_str!("../../../domain/src/event.rs");
        let body = source
            .split("pub fn name(&self)")
            .nth(1)
            .expect("name() is defined in event.rs");
        let body = &body[..body.find("\n    }\n").expect("name() ends")];
        body.split("=> \"")
            .skip(1)
            .map(|rest| &rest[..rest.find('"').expect("a name is quoted")])
            .collect()
    }

    #[test]
    fn both_languages_have_the_same_messages() {
        let english = ids_of(Lang::En);
        let dutch = ids_of(Lang::Nl);
        assert!(english.len() > 200, "the catalogs were read");
        let only_english: Vec<_> = english.difference(&dutch).collect();
        let only_dutch: Vec<_> = dutch.difference(&english).collect();
        assert!(
            only_english.is_empty() && only_dutch.is_empty(),
            "only in en: {only_english:?}; only in nl: {only_dutch:?}"
        );
    }

    #[test]
    fn the_catalogs_load_and_every_plain_message_formats() {
        // Building the bundles panics on a syntax error or an id defined twice.
        for lang in Lang::ALL {
            for id in ids_of(lang) {
                let message = LOCALES.lookup_single_language::<&str>(lang.id(), id, None);
                // Messages with variables fail here without arguments; they are checked below.
                if let Ok(message) = message {
                    assert!(!message.trim().is_empty(), "{id} is empty in {lang:?}");
                }
            }
        }
    }

    #[test]
    fn every_event_command_and_refusal_has_words_in_both_languages() {
        let events = event_names();
        assert_eq!(events.len(), 37, "the event names were read from event.rs");
        assert!(events.contains(&"ComplaintFiled") && events.contains(&"RungReached"));
        for lang in Lang::ALL {
            let ids = ids_of(lang);
            let missing: Vec<String> = events
                .iter()
                .map(|name| format!("event-{name}"))
                .chain(
                    ComplaintCommand::<SealedText>::NAMES
                        .iter()
                        .map(|name| format!("command-{name}")),
                )
                .chain(
                    ComplaintError::SLUGS
                        .iter()
                        .map(|slug| format!("refusal-{slug}")),
                )
                .chain(
                    [
                        "not-found",
                        "conflict",
                        "erased",
                        "unavailable",
                        "idempotency-key-reused",
                        "internal",
                    ]
                    .iter()
                    .map(|engine| format!("refusal-engine-{engine}")),
                )
                .filter(|id| !ids.contains(id.as_str()))
                .collect();
            assert!(missing.is_empty(), "missing in {lang:?}: {missing:?}");
        }
    }

    #[test]
    fn every_value_the_domain_can_show_has_words_in_both_languages() {
        use obliged_domain::{
            Channel as C, ConductKind as K, ConductResponse as R, Direction as D,
            EscalationReason as ER, EscalationTarget as ET, HandBackReason as H, PromiseKind as P,
            Recipient as RE, SensitiveReason as S, SubjectKind as SK,
        };
        let sets: Vec<(&str, Vec<&str>)> = vec![
            ("status", {
                use obliged_domain::Status as St;
                [St::NotFiled, St::New, St::Open, St::Resolved, St::Closed]
                    .map(|v| v.as_str())
                    .to_vec()
            }),
            (
                "channel",
                [
                    C::Phone,
                    C::Email,
                    C::Chat,
                    C::Letter,
                    C::Social,
                    C::InPerson,
                ]
                .map(|value| value.as_str())
                .to_vec(),
            ),
            (
                "direction",
                [D::Inbound, D::Outbound].map(|v| v.as_str()).to_vec(),
            ),
            (
                "promise-kind",
                [
                    P::Callback,
                    P::Visit,
                    P::Information,
                    P::Refund,
                    P::Repair,
                    P::Other,
                ]
                .map(|v| v.as_str())
                .to_vec(),
            ),
            (
                "escalation-target",
                [ET::SpecialCare, ET::Lead, ET::Manager, ET::Security]
                    .map(|v| v.as_str())
                    .to_vec(),
            ),
            (
                "escalation-reason",
                [
                    ER::Requested,
                    ER::RepeatContacts,
                    ER::Threat,
                    ER::ConductResponse,
                    ER::Ladder,
                ]
                .map(|v| v.as_str())
                .to_vec(),
            ),
            (
                "conduct-kind",
                [K::Insult, K::Threat, K::Discrimination]
                    .map(|v| v.as_str())
                    .to_vec(),
            ),
            (
                "conduct-response",
                [R::Warning, R::EndedContact, R::Security, R::PoliceReport]
                    .map(|v| v.as_str())
                    .to_vec(),
            ),
            (
                "sensitive-reason",
                [
                    S::Bereavement,
                    S::Divorce,
                    S::Illness,
                    S::Vulnerability,
                    S::Other,
                ]
                .map(|v| v.as_str())
                .to_vec(),
            ),
            (
                "hand-back-reason",
                [
                    H::CustomerDecisionRequired,
                    H::CustomerDocumentRequired,
                    H::OutsideOurRemit,
                    H::ThirdPartyDependency,
                ]
                .map(|v| v.as_str())
                .to_vec(),
            ),
            (
                "deadline-kind",
                [
                    DeadlineKind::Acknowledge,
                    DeadlineKind::SummaryResolution,
                    DeadlineKind::FinalResponse,
                ]
                .map(|v| v.as_str())
                .to_vec(),
            ),
            (
                "regime",
                [
                    Regime::None,
                    Regime::FcaDisp,
                    Regime::FcaPaymentServices,
                    Regime::Kifid,
                    Regime::Awb,
                ]
                .map(|v| v.as_str())
                .to_vec(),
            ),
            (
                "subject-kind",
                [
                    SK::Promise,
                    SK::FollowUp,
                    SK::Obligation,
                    SK::Acknowledge,
                    SK::SummaryResolution,
                    SK::FinalResponse,
                ]
                .map(|v| v.as_str())
                .to_vec(),
            ),
            (
                "recipient",
                [
                    RE::Promiser,
                    RE::Owner,
                    RE::Lead,
                    RE::Manager,
                    RE::SpecialCare,
                    RE::Customer,
                ]
                .map(|v| v.as_str())
                .to_vec(),
            ),
            (
                "role",
                obliged_storage::Role::ALL
                    .iter()
                    .map(|role| role.as_str())
                    .collect(),
            ),
            (
                "work-kind",
                vec![
                    "promise",
                    "follow-up",
                    "obligation",
                    "triage",
                    "handover",
                    "deadline",
                ],
            ),
            (
                "promise-status",
                vec!["pending", "kept", "kept-late", "broken", "withdrawn"],
            ),
            (
                "follow-up-status",
                vec!["open", "completed", "completed-late"],
            ),
            (
                "discharge",
                vec!["reply", "promise", "resolution", "final-response"],
            ),
            (
                "resolution-state",
                vec!["none", "proposed", "accepted", "rejected"],
            ),
        ];
        for lang in Lang::ALL {
            let ids = ids_of(lang);
            for (set, slugs) in &sets {
                for slug in slugs {
                    let id = format!("{set}-{slug}");
                    assert!(ids.contains(id.as_str()), "{id} is missing in {lang:?}");
                }
            }
        }
        assert_eq!(tr(Lang::En).value("channel", "email"), "E-mail");
        assert_eq!(tr(Lang::Nl).value("status", "open"), "In behandeling");
        assert_eq!(tr(Lang::Nl).value("channel", "pigeon"), "pigeon");
    }

    #[test]
    fn the_languages_are_the_ones_an_account_may_choose() {
        let codes: Vec<&str> = Lang::ALL.iter().map(|lang| lang.code()).collect();
        assert_eq!(codes, obliged_storage::LANGUAGES);
        for lang in Lang::ALL {
            assert_eq!(Lang::parse(lang.code()), Some(lang));
        }
        assert_eq!(Lang::parse("auto"), None);
        assert_eq!(Lang::parse(""), None);
    }

    #[test]
    fn the_setting_wins_and_otherwise_the_browser_is_followed() {
        let cases: [(Option<&str>, Option<&str>, Lang); 14] = [
            (None, None, Lang::En),
            (Some("nl"), Some("en-GB,en;q=0.9"), Lang::Nl),
            (Some("en"), Some("nl-NL"), Lang::En),
            (Some("auto"), Some("nl-NL,nl;q=0.9,en;q=0.8"), Lang::Nl),
            (None, Some("nl"), Lang::Nl),
            (None, Some("nl-BE"), Lang::Nl),
            (None, Some("NL-nl"), Lang::Nl),
            (None, Some("de-DE,de;q=0.9"), Lang::En),
            (None, Some("de-DE, nl;q=0.5, en;q=0.4"), Lang::Nl),
            (None, Some("en;q=0.5, nl;q=0.8"), Lang::Nl),
            (None, Some("nl;q=0, en;q=0.1"), Lang::En),
            (None, Some("en-US, nl"), Lang::En),
            (None, Some("*"), Lang::En),
            (None, Some("nl;q=oops, fr"), Lang::En),
        ];
        for (setting, header, expected) in cases {
            assert_eq!(
                Lang::negotiate(setting, header),
                expected,
                "setting {setting:?}, Accept-Language {header:?}"
            );
        }
    }

    #[test]
    fn countdowns_show_the_two_largest_units() {
        let now = at("2026-12-04T13:05:00Z");
        let cases = [
            ("2026-12-04T15:10:00Z", "in 2 h 5 min", "over 2 u 5 min"),
            ("2026-12-04T15:05:00Z", "in 2 h", "over 2 u"),
            ("2026-12-04T13:50:59Z", "in 45 min", "over 45 min"),
            ("2026-12-07T17:05:00Z", "in 3 d 4 h", "over 3 d 4 u"),
            ("2026-12-01T09:05:00Z", "3 d 4 h overdue", "3 d 4 u te laat"),
            ("2026-12-04T13:04:00Z", "1 min overdue", "1 min te laat"),
            ("2026-12-04T13:05:30Z", "now", "nu"),
            ("2026-12-04T13:04:31Z", "now", "nu"),
        ];
        for (due, english, dutch) in cases {
            assert_eq!(tr(Lang::En).countdown(at(due), now), english, "{due}");
            assert_eq!(tr(Lang::Nl).countdown(at(due), now), dutch, "{due}");
        }
        assert_eq!(tr(Lang::En).countdown_future_pattern(), "in {}");
        assert_eq!(tr(Lang::En).countdown_past_pattern(), "{} overdue");
        assert_eq!(tr(Lang::Nl).countdown_future_pattern(), "over {}");
        assert_eq!(tr(Lang::Nl).countdown_past_pattern(), "{} te laat");
    }

    #[test]
    fn absolute_times_are_in_the_zone_and_the_language() {
        let friday = at("2026-12-04T13:05:00Z");
        assert_eq!(tr(Lang::En).datetime(friday), "Fri 4 Dec 2026, 14:05");
        assert_eq!(tr(Lang::Nl).datetime(friday), "vr 4 dec 2026, 14:05");
        assert_eq!(tr(Lang::Nl).date(friday), "vr 4 dec 2026");
        // Summer time: two hours ahead of UTC, and the day has already turned.
        let summer = at("2026-03-29T22:30:00Z");
        assert_eq!(tr(Lang::En).datetime(summer), "Mon 30 Mar 2026, 00:30");
        assert_eq!(tr(Lang::Nl).datetime(summer), "ma 30 mrt 2026, 00:30");
        let utc = Tr::new(Lang::En, TimeZone::UTC);
        assert_eq!(utc.datetime(summer), "Sun 29 Mar 2026, 22:30");
    }

    #[test]
    fn refusals_name_their_facts_in_both_languages() {
        let owner = Owner::parse("alice").unwrap();
        let already_owned = ComplaintError::AlreadyOwned { owner };
        assert_eq!(
            tr(Lang::En).refusal(&already_owned),
            "This complaint is already owned by alice. Offer a handover or take it over."
        );
        assert_eq!(
            tr(Lang::Nl).refusal(&already_owned),
            "Deze klacht heeft al een eigenaar: alice. Bied een overdracht aan of neem de klacht over."
        );

        let beyond = ComplaintError::ExtensionBeyondLimit {
            deadline: DeadlineKind::FinalResponse,
            limit: at("2026-12-04T13:05:00Z"),
        };
        assert_eq!(
            tr(Lang::En).refusal(&beyond),
            "The “Final response” deadline can be extended to Fri 4 Dec 2026, 14:05 at the latest."
        );
        assert_eq!(
            tr(Lang::Nl).refusal(&beyond),
            "De termijn ‘Definitief standpunt’ kan tot uiterlijk vr 4 dec 2026, 14:05 worden verlengd."
        );

        let escalated = ComplaintError::AlreadyEscalated {
            to: EscalationTarget::SpecialCare,
        };
        assert_eq!(
            tr(Lang::Nl).refusal(&escalated),
            "Deze klacht is al geëscaleerd naar Bijzondere zorg."
        );

        let one = PromiseId::new("00000000-0000-4000-8000-000000000001".parse().unwrap());
        let two = PromiseId::new("00000000-0000-4000-8000-000000000002".parse().unwrap());
        let open = |promise_ids| ComplaintError::OpenPromises { promise_ids };
        assert_eq!(
            tr(Lang::En).refusal(&open(vec![one])),
            "This complaint cannot be closed yet: a promise is still open."
        );
        assert_eq!(
            tr(Lang::En).refusal(&open(vec![one, two])),
            "This complaint cannot be closed yet: 2 promises are still open."
        );
        assert_eq!(
            tr(Lang::Nl).refusal(&open(vec![one, two])),
            "Deze klacht kan nog niet worden gesloten: er staan nog 2 toezeggingen open."
        );

        let not_due = ComplaintError::RungNotDue {
            subject: Subject::Obligation { obligation_no: 2 },
            rung: 3,
            due_at: at("2026-12-04T13:05:00Z"),
        };
        assert_eq!(
            tr(Lang::En).refusal(&not_due),
            "Reminder step 3 for obligation to respond 2 is not due until Fri 4 Dec 2026, 14:05."
        );
        assert_eq!(
            tr(Lang::Nl).refusal(&not_due),
            "Herinneringsstap 3 voor verplichting om te reageren 2 is pas op vr 4 dec 2026, 14:05 aan de beurt."
        );
    }

    /// One of every refusal: each formats with all its arguments in both languages (a missing
    /// argument would fall back to the key).
    #[test]
    fn every_refusal_formats_completely() {
        use ComplaintError as E;
        let promise_id = PromiseId::new("00000000-0000-4000-8000-000000000001".parse().unwrap());
        let follow_up_id = obliged_domain::FollowUpId::new(
            "00000000-0000-4000-8000-000000000002".parse().unwrap(),
        );
        let owner = Owner::parse("team:billing").unwrap();
        let when = at("2026-12-04T13:05:00Z");
        let element = obliged_domain::ElementName::parse("statutory-interest").unwrap();
        let public = |raw: &str| obliged_domain::PublicText::parse(raw).unwrap();
        let subject = Subject::Deadline {
            deadline: DeadlineKind::Acknowledge,
        };
        let deadline = DeadlineKind::SummaryResolution;
        let all = vec![
            E::NotFiled,
            E::AlreadyFiled,
            E::Closed,
            E::NoOwner,
            E::AlreadyOwned {
                owner: owner.clone(),
            },
            E::AlreadyOwner {
                owner: owner.clone(),
            },
            E::HandoverPending { to: owner.clone() },
            E::NoHandoverPending,
            E::NotHandoverReceiver { to: owner },
            E::HandBackRefused {
                reason: obliged_domain::HandBackReason::ThirdPartyDependency,
            },
            E::DueInPast {
                due_at: when,
                now: when,
            },
            E::PromiseExists { promise_id },
            E::PromiseNotFound { promise_id },
            E::PromiseAlreadyKept { promise_id },
            E::PromiseWithdrawn { promise_id },
            E::PromiseAlreadyBroken { promise_id },
            E::PromiseNotDue {
                promise_id,
                due_at: when,
            },
            E::DueTimeUnchanged {
                promise_id,
                due_at: when,
            },
            E::ConsentRequired { promise_id },
            E::ReminderAlreadyRecorded {
                promise_id,
                rung: 1,
            },
            E::NonNegotiableElement {
                element: element.clone(),
                explanation: public("Set by law."),
                referral: public("The ombudsman."),
            },
            E::ElementAlreadyFlagged { element },
            E::FollowUpExists { follow_up_id },
            E::FollowUpNotFound { follow_up_id },
            E::FollowUpAlreadyCompleted { follow_up_id },
            E::AlreadyEscalated {
                to: EscalationTarget::Manager,
            },
            E::AlreadySensitive,
            E::NotSensitive,
            E::ProposalPending { proposal_no: 1 },
            E::NoPendingProposal,
            E::ResolutionNotAccepted,
            E::AlreadyResolved,
            E::NotResolved,
            E::OpenPromises {
                promise_ids: vec![promise_id],
            },
            E::OpenFollowUps {
                follow_up_ids: vec![follow_up_id, follow_up_id],
            },
            E::UnmetObligations {
                obligation_nos: vec![1, 2, 3],
            },
            E::NotReopenable,
            E::NoSuchDeadline { deadline },
            E::DeadlineAlreadyMet { deadline },
            E::ExtensionNotAllowed {
                regime: Regime::Kifid,
                deadline,
            },
            E::AlreadyExtended { deadline },
            E::ExtensionBeyondLimit {
                deadline,
                limit: when,
            },
            E::ExtensionNotLater {
                deadline,
                due_at: when,
            },
            E::ClockAlreadyPaused { paused_at: when },
            E::ClockNotPaused,
            E::NothingToPause,
            E::ClockPaused { subject },
            E::RungNotScheduled { subject, rung: 2 },
            E::RungAlreadyReached { subject, rung: 2 },
            E::RungOutOfOrder {
                subject: Subject::Promise { promise_id },
                rung: 3,
                next: 2,
            },
            E::RungNotDue {
                subject: Subject::FollowUp { follow_up_id },
                rung: 2,
                due_at: when,
            },
            E::SubjectSettled { subject },
        ];
        let slugs: BTreeSet<&str> = all.iter().map(ComplaintError::slug).collect();
        assert_eq!(slugs.len(), ComplaintError::SLUGS.len(), "one of each");
        for lang in Lang::ALL {
            for error in &all {
                let text = tr(lang).refusal(error);
                assert!(
                    !text.starts_with("refusal-") && !text.contains('{'),
                    "{lang:?} {}: {text}",
                    error.slug()
                );
            }
        }
    }

    #[test]
    fn engine_errors_are_explained() {
        let id = "00000000-0000-4000-8000-000000000009".parse().unwrap();
        let cases = [
            EngineError::NotFound(id),
            EngineError::Conflict { attempts: 3 },
            EngineError::IdempotencyKeyReused { key: "k".into() },
            EngineError::Erased(id),
            EngineError::Unavailable("down".into()),
            EngineError::Internal("oops".into()),
        ];
        for lang in Lang::ALL {
            for error in &cases {
                let text = tr(lang).engine_error(error);
                assert!(!text.starts_with("refusal-"), "{lang:?}: {text}");
            }
        }
        assert_eq!(
            tr(Lang::En).engine_error(&EngineError::Rejected(ComplaintError::NoOwner)),
            "This complaint has no owner yet. Assign one first."
        );
        assert_eq!(
            tr(Lang::Nl).engine_error(&EngineError::Unavailable("down".into())),
            "Het systeem is even niet beschikbaar. Er is niets opgeslagen; probeer het zo opnieuw."
        );
    }

    #[test]
    fn a_missing_message_shows_its_key() {
        assert_eq!(tr(Lang::Nl).t("no-such-message"), "no-such-message");
        assert_eq!(tr(Lang::En).event("ComplaintFiled"), "Complaint registered");
        assert_eq!(tr(Lang::Nl).event("PromiseMade"), "Toezegging gedaan");
        assert_eq!(
            tr(Lang::Nl).tn("refusal-open-follow-ups", "count", 1),
            "Deze klacht kan nog niet worden gesloten: er staat nog een opvolging open."
        );
    }

    #[test]
    fn datetime_local_values_round_trip_in_the_zone_across_summer_time() {
        let amsterdam = tr(Lang::Nl);
        // The clocks go forward on 29 March 2026 at 02:00 and back on 25 October at 03:00.
        for raw in [
            "2026-03-29T01:59",
            "2026-03-29T03:00",
            "2026-06-15T12:00",
            "2026-10-25T01:30",
            "2026-10-25T03:30",
            "2026-12-04T14:05",
        ] {
            let instant = amsterdam.parse_datetime_local(raw).expect(raw);
            assert_eq!(amsterdam.datetime_local_value(instant), raw);
        }
        assert_eq!(
            amsterdam.parse_datetime_local("2026-03-29T01:59"),
            Some(at("2026-03-29T00:59:00Z"))
        );
        assert_eq!(
            amsterdam.parse_datetime_local("2026-03-29T03:00"),
            Some(at("2026-03-29T01:00:00Z"))
        );
        // Seconds are accepted and kept.
        assert_eq!(
            amsterdam.parse_datetime_local("2026-12-04T14:05:30"),
            Some(at("2026-12-04T13:05:30Z"))
        );
        // 02:30 on the spring night does not exist: moved forward by the hour skipped.
        assert_eq!(
            amsterdam.parse_datetime_local("2026-03-29T02:30"),
            Some(at("2026-03-29T01:30:00Z"))
        );
        // 02:30 on the autumn night happens twice: the first (summer time).
        assert_eq!(
            amsterdam.parse_datetime_local("2026-10-25T02:30"),
            Some(at("2026-10-25T00:30:00Z"))
        );
        for raw in [
            "",
            "2026-12-04",
            "14:05",
            "2026-12-04T25:00",
            "2026-12-04 14:05",
            "yesterday",
        ] {
            assert_eq!(amsterdam.parse_datetime_local(raw), None, "{raw:?}");
        }
    }
}
