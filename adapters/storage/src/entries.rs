//! Entries: the one place that turns what the log holds into what a reader or an integration
//! may see. A [`LedgerReader`] is the handle every ledger consumer (feed, stream, webhooks,
//! NATS, reports) is built from: it reads the ledger and opens or redacts sealed values, and it
//! cannot run a command. [`Disclosure`] says whether a reader may see personal data; an
//! [`Opener`] applies it; [`entry_json`] is the JSON form every consumer receives.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;
use uuid::Uuid;

use crate::database::Database;
use crate::ledger::{Ledger, LedgerEntry, LedgerError};
use crate::vault::{KeyState, Vault, VaultError};

/// The metadata field that says when an event was recorded (see `engine`).
const RECORDED_AT: &str = "recorded_at";
/// The metadata field that names who ran the command (see `engine`).
const ACTOR: &str = "actor";
/// The metadata and payload field of the alias staff used towards the customer (see `engine`).
const ALIAS: &str = "alias";
/// The payload field of events that names the member of staff who did it.
const STAFF: &str = "staff";

/// Why a ledger entry could not be turned into what a reader sees.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<VaultError> for EntryError {
    fn from(error: VaultError) -> Self {
        match error {
            VaultError::Database(error) if crate::database::is_unavailable(&error) => {
                Self::Unavailable(error.to_string())
            }
            other => Self::Internal(other.to_string()),
        }
    }
}

/// Reads the ledger for a consumer: entries in order, the head and its changes, and an
/// [`Opener`] for the consumer's disclosure. Cheap to clone.
#[derive(Clone)]
pub struct LedgerReader {
    ledger: Arc<Ledger>,
    vault: Vault,
}

impl LedgerReader {
    pub fn new(ledger: Arc<Ledger>, vault: Vault) -> Self {
        Self { ledger, vault }
    }

    /// The ledger itself: positions, the head and its changes, entries after a position.
    pub fn ledger(&self) -> &Arc<Ledger> {
        &self.ledger
    }

    /// The database the ledger lives in, where consumers keep their own state (subscriptions,
    /// checkpoints) so that it commits beside what they read.
    pub fn database(&self) -> &Database {
        self.ledger.database()
    }

    /// Up to `limit` entries after position `after`, in order.
    pub async fn entries_after(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<LedgerEntry>, LedgerError> {
        self.ledger.entries_after(after, limit).await
    }

    /// Seals a secret the server must later use in clear under the master key (see
    /// [`Vault::seal_secret`]).
    pub fn seal_secret(&self, context: &str, secret: &str) -> String {
        self.vault.seal_secret(context, secret)
    }

    /// Opens a secret [`Self::seal_secret`] stored (or one stored in clear before secrets were
    /// sealed).
    pub fn open_secret(&self, context: &str, stored: &str) -> Result<String, VaultError> {
        self.vault.open_secret(context, stored)
    }

    /// Something that opens sealed values for a reader with this disclosure. A redacting
    /// opener never reads a key.
    pub fn opener(&self, disclosure: Disclosure) -> Opener {
        Opener {
            vault: self.vault.clone(),
            disclosure,
            keys: HashMap::new(),
        }
    }
}

/// Whether a reader may see personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disclosure {
    /// Sealed values are opened (or read `[erased]` after erasure).
    Full,
    /// Sealed values read `[sealed]`.
    Redacted,
}

/// A ledger entry as readers and integrations see it (feed, stream, webhooks, NATS): its stored
/// payload and metadata as JSON, sealed values opened or redacted by `opener`.
pub async fn entry_json(entry: &LedgerEntry, opener: &mut Opener) -> Result<Value, EntryError> {
    let mut payload: Value = serde_json::from_str(&entry.payload)
        .map_err(|error| EntryError::Internal(format!("stored payload is not JSON: {error}")))?;
    opener.open(&entry.complaint_id, &mut payload).await?;
    let mut metadata: Value = serde_json::from_str(&entry.metadata)
        .map_err(|error| EntryError::Internal(format!("stored metadata is not JSON: {error}")))?;
    if opener.disclosure == Disclosure::Redacted {
        hide_staff_behind_alias(&mut payload, &mut metadata);
    }
    Ok(serde_json::json!({
        "position": entry.position,
        "complaint_id": entry.complaint_id,
        "sequence": entry.sequence,
        "type": entry.event_type,
        "version": entry.event_version,
        "recorded_at": metadata.get(RECORDED_AT),
        "metadata": metadata,
        "payload": payload,
        "hash": entry.hash,
    }))
}

/// Staff who face a customer under an alias are known to integrations by that alias only: in
/// every event of a command run under an alias (the metadata names it; events recorded before
/// it did are recognised by their own `alias` field), the actor reads as the alias and the
/// event's `staff` field is null. Staff and readers with full disclosure see both.
fn hide_staff_behind_alias(payload: &mut Value, metadata: &mut Value) {
    let alias = metadata
        .get(ALIAS)
        .and_then(Value::as_str)
        .or_else(|| {
            // The payload is the event enum, externally tagged: `{"ContactLogged": {...}}`.
            payload
                .as_object()
                .and_then(|tagged| tagged.values().next())
                .and_then(|body| body.get(ALIAS))
                .and_then(Value::as_str)
        })
        .map(str::to_owned);
    let Some(alias) = alias else {
        return;
    };
    if let Some(metadata) = metadata.as_object_mut() {
        metadata.insert(ACTOR.to_owned(), Value::String(alias.clone()));
        metadata.insert(ALIAS.to_owned(), Value::String(alias));
    }
    if let Some(body) = payload
        .as_object_mut()
        .and_then(|tagged| tagged.values_mut().next())
        .and_then(Value::as_object_mut)
    {
        if body.contains_key(STAFF) {
            body.insert(STAFF.to_owned(), Value::Null);
        }
    }
}

/// Opens the sealed values of events of many complaints, looking each complaint's key up once.
pub struct Opener {
    vault: Vault,
    disclosure: Disclosure,
    keys: HashMap<Uuid, KeyState>,
}

impl Opener {
    /// Replaces the sealed values in `value`, an event payload of `complaint_id`.
    pub async fn open(&mut self, complaint_id: &str, value: &mut Value) -> Result<(), EntryError> {
        if self.disclosure == Disclosure::Redacted {
            open_sealed(value, None);
            return Ok(());
        }
        let key = match Uuid::parse_str(complaint_id) {
            Ok(id) => {
                if !self.keys.contains_key(&id) {
                    let key = self.vault.key(id).await?;
                    self.keys.insert(id, key);
                }
                self.keys.get(&id)
            }
            Err(_) => None,
        };
        open_sealed(value, Some(key.unwrap_or(&KeyState::Missing)));
        Ok(())
    }
}

/// Replaces every sealed value (`{"sealed": "…"}`) in `value` by its plaintext, `[erased]`
/// once the key is destroyed, or `[sealed]` when the reader may not see personal data.
pub(crate) fn open_sealed(value: &mut Value, key: Option<&KeyState>) {
    match value {
        Value::Object(map) => {
            if map.len() == 1 {
                if let Some(Value::String(sealed)) = map.get("sealed") {
                    *value = Value::String(match key {
                        None => "[sealed]".to_owned(),
                        Some(KeyState::Active(key)) => key
                            .unseal(sealed)
                            .unwrap_or_else(|_| "[unreadable]".to_owned()),
                        Some(KeyState::Destroyed | KeyState::Missing) => "[erased]".to_owned(),
                    });
                    return;
                }
            }
            for field in map.values_mut() {
                open_sealed(field, key);
            }
        }
        Value::Array(items) => {
            for item in items {
                open_sealed(item, key);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::hide_staff_behind_alias;

    #[test]
    fn every_event_of_a_command_under_an_alias_names_the_alias_only() {
        let mut payload = json!({"ObligationOpened": {"obligation_no": 1, "contact_no": 1}});
        let mut metadata = json!({"actor": "alice", "alias": "Sam", "command": "LogContact"});
        hide_staff_behind_alias(&mut payload, &mut metadata);
        assert_eq!(metadata["actor"], "Sam");
        assert_eq!(
            payload,
            json!({"ObligationOpened": {"obligation_no": 1, "contact_no": 1}})
        );
    }

    #[test]
    fn an_event_recorded_before_the_metadata_named_the_alias_is_recognised_by_its_own_field() {
        let mut payload = json!({"ContactLogged": {"staff": "alice", "alias": "Sam"}});
        let mut metadata = json!({"actor": "alice"});
        hide_staff_behind_alias(&mut payload, &mut metadata);
        assert_eq!(metadata, json!({"actor": "Sam", "alias": "Sam"}));
        assert_eq!(
            payload,
            json!({"ContactLogged": {"staff": null, "alias": "Sam"}})
        );
    }

    #[test]
    fn staff_acting_as_themselves_keep_their_id() {
        let mut payload = json!({"ContactLogged": {"staff": "alice", "alias": null}});
        let mut metadata = json!({"actor": "alice"});
        hide_staff_behind_alias(&mut payload, &mut metadata);
        assert_eq!(metadata, json!({"actor": "alice"}));
        assert_eq!(payload["ContactLogged"]["staff"], "alice");
    }
}
