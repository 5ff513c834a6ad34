//! The ports and settings a command needs besides the complaint itself: the clock (time enters
//! the domain only here) and the policy: the business calendar, deadlines, regimes and ladders,
//! with the file form operators write (`--policy`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::calendar::{BusinessCalendar, CalendarConfig, CalendarError, Offset};
use crate::deadline::Regime;
use crate::ladder::{RungSpec, SubjectKind};
use crate::values::{Category, Channel, StaffId};

/// The source of "now" for command handling. Production uses the system clock (in the binary);
/// tests use [`FixedClock`] and move it by hand.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// A clock that stands still until it is told to move.
#[derive(Debug, Clone)]
pub struct FixedClock(Arc<Mutex<Timestamp>>);

impl FixedClock {
    pub fn new(at: Timestamp) -> Self {
        Self(Arc::new(Mutex::new(at)))
    }

    pub fn set(&self, at: Timestamp) {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = at;
    }

    pub fn advance(&self, by: SignedDuration) {
        let mut now = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *now = crate::time::later(*now, by);
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Deadlines, ladders and thresholds applied when a complaint is handled. Every duration is
/// business time along [`Policy::calendar`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub calendar: BusinessCalendar,
    /// How long we have to acknowledge a new complaint; `None` sets no such deadline.
    pub acknowledge_within: Option<SignedDuration>,
    /// How long we have to respond to an inbound contact that asks for something.
    pub respond_within: SignedDuration,
    /// How long a team queue may hold a complaint before a person must pick it up.
    pub triage_within: SignedDuration,
    /// Inbound contacts without a resolution after which the complaint goes to Special Care.
    pub repeat_contact_threshold: u32,
    /// The regime of complaints no rule matches.
    pub regime: Regime,
    /// The first rule whose category and channel match picks a complaint's regime.
    pub regime_rules: Vec<RegimeRule>,
    /// The ladder of each kind of thing owed; a kind without one gets no schedule.
    pub ladders: BTreeMap<SubjectKind, Vec<RungSpec>>,
    /// Team name to its members, for reports by team.
    pub teams: BTreeMap<String, Vec<StaffId>>,
}

impl Default for Policy {
    /// Elapsed time (an always-open calendar), no regulatory deadlines and no ladders: the
    /// plainest policy, which tests build on.
    fn default() -> Self {
        Self {
            calendar: BusinessCalendar::always_open(),
            acknowledge_within: None,
            respond_within: SignedDuration::from_hours(48),
            triage_within: SignedDuration::from_hours(4),
            repeat_contact_threshold: 3,
            regime: Regime::None,
            regime_rules: Vec::new(),
            ladders: BTreeMap::new(),
            teams: BTreeMap::new(),
        }
    }
}

/// Picks a regime for complaints of a category and/or channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegimeRule {
    #[serde(default)]
    pub category: Option<Category>,
    #[serde(default)]
    pub channel: Option<Channel>,
    pub regime: Regime,
}

impl Policy {
    /// The regime of a complaint filed with this category and channel.
    pub fn regime_for(&self, category: &Category, channel: Channel) -> Regime {
        self.regime_rules
            .iter()
            .find(|rule| {
                rule.category
                    .as_ref()
                    .is_none_or(|wanted| wanted == category)
                    && rule.channel.is_none_or(|wanted| wanted == channel)
            })
            .map_or(self.regime, |rule| rule.regime)
    }

    /// The team a member of staff belongs to (the first, by name, if several).
    pub fn team_of(&self, staff: &StaffId) -> Option<&str> {
        self.teams
            .iter()
            .find(|(_, members)| members.contains(staff))
            .map(|(team, _)| team.as_str())
    }

    pub fn ladder(&self, kind: SubjectKind) -> &[RungSpec] {
        self.ladders.get(&kind).map_or(&[], Vec::as_slice)
    }

    /// Builds a policy from its file form, checking every part.
    pub fn from_config(config: &PolicyConfig) -> Result<Self, PolicyError> {
        let calendar = match &config.calendar {
            Some(calendar) => BusinessCalendar::from_config(calendar)?,
            None => BusinessCalendar::always_open(),
        };
        let defaults = Self::default();
        let business = |field: &'static str, text: &Option<String>| match text {
            None => Ok(None),
            Some(text) => match Offset::parse(text) {
                Some(Offset::BusinessMinutes(minutes)) if minutes > 0 => {
                    Ok(Some(SignedDuration::from_mins(minutes)))
                }
                _ => Err(PolicyError::InvalidDuration {
                    field,
                    value: text.clone(),
                }),
            },
        };
        let deadlines = config.deadlines.clone().unwrap_or_default();
        for (kind, rungs) in &config.ladders {
            for rung in rungs {
                if crate::values::parse_slug("rung name", &rung.name, 64).is_err() {
                    return Err(PolicyError::InvalidRungName {
                        ladder: *kind,
                        name: rung.name.clone(),
                    });
                }
                if rung.mark_broken && *kind != SubjectKind::Promise {
                    return Err(PolicyError::MarkBrokenOutsidePromises { ladder: *kind });
                }
            }
        }
        Ok(Self {
            calendar,
            acknowledge_within: business(
                "deadlines.acknowledge_within",
                &deadlines.acknowledge_within,
            )?,
            respond_within: business("deadlines.respond_within", &deadlines.respond_within)?
                .unwrap_or(defaults.respond_within),
            triage_within: business("deadlines.triage_within", &deadlines.triage_within)?
                .unwrap_or(defaults.triage_within),
            repeat_contact_threshold: config
                .repeat_contacts
                .unwrap_or(defaults.repeat_contact_threshold),
            regime: deadlines.regime.unwrap_or(Regime::None),
            regime_rules: deadlines.rules,
            ladders: config.ladders.clone(),
            teams: config.teams.clone(),
        })
    }
}

/// A policy file (TOML), before it is checked. Every part is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    #[serde(default)]
    pub calendar: Option<CalendarConfig>,
    #[serde(default)]
    pub deadlines: Option<DeadlinesConfig>,
    /// Inbound contacts without a resolution before Special Care takes over (0 turns it off).
    #[serde(default)]
    pub repeat_contacts: Option<u32>,
    #[serde(default)]
    pub ladders: BTreeMap<SubjectKind, Vec<RungSpec>>,
    /// Team name to its members (`billing = ["alice", "bob"]`), for reports by team.
    #[serde(default)]
    pub teams: BTreeMap<String, Vec<StaffId>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlinesConfig {
    /// Business time, such as `8h`.
    #[serde(default)]
    pub acknowledge_within: Option<String>,
    #[serde(default)]
    pub respond_within: Option<String>,
    #[serde(default)]
    pub triage_within: Option<String>,
    #[serde(default)]
    pub regime: Option<Regime>,
    #[serde(default)]
    pub rules: Vec<RegimeRule>,
}

/// Why a policy file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("calendar: {0}")]
    Calendar(#[from] CalendarError),
    #[error("{field}: {value:?} is not a positive business duration such as 8h or 90m")]
    InvalidDuration { field: &'static str, value: String },
    #[error("ladders.{ladder}: rung name {name:?} must be a kebab-case slug")]
    InvalidRungName { ladder: SubjectKind, name: String },
    #[error("ladders.{ladder}: only promise rungs can mark something broken")]
    MarkBrokenOutsidePromises { ladder: SubjectKind },
}

/// The `Services` of the `Complaint` aggregate.
#[derive(Clone)]
pub struct ComplaintServices {
    pub clock: Arc<dyn Clock>,
    pub policy: Policy,
}

impl ComplaintServices {
    pub fn new(clock: Arc<dyn Clock>, policy: Policy) -> Self {
        Self { clock, policy }
    }
}
