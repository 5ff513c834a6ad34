//! Sealing of personal data. Each complaint (its data subject) gets a random 256-bit data key,
//! stored wrapped by the master key; free text is encrypted with XChaCha20-Poly1305 under that
//! key, bound to the complaint id as associated data. Erasure destroys the wrapped key, after
//! which the sealed values in the (immutable) events can no longer be opened by anyone.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use obliged_domain::{Clock, PlainText, SealedText};
use uuid::Uuid;

use crate::database::Database;
use crate::with_pool;

const NONCE_LEN: usize = 24;

/// How a secret sealed under the master key begins when stored (then base64 of nonce and
/// ciphertext).
const SEALED_SECRET: &str = "sealed:v1:";

/// Whether a stored secret is sealed under the master key, rather than stored in clear (as
/// secrets were before they were sealed).
pub fn is_sealed_secret(stored: &str) -> bool {
    stored.starts_with(SEALED_SECRET)
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("cannot read or create the master key file {path}: {source}")]
    MasterKeyFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the master key file {path} does not hold 64 hexadecimal characters")]
    MasterKeyFormat { path: String },
    #[error("a wrapped data key does not open with this master key")]
    WrongMasterKey,
    #[error("a sealed value is damaged or was sealed for another complaint")]
    Damaged,
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

/// The key that wraps every data key. Kept in a file readable only by its owner.
#[derive(Clone)]
pub struct MasterKey(Key);

impl MasterKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Key::from(bytes))
    }

    pub fn generate() -> Self {
        Self(XChaCha20Poly1305::generate_key(&mut OsRng))
    }

    /// Reads the key from `path`; a missing file is an error (readers must not invent a key).
    pub fn load(path: &Path) -> Result<Self, VaultError> {
        let text = fs::read_to_string(path).map_err(|source| VaultError::MasterKeyFile {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_hex(text.trim()).ok_or(VaultError::MasterKeyFormat {
            path: path.display().to_string(),
        })
    }

    /// Reads the key from `path`, or creates the file with a fresh key and mode 0600.
    pub fn load_or_create(path: &Path) -> Result<Self, VaultError> {
        let file_error = |source| VaultError::MasterKeyFile {
            path: path.display().to_string(),
            source,
        };
        match fs::read_to_string(path) {
            Ok(text) => Self::from_hex(text.trim()).ok_or(VaultError::MasterKeyFormat {
                path: path.display().to_string(),
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                if let Some(parent) = path
                    .parent()
                    .filter(|parent| !parent.as_os_str().is_empty())
                {
                    fs::create_dir_all(parent).map_err(file_error)?;
                }
                let key = Self::generate();
                let mut options = fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(path).map_err(file_error)?;
                writeln!(file, "{}", key.to_hex()).map_err(file_error)?;
                file.sync_all().map_err(file_error)?;
                Ok(key)
            }
            Err(error) => Err(file_error(error)),
        }
    }

    fn from_hex(text: &str) -> Option<Self> {
        if text.len() != 64 {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (index, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(text.get(index * 2..index * 2 + 2)?, 16).ok()?;
        }
        Some(Self::from_bytes(bytes))
    }

    fn to_hex(&self) -> String {
        self.0.iter().map(|byte| format!("{byte:02x}")).collect()
    }
}

/// An unwrapped data key, bound to its complaint.
#[derive(Clone)]
pub struct DataKey {
    subject: Uuid,
    key: Key,
    cipher: XChaCha20Poly1305,
}

impl DataKey {
    fn new(subject: Uuid, key: Key) -> Self {
        Self {
            subject,
            cipher: XChaCha20Poly1305::new(&key),
            key,
        }
    }
}

/// What is known of a complaint's data key.
pub enum KeyState {
    Active(DataKey),
    /// Erased: the content sealed with it is gone for good.
    Destroyed,
    Missing,
}

fn encrypt(cipher: &XChaCha20Poly1305, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let ciphertext = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .expect("XChaCha20-Poly1305 encryption does not fail for in-memory buffers");
    let mut sealed = nonce.to_vec();
    sealed.extend_from_slice(&ciphertext);
    sealed
}

fn decrypt(cipher: &XChaCha20Poly1305, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < NONCE_LEN {
        return None;
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    cipher
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .ok()
}

fn seal_secret(master: &XChaCha20Poly1305, context: &str, secret: &str) -> String {
    let sealed = encrypt(master, secret.as_bytes(), context.as_bytes());
    format!("{SEALED_SECRET}{}", BASE64.encode(sealed))
}

fn open_secret(
    master: &XChaCha20Poly1305,
    context: &str,
    stored: &str,
) -> Result<String, VaultError> {
    let Some(sealed) = stored.strip_prefix(SEALED_SECRET) else {
        return Ok(stored.to_owned());
    };
    let bytes = BASE64.decode(sealed).map_err(|_| VaultError::Damaged)?;
    let plaintext = decrypt(master, &bytes, context.as_bytes()).ok_or(VaultError::Damaged)?;
    String::from_utf8(plaintext).map_err(|_| VaultError::Damaged)
}

impl DataKey {
    pub fn seal(&self, text: &PlainText) -> SealedText {
        let sealed = encrypt(
            &self.cipher,
            text.as_str().as_bytes(),
            self.subject.as_bytes(),
        );
        SealedText::from_stored(BASE64.encode(sealed))
    }

    pub fn unseal(&self, sealed: &str) -> Result<String, VaultError> {
        let bytes = BASE64.decode(sealed).map_err(|_| VaultError::Damaged)?;
        let plaintext =
            decrypt(&self.cipher, &bytes, self.subject.as_bytes()).ok_or(VaultError::Damaged)?;
        String::from_utf8(plaintext).map_err(|_| VaultError::Damaged)
    }

    /// A keyed fingerprint of `bytes`: links repeated requests without revealing their content,
    /// and becomes meaningless once the key is destroyed.
    pub fn fingerprint(&self, bytes: &[u8]) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::new()
            .chain_update(b"obliged-fingerprint-v1")
            .chain_update(self.key.as_slice())
            .chain_update(bytes)
            .finalize();
        digest.iter().map(|byte| format!("{byte:02x}")).collect()
    }
}

/// What [`Vault::rewrap_under`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Rewrapped {
    /// Keys now wrapped by the new master key that were wrapped by the old one.
    pub rewrapped: u64,
    /// Keys already wrapped by the new master key (an interrupted run before).
    pub already: u64,
    /// Keys destroyed (erased complaints): nothing to wrap.
    pub destroyed: u64,
}

/// Data keys in the database, wrapped by the master key.
#[derive(Clone)]
pub struct Vault {
    database: Database,
    master: XChaCha20Poly1305,
    clock: Arc<dyn Clock>,
}

impl Vault {
    pub fn new(database: Database, master: &MasterKey, clock: Arc<dyn Clock>) -> Self {
        Self {
            database,
            master: XChaCha20Poly1305::new(&master.0),
            clock,
        }
    }

    /// The data key of `subject`, created if it has none. An erased subject stays erased.
    pub async fn create_key(&self, subject: Uuid) -> Result<KeyState, VaultError> {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        let wrapped = encrypt(&self.master, &key, subject.as_bytes());
        let created_at = self.clock.now().to_string();
        let subject_text = subject.to_string();
        with_pool!(&self.database, pool => {
            sqlx::query(
                "INSERT INTO sealing_keys (subject, wrapped_key, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (subject) DO NOTHING",
            )
            .bind(&subject_text)
            .bind(&wrapped)
            .bind(&created_at)
            .execute(pool)
            .await
            .map(drop)?
        });
        self.key(subject).await
    }

    pub async fn key(&self, subject: Uuid) -> Result<KeyState, VaultError> {
        let subject_text = subject.to_string();
        let row: Option<(Option<Vec<u8>>,)> = with_pool!(&self.database, pool => {
            sqlx::query_as("SELECT wrapped_key FROM sealing_keys WHERE subject = $1")
                .bind(&subject_text)
                .fetch_optional(pool)
                .await?
        });
        self.key_from_row(subject, row.map(|(wrapped,)| wrapped))
    }

    /// The key state of `subject` from its `sealing_keys` row read elsewhere: `None` when there
    /// is no row, `Some(None)` when the key was destroyed.
    pub fn key_from_row(
        &self,
        subject: Uuid,
        row: Option<Option<Vec<u8>>>,
    ) -> Result<KeyState, VaultError> {
        Ok(match row {
            None => KeyState::Missing,
            Some(None) => KeyState::Destroyed,
            Some(Some(wrapped)) => {
                let key = decrypt(&self.master, &wrapped, subject.as_bytes())
                    .ok_or(VaultError::WrongMasterKey)?;
                if key.len() != 32 {
                    return Err(VaultError::WrongMasterKey);
                }
                KeyState::Active(DataKey::new(subject, *Key::from_slice(&key)))
            }
        })
    }

    /// Seals a secret the server must later use in clear (a webhook's signing secret) under the
    /// master key, bound to `context` (what it is the secret of), for storing.
    pub fn seal_secret(&self, context: &str, secret: &str) -> String {
        seal_secret(&self.master, context, secret)
    }

    /// Opens what [`Self::seal_secret`] stored for `context`. A value stored before secrets were
    /// sealed (see [`is_sealed_secret`]) reads as stored.
    pub fn open_secret(&self, context: &str, stored: &str) -> Result<String, VaultError> {
        open_secret(&self.master, context, stored)
    }

    /// Re-wraps every live data key wrapped by this vault's master key under `new`, `batch`
    /// keys per step, calling `progress` after each step. Events are not touched: only the
    /// wrapping changes. Safe to interrupt and run again: a key already wrapped by `new` is
    /// left as it is, and each key is replaced only if nobody changed it since it was read.
    pub async fn rewrap_under(
        &self,
        new: &MasterKey,
        batch: u32,
        mut progress: impl FnMut(&Rewrapped),
    ) -> Result<Rewrapped, VaultError> {
        let new_cipher = XChaCha20Poly1305::new(&new.0);
        let mut done = Rewrapped::default();
        let mut after = String::new();
        loop {
            let rows: Vec<(String, Option<Vec<u8>>)> = with_pool!(&self.database, pool => {
                sqlx::query_as(
                    "SELECT subject, wrapped_key FROM sealing_keys WHERE subject > $1 \
                     ORDER BY subject LIMIT $2",
                )
                .bind(&after)
                .bind(i64::from(batch.max(1)))
                .fetch_all(pool)
                .await?
            });
            let Some((last, _)) = rows.last() else {
                return Ok(done);
            };
            after = last.clone();
            for (subject, wrapped) in rows {
                let Some(wrapped) = wrapped else {
                    done.destroyed += 1;
                    continue;
                };
                let id = Uuid::parse_str(&subject).map_err(|_| VaultError::Damaged)?;
                if decrypt(&new_cipher, &wrapped, id.as_bytes()).is_some() {
                    done.already += 1;
                    continue;
                }
                let key = decrypt(&self.master, &wrapped, id.as_bytes())
                    .ok_or(VaultError::WrongMasterKey)?;
                let rewrapped = encrypt(&new_cipher, &key, id.as_bytes());
                let changed = with_pool!(&self.database, pool => {
                    sqlx::query(
                        "UPDATE sealing_keys SET wrapped_key = $1 \
                         WHERE subject = $2 AND wrapped_key = $3",
                    )
                    .bind(&rewrapped)
                    .bind(&subject)
                    .bind(&wrapped)
                    .execute(pool)
                    .await?
                    .rows_affected()
                });
                if changed == 1 {
                    done.rewrapped += 1;
                } else {
                    // Destroyed meanwhile (an erasure): nothing left to wrap.
                    done.destroyed += 1;
                }
            }
            progress(&done);
        }
    }

    /// Destroys the data key of `subject`. Returns whether a live key was destroyed.
    pub async fn destroy(&self, subject: Uuid) -> Result<bool, VaultError> {
        let subject_text = subject.to_string();
        let destroyed_at = self.clock.now().to_string();
        let result = with_pool!(&self.database, pool => {
            sqlx::query(
                "UPDATE sealing_keys SET wrapped_key = NULL, destroyed_at = $1 \
                 WHERE subject = $2 AND wrapped_key IS NOT NULL",
            )
            .bind(&destroyed_at)
            .bind(&subject_text)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(result == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_sealed_under_the_master_key_opens_only_with_it_and_for_its_context() {
        let master = XChaCha20Poly1305::new(&MasterKey::generate().0);
        let secret = "whsec_0123456789abcdef0123456789abcdef";
        let stored = seal_secret(&master, "webhook-secret:1", secret);
        assert!(is_sealed_secret(&stored));
        assert!(!stored.contains(secret));
        assert_eq!(
            open_secret(&master, "webhook-secret:1", &stored).unwrap(),
            secret
        );
        assert!(matches!(
            open_secret(&master, "webhook-secret:2", &stored),
            Err(VaultError::Damaged)
        ));
        let other = XChaCha20Poly1305::new(&MasterKey::generate().0);
        assert!(matches!(
            open_secret(&other, "webhook-secret:1", &stored),
            Err(VaultError::Damaged)
        ));
        // Stored in clear before secrets were sealed: read as stored.
        assert!(!is_sealed_secret(secret));
        assert_eq!(
            open_secret(&master, "webhook-secret:1", secret).unwrap(),
            secret
        );
    }

    #[test]
    fn sealed_text_opens_only_with_its_own_key_and_subject() {
        let raw_key = MasterKey::generate().0;
        let subject = Uuid::now_v7();
        let key = DataKey::new(subject, raw_key);
        let text = PlainText::parse("Jane Doe, 06-12345678").unwrap();
        let sealed = key.seal(&text);
        assert!(!sealed.as_stored().contains("Jane"));
        assert_eq!(key.unseal(sealed.as_stored()).unwrap(), text.as_str());

        let other_subject = DataKey::new(Uuid::now_v7(), raw_key);
        assert!(other_subject.unseal(sealed.as_stored()).is_err());
        let other_key = DataKey::new(subject, MasterKey::generate().0);
        assert!(other_key.unseal(sealed.as_stored()).is_err());
    }

    #[test]
    fn master_key_file_is_created_private_and_read_back() {
        let directory = std::env::temp_dir().join(format!("obliged-master-{}", Uuid::now_v7()));
        let path = directory.join("master.key");
        let created = MasterKey::load_or_create(&path).unwrap();
        let loaded = MasterKey::load_or_create(&path).unwrap();
        assert_eq!(created.to_hex(), loaded.to_hex());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        fs::write(&path, "not a key").unwrap();
        assert!(matches!(
            MasterKey::load_or_create(&path),
            Err(VaultError::MasterKeyFormat { .. })
        ));
        fs::remove_dir_all(directory).unwrap();
    }
}
