//! The command forms of the complaint page: one table ([`SPECS`]) says, for each command a
//! person can run from the console, its fields and who may run it. The same table renders the
//! forms and decodes what they post into the domain's command (by way of its JSON form, so
//! that the domain's own decoding and validation apply). No rule of the complaint is here:
//! the engine decides, and the page explains its refusal.

use std::collections::HashMap;

use obliged_domain::{
    Channel, ComplaintCommand, ConductKind, ConductResponse, Direction, EscalationTarget,
    HandBackReason, PlainText, PromiseKind, SensitiveReason,
};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::i18n::Tr;
use crate::session::Can;

/// How a field is entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// One line of text.
    Line,
    /// Free text.
    Area,
    /// One of a closed set of the domain (its name in the catalog).
    Choice(&'static str),
    /// A tick box: `true` when ticked.
    Check,
    /// Yes or no, asked explicitly.
    YesNo,
    /// A date and time in the policy's zone.
    DateTime,
    /// One of the complaint's open promises.
    Promise,
    /// One of the complaint's open follow-ups.
    FollowUp,
    /// One of the complaint's unmet deadlines.
    Deadline,
    /// A new id, derived from the form's idempotency key (a repeat names the same thing).
    NewId,
}

#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub input: Input,
    pub required: bool,
}

const fn req(name: &'static str, input: Input) -> Field {
    Field {
        name,
        input,
        required: true,
    }
}

const fn opt(name: &'static str, input: Input) -> Field {
    Field {
        name,
        input,
        required: false,
    }
}

/// Where a form sits on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Contact,
    Ownership,
    Promises,
    FollowUps,
    Customer,
    Flags,
    Deadlines,
    Resolution,
}

impl Group {
    pub const ALL: [Group; 8] = [
        Group::Contact,
        Group::Promises,
        Group::FollowUps,
        Group::Ownership,
        Group::Customer,
        Group::Resolution,
        Group::Flags,
        Group::Deadlines,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Group::Contact => "group-contact",
            Group::Ownership => "group-ownership",
            Group::Promises => "group-promises",
            Group::FollowUps => "group-follow-ups",
            Group::Customer => "group-customer",
            Group::Flags => "group-flags",
            Group::Deadlines => "group-deadlines",
            Group::Resolution => "group-resolution",
        }
    }
}

/// A command as a form.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// The command's name in the domain (the JSON `type`).
    pub command: &'static str,
    /// Its path segment and the form's id (`cmd-SLUG`).
    pub slug: &'static str,
    pub group: Group,
    pub need: Can,
    pub fields: &'static [Field],
}

use Input::*;

/// Every command a person runs from the console. (The promise clock's own commands, marking
/// a promise broken, reminders and rungs, and recalculating deadlines are not staff's to run
/// from here.)
pub const SPECS: &[Spec] = &[
    Spec {
        command: "LogContact",
        slug: "log-contact",
        group: Group::Contact,
        need: Can::Command,
        fields: &[
            req("direction", Choice("direction")),
            req("channel", Choice("channel")),
            req("summary", Area),
            opt("request", Check),
            opt("alias", Line),
        ],
    },
    Spec {
        command: "MakePromise",
        slug: "make-promise",
        group: Group::Promises,
        need: Can::Command,
        fields: &[
            req("promise_id", NewId),
            req("kind", Choice("promise-kind")),
            req("description", Area),
            req("due_at", DateTime),
            opt("concerns", Line),
        ],
    },
    Spec {
        command: "KeepPromise",
        slug: "keep-promise",
        group: Group::Promises,
        need: Can::Command,
        fields: &[req("promise_id", Promise), req("evidence", Area)],
    },
    Spec {
        command: "RenegotiatePromise",
        slug: "renegotiate-promise",
        group: Group::Promises,
        need: Can::Command,
        fields: &[
            req("promise_id", Promise),
            req("due_at", DateTime),
            req("reason", Area),
            opt("customer_agreed", Check),
        ],
    },
    Spec {
        command: "WithdrawPromise",
        slug: "withdraw-promise",
        group: Group::Promises,
        need: Can::Command,
        fields: &[
            req("promise_id", Promise),
            req("reason", Area),
            opt("customer_consented", Check),
        ],
    },
    Spec {
        command: "ScheduleFollowUp",
        slug: "schedule-follow-up",
        group: Group::FollowUps,
        need: Can::Command,
        fields: &[
            req("follow_up_id", NewId),
            req("description", Area),
            req("due_at", DateTime),
        ],
    },
    Spec {
        command: "CompleteFollowUp",
        slug: "complete-follow-up",
        group: Group::FollowUps,
        need: Can::Command,
        fields: &[req("follow_up_id", FollowUp), req("outcome", Area)],
    },
    Spec {
        command: "AssignOwner",
        slug: "assign-owner",
        group: Group::Ownership,
        need: Can::Command,
        fields: &[req("owner", Line)],
    },
    Spec {
        command: "OfferHandover",
        slug: "offer-handover",
        group: Group::Ownership,
        need: Can::Command,
        fields: &[req("to", Line), opt("note", Area)],
    },
    Spec {
        command: "AcceptHandover",
        slug: "accept-handover",
        group: Group::Ownership,
        need: Can::Command,
        fields: &[],
    },
    Spec {
        command: "DeclineHandover",
        slug: "decline-handover",
        group: Group::Ownership,
        need: Can::Command,
        fields: &[req("reason", Area)],
    },
    Spec {
        command: "TakeOver",
        slug: "take-over",
        group: Group::Ownership,
        need: Can::TakeOver,
        fields: &[req("reason", Area)],
    },
    Spec {
        command: "HandBackToCustomer",
        slug: "hand-back-to-customer",
        group: Group::Customer,
        need: Can::Command,
        fields: &[req("reason", Choice("hand-back-reason")), req("note", Area)],
    },
    Spec {
        command: "ProposeResolution",
        slug: "propose-resolution",
        group: Group::Resolution,
        need: Can::Command,
        fields: &[req("summary", Area)],
    },
    Spec {
        command: "RecordCustomerResponse",
        slug: "record-customer-response",
        group: Group::Resolution,
        need: Can::Command,
        fields: &[req("accepted", YesNo), opt("comment", Area)],
    },
    Spec {
        command: "Resolve",
        slug: "resolve",
        group: Group::Resolution,
        need: Can::Command,
        fields: &[opt("override_reason", Area)],
    },
    Spec {
        command: "Close",
        slug: "close",
        group: Group::Resolution,
        need: Can::Command,
        fields: &[],
    },
    Spec {
        command: "Reopen",
        slug: "reopen",
        group: Group::Resolution,
        need: Can::Command,
        fields: &[req("reason", Area)],
    },
    Spec {
        command: "Escalate",
        slug: "escalate",
        group: Group::Flags,
        need: Can::Command,
        fields: &[req("to", Choice("escalation-target")), req("reason", Area)],
    },
    Spec {
        command: "RecordConductIncident",
        slug: "record-conduct-incident",
        group: Group::Flags,
        need: Can::Command,
        fields: &[
            req("kind", Choice("conduct-kind")),
            req("response", Choice("conduct-response")),
            req("description", Area),
            opt("alias", Line),
        ],
    },
    Spec {
        command: "FlagSensitive",
        slug: "flag-sensitive",
        group: Group::Flags,
        need: Can::Command,
        fields: &[req("reason", Choice("sensitive-reason")), opt("note", Area)],
    },
    Spec {
        command: "ClearSensitiveFlag",
        slug: "clear-sensitive-flag",
        group: Group::Flags,
        need: Can::Command,
        fields: &[req("reason", Area)],
    },
    Spec {
        command: "FlagNonNegotiable",
        slug: "flag-non-negotiable",
        group: Group::Flags,
        need: Can::Command,
        fields: &[
            req("element", Line),
            req("explanation", Area),
            req("referral", Area),
        ],
    },
    Spec {
        command: "PauseClock",
        slug: "pause-clock",
        group: Group::Deadlines,
        need: Can::Command,
        fields: &[req("reason", Area)],
    },
    Spec {
        command: "ResumeClock",
        slug: "resume-clock",
        group: Group::Deadlines,
        need: Can::Command,
        fields: &[],
    },
    Spec {
        command: "ExtendDeadline",
        slug: "extend-deadline",
        group: Group::Deadlines,
        need: Can::Command,
        fields: &[
            req("deadline", Deadline),
            opt("due_at", DateTime),
            req("notice", Area),
        ],
    },
];

pub fn spec(slug: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|spec| spec.slug == slug)
}

/// The slugs of a closed set of the domain, in the order forms offer them.
pub fn options(set: &str) -> Vec<&'static str> {
    fn all<T: Copy>(values: &[T], name: fn(&T) -> &'static str) -> Vec<&'static str> {
        values.iter().map(name).collect()
    }
    match set {
        "direction" => all(Direction::ALL, Direction::as_str),
        "channel" => all(Channel::ALL, Channel::as_str),
        "promise-kind" => all(PromiseKind::ALL, PromiseKind::as_str),
        "escalation-target" => all(EscalationTarget::ALL, EscalationTarget::as_str),
        "conduct-kind" => all(ConductKind::ALL, ConductKind::as_str),
        "conduct-response" => all(ConductResponse::ALL, ConductResponse::as_str),
        "sensitive-reason" => all(SensitiveReason::ALL, SensitiveReason::as_str),
        "hand-back-reason" => all(HandBackReason::ALL, HandBackReason::as_str),
        _ => Vec::new(),
    }
}

/// Why a posted form did not become a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormError {
    /// A required field is empty.
    Missing(&'static str),
    /// A field's value is not valid (the domain's decoding refused it).
    Invalid(&'static str),
}

impl FormError {
    pub fn field(&self) -> &'static str {
        match self {
            FormError::Missing(field) | FormError::Invalid(field) => field,
        }
    }

    /// The message shown beside the form.
    pub fn message(&self, t: &Tr) -> String {
        let label = t.t(&format!("field-{}", self.field()));
        match self {
            FormError::Missing(_) => t.t1("form-missing", "field", &label),
            FormError::Invalid(_) => t.t1("form-invalid", "field", &label),
        }
    }
}

/// A new id for `field`, the same for every post of the form with this idempotency key.
pub fn new_id(idempotency_key: &str, field: &str) -> Uuid {
    Uuid::new_v5(
        &Uuid::NAMESPACE_URL,
        format!("obliged:console:{idempotency_key}:{field}").as_bytes(),
    )
}

/// The domain's command from a posted form.
pub fn decode(
    spec: &Spec,
    form: &HashMap<String, String>,
    idempotency_key: &str,
    tr: &Tr,
) -> Result<ComplaintCommand<PlainText>, FormError> {
    let mut object = Map::new();
    object.insert("type".into(), Value::String(spec.command.into()));
    for field in spec.fields {
        let raw = form.get(field.name).map(|value| value.trim()).unwrap_or("");
        let value = match field.input {
            Check => Some(Value::Bool(!raw.is_empty())),
            NewId => Some(Value::String(
                new_id(idempotency_key, field.name).to_string(),
            )),
            _ if raw.is_empty() => None,
            YesNo => match raw {
                "yes" => Some(Value::Bool(true)),
                "no" => Some(Value::Bool(false)),
                _ => return Err(FormError::Invalid(field.name)),
            },
            DateTime => Some(Value::String(
                tr.parse_datetime_local(raw)
                    .ok_or(FormError::Invalid(field.name))?
                    .to_string(),
            )),
            // Free text keeps its line breaks and inner spacing: only the ends are trimmed.
            Line | Area | Choice(_) | Promise | FollowUp | Deadline => {
                Some(Value::String(raw.to_owned()))
            }
        };
        match value {
            Some(value) => {
                object.insert(field.name.into(), value);
            }
            None if field.required => return Err(FormError::Missing(field.name)),
            None => {
                object.insert(field.name.into(), Value::Null);
            }
        }
    }
    let fields = spec.fields;
    serde_path_to_error::deserialize::<_, ComplaintCommand<PlainText>>(Value::Object(object))
        .map_err(|error| {
            let path = error.path().to_string();
            let named = fields
                .iter()
                .find(|field| path.split('.').next() == Some(field.name))
                .map(|field| field.name);
            FormError::Invalid(named.unwrap_or_else(|| fields.first().map_or("form", |f| f.name)))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command a person runs has a form, and every form names a command of the domain
    /// with exactly its fields.
    #[test]
    fn every_form_names_a_command_of_the_domain() {
        let names = ComplaintCommand::<PlainText>::NAMES;
        for spec in SPECS {
            assert!(
                names.contains(&spec.command),
                "{} is not a command",
                spec.command
            );
        }
        let clock_only = [
            "FileComplaint",
            "MarkPromiseBroken",
            "RecordReminder",
            "ReachRung",
            "RecalculateDeadlines",
        ];
        for name in names {
            assert!(
                clock_only.contains(name) || SPECS.iter().any(|spec| spec.command == *name),
                "{name} has no form"
            );
        }
    }

    #[test]
    fn every_choice_offers_the_domains_values() {
        for spec in SPECS {
            for field in spec.fields {
                if let Choice(set) = field.input {
                    assert!(!options(set).is_empty(), "{set} offers nothing");
                }
            }
        }
    }
}
