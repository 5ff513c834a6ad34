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
    let metadata: Value = serde_json::from_str(&entry.metadata)
        .map_err(|error| EntryError::Internal(format!("stored metadata is not JSON: {error}")))?;
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
