//! Value types. Each validates on construction (`parse`), keeps its field private and
//! serializes as the plain string or enum slug that integrations see in the event JSON.

use std::fmt;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A value that failed validation: which kind of value, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind}: {reason}")]
pub struct InvalidValue {
    pub kind: &'static str,
    pub reason: String,
}

impl InvalidValue {
    fn new(kind: &'static str, reason: impl Into<String>) -> Self {
        Self {
            kind,
            reason: reason.into(),
        }
    }
}

fn is_slug_char(character: char) -> bool {
    character.is_ascii_alphanumeric() || matches!(character, '.' | '_' | '-' | '@')
}

pub(crate) fn parse_slug(
    kind: &'static str,
    raw: &str,
    max_len: usize,
) -> Result<String, InvalidValue> {
    if raw.is_empty() {
        return Err(InvalidValue::new(kind, "must not be empty"));
    }
    if raw.len() > max_len {
        return Err(InvalidValue::new(
            kind,
            format!("must be at most {max_len} characters"),
        ));
    }
    if let Some(bad) = raw.chars().find(|character| !is_slug_char(*character)) {
        return Err(InvalidValue::new(
            kind,
            format!("character {bad:?} is not allowed (letters, digits, '.', '_', '-', '@')"),
        ));
    }
    Ok(raw.to_owned())
}

/// Declares a validated string newtype that serializes as its string.
macro_rules! slug_value {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $max:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
                parse_slug($kind, raw, $max).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidValue;
            fn try_from(raw: String) -> Result<Self, InvalidValue> {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(&self.0)
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                slug_schema($kind, $max).into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}

/// The schema of text that [`parse_slug`] accepts.
#[cfg(feature = "openapi")]
fn slug_schema(kind: &str, max_len: usize) -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .pattern(Some(format!("^{}{{1,{max_len}}}$", SLUG_CLASS)))
        .description(Some(format!(
            "a {kind}: 1 to {max_len} letters, digits, '.', '_', '-' or '@'"
        )))
        .build()
}

/// The characters [`is_slug_char`] allows, as a regular-expression class.
#[cfg(feature = "openapi")]
const SLUG_CLASS: &str = "[A-Za-z0-9._@-]";

slug_value!(
    /// A member of staff, as named by their token (`alice`, `j.smith@example.org`).
    StaffId, "staff id", 64
);
slug_value!(
    /// The name a member of staff uses towards customers; the real identity stays internal.
    StaffAlias, "staff alias", 64
);
slug_value!(
    /// The customer's identifier in the organisation's own systems (not personal data by itself).
    CustomerReference, "customer reference", 64
);
slug_value!(
    /// What the complaint is about (`billing`, `delivery`, `payment-services`).
    Category, "category", 64
);
slug_value!(
    /// An element of a case that nobody may promise to change (an amount set by law).
    ElementName, "element", 64
);

/// Who is accountable: a person, or a team queue (written `team:NAME`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Owner {
    Person(StaffId),
    Team(StaffId),
}

impl Owner {
    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        match raw.strip_prefix("team:") {
            Some(team) => StaffId::parse(team)
                .map(Self::Team)
                .map_err(|error| InvalidValue::new("owner", error.reason)),
            None => StaffId::parse(raw)
                .map(Self::Person)
                .map_err(|error| InvalidValue::new("owner", error.reason)),
        }
    }

    pub fn is_team(&self) -> bool {
        matches!(self, Self::Team(_))
    }
}

impl TryFrom<String> for Owner {
    type Error = InvalidValue;
    fn try_from(raw: String) -> Result<Self, InvalidValue> {
        Self::parse(&raw)
    }
}

impl From<Owner> for String {
    fn from(owner: Owner) -> String {
        owner.to_string()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Owner {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .pattern(Some(format!("^(team:)?{SLUG_CLASS}{{1,64}}$")))
            .description(Some(
                "who is accountable: a staff id (`alice`) or a team queue (`team:billing`)",
            ))
            .into()
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Owner {}

impl fmt::Display for Owner {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Person(person) => write!(formatter, "{person}"),
            Self::Team(team) => write!(formatter, "team:{team}"),
        }
    }
}

/// Declares a `Uuid` newtype used as an identifier chosen by the client.
macro_rules! id_value {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub fn new(id: Uuid) -> Self {
                Self(id)
            }

            pub fn as_uuid(&self) -> &Uuid {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(formatter)
            }
        }
    };
}

id_value!(
    /// Identifies a promise within its complaint.
    PromiseId
);
id_value!(
    /// Identifies a follow-up within its complaint.
    FollowUpId
);

/// Free text as typed by a person, before it is sealed. Never stored: the command path seals it
/// into a [`SealedText`] first.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PlainText(String);

impl PlainText {
    pub const MAX_BYTES: usize = 16 * 1024;

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        if raw.trim().is_empty() {
            return Err(InvalidValue::new("text", "must not be empty"));
        }
        if raw.len() > Self::MAX_BYTES {
            return Err(InvalidValue::new(
                "text",
                format!("must be at most {} bytes", Self::MAX_BYTES),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for PlainText {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        text_schema(
            Self::MAX_BYTES,
            "free text, personal data: sealed at rest, erasable",
        )
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for PlainText {}

/// Text of at most `max_bytes` bytes of UTF-8 that is not only whitespace. JSON Schema counts
/// characters, so `maxLength` is exact for ASCII and generous otherwise: the byte limit stands.
#[cfg(feature = "openapi")]
fn text_schema(
    max_bytes: usize,
    what: &str,
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .min_length(Some(1))
        .max_length(Some(max_bytes))
        .description(Some(format!(
            "{what}; not only whitespace, at most {max_bytes} bytes of UTF-8"
        )))
        .into()
}

impl fmt::Debug for PlainText {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Personal data stays out of logs and panic messages.
        formatter.write_str("PlainText(..)")
    }
}

impl TryFrom<String> for PlainText {
    type Error = InvalidValue;
    fn try_from(raw: String) -> Result<Self, InvalidValue> {
        Self::parse(&raw)
    }
}

impl From<PlainText> for String {
    fn from(text: PlainText) -> String {
        text.0
    }
}

/// Text that is not about the customer and may be stored in clear, such as the legal explanation
/// attached to a non-negotiable element. Never use it for anything a customer wrote or said.
///
/// It may not contain U+0000: it is stored as it is in the event JSON, and PostgreSQL cannot
/// store that character in JSON (free text is sealed first, so it can).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PublicText(String);

impl PublicText {
    pub const MAX_BYTES: usize = 4 * 1024;

    pub fn parse(raw: &str) -> Result<Self, InvalidValue> {
        if raw.trim().is_empty() {
            return Err(InvalidValue::new("text", "must not be empty"));
        }
        if raw.contains('\0') {
            return Err(InvalidValue::new(
                "text",
                "must not contain the NUL character (U+0000)",
            ));
        }
        if raw.len() > Self::MAX_BYTES {
            return Err(InvalidValue::new(
                "text",
                format!("must be at most {} bytes", Self::MAX_BYTES),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for PublicText {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        text_schema(
            Self::MAX_BYTES,
            "public text, stored in clear; no NUL character",
        )
    }
}

#[cfg(feature = "openapi")]
impl utoipa::ToSchema for PublicText {}

impl fmt::Display for PublicText {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl TryFrom<String> for PublicText {
    type Error = InvalidValue;
    fn try_from(raw: String) -> Result<Self, InvalidValue> {
        Self::parse(&raw)
    }
}

impl From<PublicText> for String {
    fn from(text: PublicText) -> String {
        text.0
    }
}

/// Personal data as it is stored in events: encrypted with the data subject's key. The domain
/// treats it as opaque; only the storage adapter can open it. Stored as `{"sealed": "<base64>"}`
/// so that readers can find every sealed value in an event without knowing its schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SealedText {
    sealed: String,
}

impl SealedText {
    pub fn from_stored(sealed: String) -> Self {
        Self { sealed }
    }

    pub fn as_stored(&self) -> &str {
        &self.sealed
    }
}

/// Declares a closed set of kebab-case slugs.
macro_rules! slug_enum {
    ($(#[doc = $doc:literal])* $name:ident { $($variant:ident = $slug:literal),+ $(,)? }) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $slug)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order (the order forms offer them).
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            pub fn as_str(&self) -> &'static str {
                match self {
                    $(Self::$variant => $slug),+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str(self.as_str())
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::Type::String)
                    .enum_values(Some([$($slug),+]))
                    .description(Some(concat!($($doc, "\n"),*).trim()))
                    .into()
            }
        }

        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}
pub(crate) use slug_enum;

slug_enum!(
    /// How the customer reached us, or we reached them.
    Channel { Phone = "phone", Email = "email", Chat = "chat", Letter = "letter", Social = "social", InPerson = "in-person" }
);
slug_enum!(
    /// Whether a contact came from the customer or went to them.
    Direction { Inbound = "inbound", Outbound = "outbound" }
);
slug_enum!(
    /// What was promised.
    PromiseKind { Callback = "callback", Visit = "visit", Information = "information", Refund = "refund", Repair = "repair", Other = "other" }
);
slug_enum!(
    /// Where a complaint can be escalated to.
    EscalationTarget { SpecialCare = "special-care", Lead = "lead", Manager = "manager", Security = "security" }
);
slug_enum!(
    /// Why an escalation happened.
    EscalationReason { Requested = "requested", RepeatContacts = "repeat-contacts", Threat = "threat", ConductResponse = "conduct-response", Ladder = "ladder" }
);
slug_enum!(
    /// Abuse towards staff.
    ConductKind { Insult = "insult", Threat = "threat", Discrimination = "discrimination" }
);
slug_enum!(
    /// The response ladder to a conduct incident, mildest first.
    ConductResponse { Warning = "warning", EndedContact = "ended-contact", Security = "security", PoliceReport = "police-report" }
);
slug_enum!(
    /// Why a case needs a human touch.
    SensitiveReason { Bereavement = "bereavement", Divorce = "divorce", Illness = "illness", Vulnerability = "vulnerability", Other = "other" }
);
slug_enum!(
    /// Why something was handed back to the customer. `third-party-dependency` is always
    /// refused: waiting on a third party is our follow-up, never the customer's job.
    HandBackReason {
        CustomerDecisionRequired = "customer-decision-required",
        CustomerDocumentRequired = "customer-document-required",
        OutsideOurRemit = "outside-our-remit",
        ThirdPartyDependency = "third-party-dependency",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_ids_accept_plain_names_and_refuse_the_rest() {
        assert!(StaffId::parse("alice").is_ok());
        assert!(StaffId::parse("j.smith@example.org").is_ok());
        assert!(StaffId::parse("").is_err());
        assert!(StaffId::parse("alice smith").is_err());
        assert!(StaffId::parse(&"a".repeat(65)).is_err());
        assert!(StaffId::parse("robert'); drop table events;--").is_err());
    }

    #[test]
    fn owners_distinguish_people_from_team_queues() {
        assert_eq!(
            Owner::parse("team:billing").unwrap(),
            Owner::Team(StaffId::parse("billing").unwrap())
        );
        assert_eq!(
            Owner::parse("alice").unwrap(),
            Owner::Person(StaffId::parse("alice").unwrap())
        );
        assert!(Owner::parse("team:").is_err());
        for raw in ["alice", "team:billing"] {
            assert_eq!(Owner::parse(raw).unwrap().to_string(), raw);
        }
    }

    #[test]
    fn plain_text_must_say_something() {
        assert!(PlainText::parse("  \n ").is_err());
        assert!(PlainText::parse(&"x".repeat(PlainText::MAX_BYTES + 1)).is_err());
        assert_eq!(PlainText::parse("hello").unwrap().as_str(), "hello");
        assert_eq!(
            format!("{:?}", PlainText::parse("secret").unwrap()),
            "PlainText(..)"
        );
    }

    #[test]
    fn public_text_is_storable_in_clear() {
        assert!(PublicText::parse("Set by law; see art. 7:17 BW.").is_ok());
        assert!(PublicText::parse("a\0b").is_err());
        assert!(PublicText::parse(&"x".repeat(PublicText::MAX_BYTES + 1)).is_err());
        // Free text is sealed before it is stored, so it may hold any character.
        assert!(PlainText::parse("a\0b").is_ok());
    }

    #[test]
    fn enums_serialize_as_their_slugs() {
        assert_eq!(
            serde_json::to_string(&Channel::InPerson).unwrap(),
            "\"in-person\""
        );
        assert_eq!(
            serde_json::from_str::<EscalationTarget>("\"special-care\"").unwrap(),
            EscalationTarget::SpecialCare
        );
        assert!(serde_json::from_str::<Channel>("\"pigeon\"").is_err());
    }
}
