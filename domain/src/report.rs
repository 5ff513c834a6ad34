//! Accountability reports, rebuilt from events: fed the ledger in order, a [`ReportBuilder`]
//! keeps a compact state per complaint and turns it into figures per group (owner, team, promise
//! kind, channel, category, period), each with the complaints and ledger positions behind it.
//! The same ledger and parameters always give the same report. No personal data enters it: only
//! identifiers, enum slugs, times and positions.
//!
//! # Which facts count
//!
//! The report is **as of `to`**: an event counts only if its `at` is before `to` (events
//! recorded later, or dated later, are ignored), so each figure describes the state at `to`. A
//! fact is **in the report** if its attribution time falls in `[from, to)`:
//!
//! - a **promise** belongs to the moment it was made; its group is its promiser (owner), the
//!   promiser's team (`Policy::team_of`, else `unassigned`), its kind, and the filing channel
//!   and category of its complaint;
//! - a **complaint-level** fact (filing, obligations, acknowledgement, resolution, contacts,
//!   hand-backs, escalations, reopening) belongs to the moment the complaint was filed; its
//!   group is the complaint's accountable owner when it was first resolved (before `to`), or its
//!   owner at `to` if it was not (`unassigned` if it never had one; a team queue `team:x` is the
//!   owner `team:x` and the team `x`; a person's team is `Policy::team_of`), its filing channel
//!   and category, and the kind `n/a`.
//!
//! The period of a fact is the ISO week (`2026-W10`) or month (`2026-03`) of its attribution
//! time in the calendar's time zone. Every group also adds up into the `total`.
//!
//! # Figures
//!
//! Promises (each promise once, by its latest state as of `to`):
//! - `promises_made`;
//! - `promises_kept_on_time`, `promises_kept_late`: kept, with the `on_time` the domain
//!   recorded (judged against the due time in force when it was kept);
//! - `promises_withdrawn`: withdrawn (with the customer's consent, which the domain requires);
//! - `promises_overdue`: still owed, and its current due time is before `to`;
//! - `promises_not_yet_due`: still owed, due at or after `to`;
//! - `promises_broken`: promises marked broken (`PromiseBroken`) at least once, whatever
//!   happened to them afterwards, so a promise can be both broken and later kept;
//! - `promises_renegotiated_with_consent`, `promises_renegotiated_without_consent`: the number of
//!   renegotiations (not promises) with and without the customer's agreement;
//! - `kept_on_time_rate` = kept on time ÷ (kept on time + kept late + withdrawn + overdue): the
//!   share of promises with a verdict as of `to` that were kept on time. A promise not yet due
//!   has no verdict and is left out; a withdrawn promise counts as not kept, because a promise we
//!   stopped owing was still not kept. Empty (`null`) when nothing has a verdict.
//!
//! Complaints (each complaint filed in the range):
//! - `complaints_filed`;
//! - `obligations_opened`, `obligations_answered_on_time`, `obligations_answered_late`
//!   (discharged, with the domain's `on_time`) and `obligations_unanswered` (not discharged as
//!   of `to`);
//! - `time_to_acknowledge`: business time from filing to the first outbound contact, promise
//!   made, resolution proposed, resolution or met acknowledgement deadline; and
//!   `complaints_unacknowledged` for complaints with none of these before `to`;
//! - `time_to_resolve`: business time from filing to the first `ComplaintResolved`;
//! - durations give their count, median and 90th percentile by the **nearest-rank** method: the
//!   p-th percentile of n sorted values is the value at rank ⌈p·n/100⌉ (so the median of an even
//!   number of values is the lower middle one); business time follows the policy's calendar;
//! - `complaints_resolved` (resolved at least once), `complaints_reopened` (reopened at least
//!   once) and `reopen_rate` = reopened ÷ resolved;
//! - `repeat_contacts`: number the inbound contacts logged while the complaint was not resolved
//!   (from filing to its resolution, and again from each reopening) 1, 2, 3, …: every one after
//!   the first is a repeat contact; and `escalated_for_repeat_contacts`, the complaints escalated
//!   with the reason `repeat-contacts`;
//! - `hand_backs` (each hand-back to the customer) and `escalations` (each escalation);
//! - the regulatory buckets, by the first resolution: `resolved_within_3_business_days` (by the
//!   close of the third business day after the day of filing), else `resolved_within_4_weeks`,
//!   else `resolved_within_8_weeks` (calendar weeks in the calendar's zone), else
//!   `resolved_later`; `unresolved` when there was no resolution before `to`.
//!
//! # Evidence
//!
//! Every count is the number of its evidence items, and each item names the complaint (and the
//! promise or obligation) and the ledger positions of the events that made it count: for a
//! promise kept late, its `PromiseMade` and `PromiseKept`; for a time to resolve, the
//! `ComplaintFiled` and the `ComplaintResolved`, with the business time. A rate's evidence is its
//! denominator, each item's `detail` saying whether it counted in the numerator.

use std::collections::{BTreeMap, HashMap};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Span, Timestamp};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::deadline::DeadlineKind;
use crate::event::ComplaintEvent;
use crate::policy::Policy;
use crate::projection::UNASSIGNED;
use crate::values::{
    slug_enum, Category, Channel, Direction, EscalationReason, Owner, PromiseId, PromiseKind,
    StaffId,
};

/// The promise kind of complaint-level facts, which belong to no promise.
pub const NOT_APPLICABLE: &str = "n/a";

/// The longest range a report may span (the business calendar's own horizon).
pub const MAX_RANGE_DAYS: i64 = 3_660;

slug_enum!(
    /// What a report can be grouped by.
    Dimension { Owner = "owner", Team = "team", Kind = "kind", Channel = "channel", Category = "category", Period = "period" }
);

slug_enum!(
    /// The length of a report period.
    Period { Week = "week", Month = "month" }
);

/// Why report parameters were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReportParamsError {
    #[error("the range is empty: to ({to}) must be after from ({from})")]
    EmptyRange { from: Timestamp, to: Timestamp },
    #[error("the range from {from} to {to} is longer than {MAX_RANGE_DAYS} days")]
    RangeTooLong { from: Timestamp, to: Timestamp },
    #[error("unknown dimension {0:?}; group by owner, team, kind, channel, category or period")]
    UnknownDimension(String),
    #[error("dimension {0} is named more than once")]
    DuplicateDimension(Dimension),
    #[error("unknown period {0:?}; use week or month")]
    UnknownPeriod(String),
}

impl Dimension {
    pub fn parse(raw: &str) -> Result<Self, ReportParamsError> {
        Self::ALL
            .iter()
            .copied()
            .find(|dimension| dimension.as_str() == raw.trim())
            .ok_or_else(|| ReportParamsError::UnknownDimension(raw.trim().to_owned()))
    }

    /// Parses a comma-separated list such as `owner,period`; an empty text names none.
    pub fn parse_list(raw: &str) -> Result<Vec<Self>, ReportParamsError> {
        if raw.trim().is_empty() {
            return Ok(Vec::new());
        }
        raw.split(',').map(Self::parse).collect()
    }
}

impl Period {
    pub fn parse(raw: &str) -> Result<Self, ReportParamsError> {
        match raw.trim() {
            "week" => Ok(Self::Week),
            "month" => Ok(Self::Month),
            other => Err(ReportParamsError::UnknownPeriod(other.to_owned())),
        }
    }

    /// The first day of the period that holds `date`.
    fn start(self, date: Date) -> Date {
        match self {
            Self::Week => date
                .checked_sub(Span::new().days(i64::from(date.weekday().to_monday_zero_offset())))
                .unwrap_or(date),
            Self::Month => date.first_of_month(),
        }
    }

    fn next(self, start: Date) -> Option<Date> {
        match self {
            Self::Week => start.checked_add(Span::new().weeks(1)).ok(),
            Self::Month => start.checked_add(Span::new().months(1)).ok(),
        }
    }

    fn key_of_date(self, date: Date) -> String {
        match self {
            Self::Week => {
                let week = date.iso_week_date();
                format!("{:04}-W{:02}", week.year(), week.week())
            }
            Self::Month => format!("{:04}-{:02}", date.year(), date.month()),
        }
    }

    /// The period of an instant in a time zone: `2026-W10` or `2026-03`.
    pub fn key(self, at: Timestamp, time_zone: &TimeZone) -> String {
        self.key_of_date(time_zone.to_datetime(at).date())
    }

    /// Every period that overlaps `[from, to)`, in order.
    pub fn keys_between(self, from: Timestamp, to: Timestamp, time_zone: &TimeZone) -> Vec<String> {
        let mut keys = Vec::new();
        let mut start = self.start(time_zone.to_datetime(from).date());
        loop {
            let begins = start
                .to_zoned(time_zone.clone())
                .map_or(Timestamp::MAX, |zoned| zoned.timestamp());
            if begins >= to {
                break;
            }
            keys.push(self.key_of_date(start));
            match self.next(start) {
                Some(next) => start = next,
                None => break,
            }
        }
        keys
    }
}

/// What a report covers and how it is grouped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportParams {
    from: Timestamp,
    to: Timestamp,
    group_by: Vec<Dimension>,
    period: Period,
}

impl ReportParams {
    pub fn new(
        from: Timestamp,
        to: Timestamp,
        group_by: Vec<Dimension>,
        period: Period,
    ) -> Result<Self, ReportParamsError> {
        if to <= from {
            return Err(ReportParamsError::EmptyRange { from, to });
        }
        if to.duration_since(from) > SignedDuration::from_hours(24 * MAX_RANGE_DAYS) {
            return Err(ReportParamsError::RangeTooLong { from, to });
        }
        for (index, dimension) in group_by.iter().enumerate() {
            if group_by[..index].contains(dimension) {
                return Err(ReportParamsError::DuplicateDimension(*dimension));
            }
        }
        Ok(Self {
            from,
            to,
            group_by,
            period,
        })
    }

    pub fn from(&self) -> Timestamp {
        self.from
    }

    pub fn to(&self) -> Timestamp {
        self.to
    }

    pub fn group_by(&self) -> &[Dimension] {
        &self.group_by
    }

    pub fn period(&self) -> Period {
        self.period
    }

    /// The same range and period grouped differently.
    pub fn regrouped(&self, group_by: Vec<Dimension>) -> Result<Self, ReportParamsError> {
        Self::new(self.from, self.to, group_by, self.period)
    }
}

/// One thing that made a figure count: a complaint (and the promise or obligation of it), the
/// ledger positions of the events involved, and for durations the business time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub complaint_id: Uuid,
    pub promise_id: Option<PromiseId>,
    pub obligation_no: Option<u32>,
    pub positions: Vec<u64>,
    /// A slug saying how the item counted (a rate's outcome, an escalation's target and reason,
    /// a hand-back's reason).
    pub detail: Option<String>,
    pub business_time: Option<SignedDuration>,
}

impl Evidence {
    fn of(complaint_id: Uuid, positions: Vec<u64>) -> Self {
        Self {
            complaint_id,
            promise_id: None,
            obligation_no: None,
            positions,
            detail: None,
            business_time: None,
        }
    }

    fn promise(complaint_id: Uuid, promise_id: PromiseId, positions: Vec<u64>) -> Self {
        Self {
            promise_id: Some(promise_id),
            ..Self::of(complaint_id, positions)
        }
    }

    fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// The value of a figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    Count(u64),
    Rate {
        numerator: u64,
        denominator: u64,
    },
    Durations {
        count: u64,
        median: Option<SignedDuration>,
        p90: Option<SignedDuration>,
    },
}

impl Value {
    /// A rate as a fraction between 0 and 1; `None` for an empty denominator or another kind.
    pub fn rate(&self) -> Option<f64> {
        match *self {
            Self::Rate {
                numerator,
                denominator,
            } if denominator > 0 => Some(numerator as f64 / denominator as f64),
            _ => None,
        }
    }
}

/// One figure of a group, with its evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub name: &'static str,
    pub value: Value,
    pub evidence: Vec<Evidence>,
}

/// The figures of one combination of dimension values.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// The value of each grouping dimension, in the order asked for; empty for the total.
    pub key: Vec<(Dimension, String)>,
    pub figures: Vec<Figure>,
}

impl Group {
    pub fn figure(&self, name: &str) -> Option<&Figure> {
        self.figures.iter().find(|figure| figure.name == name)
    }

    /// The value of dimension `dimension` in this group's key.
    pub fn dimension(&self, dimension: Dimension) -> Option<&str> {
        self.key
            .iter()
            .find(|(named, _)| *named == dimension)
            .map(|(_, value)| value.as_str())
    }
}

/// An accountability report.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountabilityReport {
    pub params: ReportParams,
    /// The time zone periods are cut in (the policy calendar's).
    pub time_zone: String,
    /// Every period overlapping the range, in order.
    pub periods: Vec<String>,
    /// The last ledger position read.
    pub through_position: u64,
    /// One per combination of dimension values that has any fact, ordered by key; none when the
    /// report is not grouped.
    pub groups: Vec<Group>,
    pub total: Group,
}

/// The names of the figures, in the order every group lists them.
pub const FIGURES: [&str; 30] = [
    "promises_made",
    "promises_kept_on_time",
    "promises_kept_late",
    "promises_withdrawn",
    "promises_overdue",
    "promises_not_yet_due",
    "promises_broken",
    "promises_renegotiated_with_consent",
    "promises_renegotiated_without_consent",
    "kept_on_time_rate",
    "complaints_filed",
    "obligations_opened",
    "obligations_answered_on_time",
    "obligations_answered_late",
    "obligations_unanswered",
    "time_to_acknowledge",
    "complaints_unacknowledged",
    "time_to_resolve",
    "complaints_resolved",
    "complaints_reopened",
    "reopen_rate",
    "repeat_contacts",
    "escalated_for_repeat_contacts",
    "hand_backs",
    "escalations",
    "resolved_within_3_business_days",
    "resolved_within_4_weeks",
    "resolved_within_8_weeks",
    "resolved_later",
    "unresolved",
];

/// A moment in a complaint's life: where in the ledger and when.
#[derive(Debug, Clone, Copy)]
struct Mark {
    position: u64,
    at: Timestamp,
}

#[derive(Debug, Clone)]
struct Filed {
    mark: Mark,
    channel: Channel,
    category: Category,
}

#[derive(Debug, Clone, Copy)]
enum Settled {
    Kept { position: u64, on_time: bool },
    Withdrawn { position: u64 },
}

#[derive(Debug, Clone)]
struct PromiseTrack {
    made: Mark,
    kind: PromiseKind,
    promiser: StaffId,
    due_at: Timestamp,
    /// The renegotiation that set the current due time, if any.
    due_set_at: Option<u64>,
    settled: Option<Settled>,
    broken: Vec<u64>,
    renegotiations: Vec<(u64, bool)>,
}

#[derive(Debug, Clone)]
struct ObligationTrack {
    opened: u64,
    answered: Option<(u64, bool)>,
}

/// What the report needs to remember of one complaint.
#[derive(Debug, Clone, Default)]
struct Track {
    filed: Option<Filed>,
    last_at: Option<Timestamp>,
    owner: Option<Owner>,
    /// The owner when the complaint was first resolved.
    owner_at_resolution: Option<Option<Owner>>,
    acknowledged: Option<Mark>,
    resolved: Option<Mark>,
    resolved_now: bool,
    inbound_unresolved: u32,
    repeat_contacts: Vec<u64>,
    repeat_escalation: Option<u64>,
    escalations: Vec<(u64, String)>,
    hand_backs: Vec<(u64, &'static str)>,
    reopens: Vec<u64>,
    obligations: BTreeMap<u32, ObligationTrack>,
    promises: BTreeMap<PromiseId, PromiseTrack>,
}

impl Track {
    fn acknowledge(&mut self, mark: Mark) {
        self.acknowledged.get_or_insert(mark);
    }
}

/// The business time of an event, `None` for the one event that carries none
/// (`ObligationOpened`, which happens with the contact before it).
fn event_at(event: &ComplaintEvent) -> Option<Timestamp> {
    use ComplaintEvent as E;
    match event {
        E::ObligationOpened { .. } => None,
        E::ComplaintFiled { at, .. }
        | E::ContactLogged { at, .. }
        | E::ObligationDischarged { at, .. }
        | E::OwnerAssigned { at, .. }
        | E::HandoverOffered { at, .. }
        | E::HandoverAccepted { at, .. }
        | E::HandoverDeclined { at, .. }
        | E::TakenOver { at, .. }
        | E::HandedBackToCustomer { at, .. }
        | E::PromiseMade { at, .. }
        | E::PromiseKept { at, .. }
        | E::PromiseRenegotiated { at, .. }
        | E::PromiseWithdrawn { at, .. }
        | E::PromiseBroken { at, .. }
        | E::ReminderRecorded { at, .. }
        | E::FollowUpScheduled { at, .. }
        | E::FollowUpCompleted { at, .. }
        | E::Escalated { at, .. }
        | E::ConductIncidentRecorded { at, .. }
        | E::SensitiveCaseFlagged { at, .. }
        | E::SensitiveFlagCleared { at, .. }
        | E::NonNegotiableElementFlagged { at, .. }
        | E::ResolutionProposed { at, .. }
        | E::ResolutionAccepted { at, .. }
        | E::ResolutionRejected { at, .. }
        | E::ComplaintResolved { at, .. }
        | E::ComplaintClosed { at, .. }
        | E::ComplaintReopened { at, .. }
        | E::DeadlinesSet { at, .. }
        | E::DeadlineExtended { at, .. }
        | E::DeadlineMet { at, .. }
        | E::ClockPaused { at, .. }
        | E::ClockResumed { at, .. }
        | E::PausedClockContacted { at, .. }
        | E::LadderScheduled { at, .. }
        | E::RungReached { at, .. } => Some(*at),
    }
}

/// Builds an accountability report from ledger entries fed in position order.
pub struct ReportBuilder<'p> {
    params: ReportParams,
    policy: &'p Policy,
    complaints: HashMap<Uuid, Track>,
    through_position: u64,
}

impl<'p> ReportBuilder<'p> {
    pub fn new(params: ReportParams, policy: &'p Policy) -> Self {
        Self {
            params,
            policy,
            complaints: HashMap::new(),
            through_position: 0,
        }
    }

    /// Takes the event at ledger `position` of complaint `complaint_id`.
    pub fn push(&mut self, position: u64, complaint_id: Uuid, event: &ComplaintEvent) {
        use ComplaintEvent as E;
        self.through_position = self.through_position.max(position);
        let at = match event_at(event) {
            Some(at) => at,
            // An obligation is opened by the contact just before it, at the same moment.
            None => match self
                .complaints
                .get(&complaint_id)
                .and_then(|track| track.last_at)
            {
                Some(at) => at,
                None => return,
            },
        };
        if at >= self.params.to {
            return;
        }
        let track = self.complaints.entry(complaint_id).or_default();
        track.last_at = Some(at);
        let mark = Mark { position, at };
        match event {
            E::ComplaintFiled {
                channel, category, ..
            } => {
                track.filed = Some(Filed {
                    mark,
                    channel: *channel,
                    category: category.clone(),
                });
            }
            E::ContactLogged { direction, .. } => match direction {
                Direction::Inbound => {
                    if !track.resolved_now {
                        track.inbound_unresolved += 1;
                        if track.inbound_unresolved > 1 {
                            track.repeat_contacts.push(position);
                        }
                    }
                }
                Direction::Outbound => track.acknowledge(mark),
            },
            E::ObligationOpened { obligation_no, .. } => {
                track.obligations.insert(
                    *obligation_no,
                    ObligationTrack {
                        opened: position,
                        answered: None,
                    },
                );
            }
            E::ObligationDischarged {
                obligation_no,
                on_time,
                ..
            } => {
                if let Some(obligation) = track.obligations.get_mut(obligation_no) {
                    obligation.answered.get_or_insert((position, *on_time));
                }
            }
            E::OwnerAssigned { owner, .. }
            | E::HandoverAccepted { to: owner, .. }
            | E::TakenOver { to: owner, .. } => track.owner = Some(owner.clone()),
            E::HandedBackToCustomer { reason, .. } => {
                track.hand_backs.push((position, reason.as_str()));
            }
            E::PromiseMade {
                promise_id,
                kind,
                due_at,
                promiser,
                ..
            } => {
                track.promises.insert(
                    *promise_id,
                    PromiseTrack {
                        made: mark,
                        kind: *kind,
                        promiser: promiser.clone(),
                        due_at: *due_at,
                        due_set_at: None,
                        settled: None,
                        broken: Vec::new(),
                        renegotiations: Vec::new(),
                    },
                );
                track.acknowledge(mark);
            }
            E::PromiseKept {
                promise_id,
                on_time,
                ..
            } => {
                if let Some(promise) = track.promises.get_mut(promise_id) {
                    promise.settled.get_or_insert(Settled::Kept {
                        position,
                        on_time: *on_time,
                    });
                }
            }
            E::PromiseRenegotiated {
                promise_id,
                due_at,
                customer_agreed,
                ..
            } => {
                if let Some(promise) = track.promises.get_mut(promise_id) {
                    promise.due_at = *due_at;
                    promise.due_set_at = Some(position);
                    promise.renegotiations.push((position, *customer_agreed));
                }
            }
            E::PromiseWithdrawn { promise_id, .. } => {
                if let Some(promise) = track.promises.get_mut(promise_id) {
                    promise
                        .settled
                        .get_or_insert(Settled::Withdrawn { position });
                }
            }
            E::PromiseBroken { promise_id, .. } => {
                if let Some(promise) = track.promises.get_mut(promise_id) {
                    promise.broken.push(position);
                }
            }
            E::Escalated { to, reason, .. } => {
                track.escalations.push((position, format!("{to}/{reason}")));
                if *reason == EscalationReason::RepeatContacts {
                    track.repeat_escalation.get_or_insert(position);
                }
            }
            E::ResolutionProposed { .. } => track.acknowledge(mark),
            E::DeadlineMet {
                deadline: DeadlineKind::Acknowledge,
                ..
            } => track.acknowledge(mark),
            E::ComplaintResolved { .. } => {
                track.acknowledge(mark);
                if track.resolved.is_none() {
                    track.resolved = Some(mark);
                    track.owner_at_resolution = Some(track.owner.clone());
                }
                track.resolved_now = true;
            }
            E::ComplaintReopened { .. } => {
                track.reopens.push(position);
                track.resolved_now = false;
            }
            _ => {}
        }
    }

    fn in_range(&self, at: Timestamp) -> bool {
        self.params.from <= at && at < self.params.to
    }

    fn key(&self, facts: &Facts<'_>) -> Vec<String> {
        let time_zone = self.policy.calendar.time_zone();
        self.params
            .group_by
            .iter()
            .map(|dimension| match dimension {
                Dimension::Owner => facts.owner.clone(),
                Dimension::Team => facts.team.clone(),
                Dimension::Kind => facts.kind.to_owned(),
                Dimension::Channel => facts.channel.as_str().to_owned(),
                Dimension::Category => facts.category.to_string(),
                Dimension::Period => self.params.period.key(facts.at, time_zone),
            })
            .collect()
    }

    fn team_of(&self, staff: &StaffId) -> String {
        self.policy.team_of(staff).unwrap_or(UNASSIGNED).to_owned()
    }

    /// The report of everything pushed so far.
    pub fn finish(self) -> AccountabilityReport {
        let mut groups: BTreeMap<Vec<String>, Tally> = BTreeMap::new();
        let mut total = Tally::default();
        let calendar = &self.policy.calendar;
        let to = self.params.to;
        for (complaint_id, track) in &self.complaints {
            let Some(filed) = &track.filed else {
                continue;
            };
            for (promise_id, promise) in &track.promises {
                if !self.in_range(promise.made.at) {
                    continue;
                }
                let facts = Facts {
                    owner: promise.promiser.to_string(),
                    team: self.team_of(&promise.promiser),
                    kind: promise.kind.as_str(),
                    channel: filed.channel,
                    category: &filed.category,
                    at: promise.made.at,
                };
                let group = groups.entry(self.key(&facts)).or_default();
                for tally in [group, &mut total] {
                    tally.add_promise(*complaint_id, *promise_id, promise, to);
                }
            }
            if self.in_range(filed.mark.at) {
                let owner = match &track.owner_at_resolution {
                    Some(owner) => owner.as_ref(),
                    None => track.owner.as_ref(),
                };
                let facts = Facts {
                    owner: owner.map_or_else(|| UNASSIGNED.to_owned(), ToString::to_string),
                    team: match owner {
                        Some(Owner::Person(person)) => self.team_of(person),
                        Some(Owner::Team(team)) => team.to_string(),
                        None => UNASSIGNED.to_owned(),
                    },
                    kind: NOT_APPLICABLE,
                    channel: filed.channel,
                    category: &filed.category,
                    at: filed.mark.at,
                };
                let group = groups.entry(self.key(&facts)).or_default();
                for tally in [group, &mut total] {
                    tally.add_complaint(*complaint_id, filed, track, calendar);
                }
            }
        }
        let time_zone = calendar.time_zone();
        let group_by = &self.params.group_by;
        let groups = if group_by.is_empty() {
            Vec::new()
        } else {
            groups
                .into_iter()
                .map(|(key, tally)| Group {
                    key: group_by.iter().copied().zip(key).collect(),
                    figures: tally.figures(),
                })
                .collect()
        };
        AccountabilityReport {
            time_zone: time_zone.iana_name().unwrap_or("UTC").to_owned(),
            periods: self
                .params
                .period
                .keys_between(self.params.from, to, time_zone),
            through_position: self.through_position,
            groups,
            total: Group {
                key: Vec::new(),
                figures: total.figures(),
            },
            params: self.params,
        }
    }
}

/// The dimension values of one fact.
struct Facts<'a> {
    owner: String,
    team: String,
    kind: &'static str,
    channel: Channel,
    category: &'a Category,
    at: Timestamp,
}

/// The evidence of every figure of one group, gathered before it becomes figures.
#[derive(Debug, Default)]
struct Tally {
    promises_made: Vec<Evidence>,
    kept_on_time: Vec<Evidence>,
    kept_late: Vec<Evidence>,
    withdrawn: Vec<Evidence>,
    overdue: Vec<Evidence>,
    not_yet_due: Vec<Evidence>,
    broken: Vec<Evidence>,
    renegotiated_with_consent: Vec<Evidence>,
    renegotiated_without_consent: Vec<Evidence>,
    complaints_filed: Vec<Evidence>,
    obligations_opened: Vec<Evidence>,
    obligations_on_time: Vec<Evidence>,
    obligations_late: Vec<Evidence>,
    obligations_unanswered: Vec<Evidence>,
    acknowledged: Vec<Evidence>,
    unacknowledged: Vec<Evidence>,
    resolved_in: Vec<Evidence>,
    resolved: Vec<Evidence>,
    reopened: Vec<Evidence>,
    reopen_rate: Vec<Evidence>,
    repeat_contacts: Vec<Evidence>,
    escalated_for_repeat_contacts: Vec<Evidence>,
    hand_backs: Vec<Evidence>,
    escalations: Vec<Evidence>,
    within_3_business_days: Vec<Evidence>,
    within_4_weeks: Vec<Evidence>,
    within_8_weeks: Vec<Evidence>,
    later: Vec<Evidence>,
    unresolved: Vec<Evidence>,
}

impl Tally {
    fn add_promise(
        &mut self,
        complaint_id: Uuid,
        promise_id: PromiseId,
        promise: &PromiseTrack,
        to: Timestamp,
    ) {
        let made = promise.made.position;
        let item = |positions: Vec<u64>| Evidence::promise(complaint_id, promise_id, positions);
        self.promises_made.push(item(vec![made]));
        match promise.settled {
            Some(Settled::Kept {
                position,
                on_time: true,
            }) => self.kept_on_time.push(item(vec![made, position])),
            Some(Settled::Kept {
                position,
                on_time: false,
            }) => self.kept_late.push(item(vec![made, position])),
            Some(Settled::Withdrawn { position }) => {
                self.withdrawn.push(item(vec![made, position]))
            }
            None => {
                let positions = std::iter::once(made).chain(promise.due_set_at).collect();
                if promise.due_at < to {
                    self.overdue.push(item(positions));
                } else {
                    self.not_yet_due.push(item(positions));
                }
            }
        }
        if !promise.broken.is_empty() {
            let positions = std::iter::once(made)
                .chain(promise.broken.iter().copied())
                .collect();
            self.broken.push(item(positions));
        }
        for &(position, agreed) in &promise.renegotiations {
            let list = if agreed {
                &mut self.renegotiated_with_consent
            } else {
                &mut self.renegotiated_without_consent
            };
            list.push(item(vec![made, position]));
        }
    }

    fn add_complaint(
        &mut self,
        complaint_id: Uuid,
        filed: &Filed,
        track: &Track,
        calendar: &crate::calendar::BusinessCalendar,
    ) {
        let item = |positions: Vec<u64>| Evidence::of(complaint_id, positions);
        let filed_at = filed.mark.at;
        let filing = filed.mark.position;
        self.complaints_filed.push(item(vec![filing]));
        for (obligation_no, obligation) in &track.obligations {
            let item = |positions: Vec<u64>| Evidence {
                obligation_no: Some(*obligation_no),
                ..Evidence::of(complaint_id, positions)
            };
            self.obligations_opened.push(item(vec![obligation.opened]));
            match obligation.answered {
                Some((position, true)) => self
                    .obligations_on_time
                    .push(item(vec![obligation.opened, position])),
                Some((position, false)) => self
                    .obligations_late
                    .push(item(vec![obligation.opened, position])),
                None => self
                    .obligations_unanswered
                    .push(item(vec![obligation.opened])),
            }
        }
        match track.acknowledged {
            Some(mark) => self.acknowledged.push(Evidence {
                business_time: Some(calendar.between(filed_at, mark.at)),
                ..item(vec![filing, mark.position])
            }),
            None => self.unacknowledged.push(item(vec![filing])),
        }
        match track.resolved {
            Some(mark) => {
                self.resolved_in.push(Evidence {
                    business_time: Some(calendar.between(filed_at, mark.at)),
                    ..item(vec![filing, mark.position])
                });
                self.resolved.push(item(vec![filing, mark.position]));
                let bucket = if mark.at <= calendar.end_of_business_day(filed_at, 3) {
                    &mut self.within_3_business_days
                } else if mark.at <= calendar.add_weeks(filed_at, 4) {
                    &mut self.within_4_weeks
                } else if mark.at <= calendar.add_weeks(filed_at, 8) {
                    &mut self.within_8_weeks
                } else {
                    &mut self.later
                };
                bucket.push(item(vec![filing, mark.position]));
                let positions: Vec<u64> = std::iter::once(mark.position)
                    .chain(track.reopens.iter().copied())
                    .collect();
                let reopened = !track.reopens.is_empty();
                if reopened {
                    self.reopened.push(item(track.reopens.clone()));
                }
                self.reopen_rate.push(item(positions).detail(if reopened {
                    "reopened"
                } else {
                    "not-reopened"
                }));
            }
            None => self.unresolved.push(item(vec![filing])),
        }
        for &position in &track.repeat_contacts {
            self.repeat_contacts.push(item(vec![position]));
        }
        if let Some(position) = track.repeat_escalation {
            self.escalated_for_repeat_contacts
                .push(item(vec![position]));
        }
        for (position, detail) in &track.escalations {
            self.escalations
                .push(item(vec![*position]).detail(detail.clone()));
        }
        for &(position, reason) in &track.hand_backs {
            self.hand_backs.push(item(vec![position]).detail(reason));
        }
    }

    fn figures(self) -> Vec<Figure> {
        let count = |name: &'static str, mut evidence: Vec<Evidence>| {
            sort(&mut evidence);
            Figure {
                name,
                value: Value::Count(evidence.len() as u64),
                evidence,
            }
        };
        let durations = |name: &'static str, mut evidence: Vec<Evidence>| {
            sort(&mut evidence);
            let mut times: Vec<SignedDuration> = evidence
                .iter()
                .filter_map(|item| item.business_time)
                .collect();
            times.sort();
            Figure {
                name,
                value: Value::Durations {
                    count: times.len() as u64,
                    median: nearest_rank(&times, 50),
                    p90: nearest_rank(&times, 90),
                },
                evidence,
            }
        };
        let verdicts: Vec<Evidence> = [
            ("kept-on-time", &self.kept_on_time),
            ("kept-late", &self.kept_late),
            ("withdrawn", &self.withdrawn),
            ("overdue", &self.overdue),
        ]
        .into_iter()
        .flat_map(|(detail, items)| items.iter().map(move |item| item.clone().detail(detail)))
        .collect();
        let kept_on_time_rate = rate("kept_on_time_rate", self.kept_on_time.len(), verdicts);
        let reopen_rate = rate("reopen_rate", self.reopened.len(), self.reopen_rate);
        vec![
            count("promises_made", self.promises_made),
            count("promises_kept_on_time", self.kept_on_time),
            count("promises_kept_late", self.kept_late),
            count("promises_withdrawn", self.withdrawn),
            count("promises_overdue", self.overdue),
            count("promises_not_yet_due", self.not_yet_due),
            count("promises_broken", self.broken),
            count(
                "promises_renegotiated_with_consent",
                self.renegotiated_with_consent,
            ),
            count(
                "promises_renegotiated_without_consent",
                self.renegotiated_without_consent,
            ),
            kept_on_time_rate,
            count("complaints_filed", self.complaints_filed),
            count("obligations_opened", self.obligations_opened),
            count("obligations_answered_on_time", self.obligations_on_time),
            count("obligations_answered_late", self.obligations_late),
            count("obligations_unanswered", self.obligations_unanswered),
            durations("time_to_acknowledge", self.acknowledged),
            count("complaints_unacknowledged", self.unacknowledged),
            durations("time_to_resolve", self.resolved_in),
            count("complaints_resolved", self.resolved),
            count("complaints_reopened", self.reopened),
            reopen_rate,
            count("repeat_contacts", self.repeat_contacts),
            count(
                "escalated_for_repeat_contacts",
                self.escalated_for_repeat_contacts,
            ),
            count("hand_backs", self.hand_backs),
            count("escalations", self.escalations),
            count(
                "resolved_within_3_business_days",
                self.within_3_business_days,
            ),
            count("resolved_within_4_weeks", self.within_4_weeks),
            count("resolved_within_8_weeks", self.within_8_weeks),
            count("resolved_later", self.later),
            count("unresolved", self.unresolved),
        ]
    }
}

fn rate(name: &'static str, numerator: usize, mut denominator: Vec<Evidence>) -> Figure {
    sort(&mut denominator);
    Figure {
        name,
        value: Value::Rate {
            numerator: numerator as u64,
            denominator: denominator.len() as u64,
        },
        evidence: denominator,
    }
}

/// Evidence in ledger order, so the same ledger always lists it the same way.
fn sort(evidence: &mut [Evidence]) {
    evidence.sort_by(|a, b| {
        (&a.positions, a.complaint_id, a.promise_id, a.obligation_no).cmp(&(
            &b.positions,
            b.complaint_id,
            b.promise_id,
            b.obligation_no,
        ))
    });
}

/// The `percent`-th percentile of sorted values by nearest rank: the value at rank
/// ⌈percent·n/100⌉ (1-based).
pub fn nearest_rank<T: Copy>(sorted: &[T], percent: usize) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank.min(sorted.len()) - 1).copied()
}

#[cfg(test)]
mod tests;
