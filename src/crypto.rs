//! Secrets at rest: values sealed with AES-256-GCM before they reach the database (bank account numbers,
//! TOTP secrets), so a dump of the database alone reveals neither.
//!
//! A stored value reads `s1:<key id>:<base64 of nonce ‖ ciphertext ‖ tag>`. The key id names the key of the
//! key ring that sealed it, so keys can be rotated: a new current key seals from then on, every key still in
//! the ring opens what it sealed, and start-up re-seals older values under the current key. Each value is
//! sealed with its place (table, column and row) as associated data, so a sealed value copied into another
//! row does not open there.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

const FORMAT: &str = "s1";
const NONCE_BYTES: usize = 12;
const KEY_BYTES: usize = 32;
/// The key id of a key generated for a developer's machine.
const DEVELOPMENT_KEY_ID: &str = "dev";

/// The `[crypto]` settings: the keys by id, each 32 bytes in base64, and the id of the one that seals.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CryptoSettings {
    pub current_key: String,
    pub keys: BTreeMap<String, SecretString>,
    /// Where a development machine keeps the key generated for it when no key is configured.
    pub development_key_file: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyError {
    #[error("crypto.keys: the key id `{0}` is not 1 to 32 lower-case letters, digits, `_` or `-`")]
    BadId(String),
    #[error("crypto.keys.{0} is not 32 bytes in base64 (e.g. `openssl rand -base64 32`)")]
    BadKey(String),
    #[error("crypto.keys.{0} is not random enough to be a key")]
    WeakKey(String),
    #[error("crypto.current_key `{0}` names no key in crypto.keys")]
    UnknownCurrent(String),
    #[error("no key to seal secrets with: set crypto.keys and crypto.current_key")]
    NoKey,
    #[error("the development key file {0}: {1}")]
    File(String, String),
}

/// Why a stored value did not open.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OpenError {
    #[error("it was sealed with the key `{0}`, which is not in crypto.keys")]
    UnknownKey(String),
    #[error("it is not a sealed value")]
    Malformed,
    #[error("it does not open with its key here (changed, or moved from another row)")]
    Forged,
}

/// A value read back from the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    pub text: String,
    /// Not sealed under the current key (an older key, or still plain text): worth sealing again.
    pub stale: bool,
}

/// The keys that open stored values, and the current one, which seals new ones.
#[derive(Clone, Default)]
pub struct Keyring {
    keys: HashMap<String, Aes256Gcm>,
    current: Option<String>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut ids: Vec<&String> = self.keys.keys().collect();
        ids.sort();
        f.debug_struct("Keyring").field("keys", &ids).field("current", &self.current).finish()
    }
}

fn check_id(id: &str) -> Result<(), KeyError> {
    let fits = (1..=32).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if fits { Ok(()) } else { Err(KeyError::BadId(id.to_owned())) }
}

/// The 32 bytes of the key `id`, refused unless they look random: a key typed by hand, or repeating a few
/// bytes, would be guessable.
fn decode_key(id: &str, text: &str) -> Result<[u8; KEY_BYTES], KeyError> {
    let bytes = STANDARD.decode(text.trim()).map_err(|_| KeyError::BadKey(id.to_owned()))?;
    let key: [u8; KEY_BYTES] = bytes.try_into().map_err(|_| KeyError::BadKey(id.to_owned()))?;
    let mut seen = [false; 256];
    for byte in key {
        seen[usize::from(byte)] = true;
    }
    // 32 random bytes repeat a value now and then; fewer than 16 different ones is (almost) never chance.
    if seen.iter().filter(|s| **s).count() < 16 {
        return Err(KeyError::WeakKey(id.to_owned()));
    }
    Ok(key)
}

impl Keyring {
    /// A ring with `keys` (id → 32 bytes in base64) sealing with `current`.
    pub fn new<'a>(keys: impl IntoIterator<Item = (&'a str, &'a str)>, current: &str) -> Result<Self, KeyError> {
        let mut ring = HashMap::new();
        for (id, text) in keys {
            check_id(id)?;
            let key = decode_key(id, text)?;
            ring.insert(id.to_owned(), Aes256Gcm::new(&key.into()));
        }
        if !ring.contains_key(current) {
            return Err(KeyError::UnknownCurrent(current.to_owned()));
        }
        Ok(Self { keys: ring, current: Some(current.to_owned()) })
    }

    /// The ring the settings describe; without configured keys, a development machine's own key from
    /// `development_key_file`, made on first use (production refuses to start without keys before this).
    pub fn from_settings(settings: &CryptoSettings) -> Result<Self, KeyError> {
        if settings.keys.is_empty() {
            let key = development_key(Path::new(&settings.development_key_file))?;
            return Self::new([(DEVELOPMENT_KEY_ID, key.as_str())], DEVELOPMENT_KEY_ID);
        }
        Self::new(settings.keys.iter().map(|(id, key)| (id.as_str(), key.expose_secret())), &settings.current_key)
    }

    /// Checks the settings without reading or making a development key file.
    pub fn check_settings(settings: &CryptoSettings) -> Result<(), KeyError> {
        if settings.keys.is_empty() {
            return Ok(());
        }
        Self::from_settings(settings).map(|_| ())
    }

    /// The prefix of every value sealed under the current key, to find the others.
    pub fn current_prefix(&self) -> Option<String> {
        self.current.as_ref().map(|id| format!("{FORMAT}:{id}:"))
    }

    /// `plain` sealed under the current key for the place `context` (e.g. `user_totp.secret:42`).
    pub fn seal(&self, plain: &str, context: &str) -> Result<String, KeyError> {
        let id = self.current.as_ref().ok_or(KeyError::NoKey)?;
        let cipher = &self.keys[id];
        let nonce: [u8; NONCE_BYTES] = rand::random();
        let sealed = cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain.as_bytes(), aad: context.as_bytes() })
            .map_err(|_| KeyError::NoKey)?;
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        Ok(format!("{FORMAT}:{id}:{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Opens a stored value of the place `context`. A value that is not sealed at all is taken as it is:
    /// it was written before values were sealed, and is marked stale so it gets sealed.
    pub fn open(&self, stored: &str, context: &str) -> Result<Opened, OpenError> {
        let Some(rest) = stored.strip_prefix(FORMAT).and_then(|r| r.strip_prefix(':')) else {
            return Ok(Opened { text: stored.to_owned(), stale: true });
        };
        let (id, body) = rest.split_once(':').ok_or(OpenError::Malformed)?;
        let cipher = self.keys.get(id).ok_or_else(|| OpenError::UnknownKey(id.to_owned()))?;
        let bytes = URL_SAFE_NO_PAD.decode(body).map_err(|_| OpenError::Malformed)?;
        if bytes.len() < NONCE_BYTES {
            return Err(OpenError::Malformed);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let plain = cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: context.as_bytes() })
            .map_err(|_| OpenError::Forged)?;
        let text = String::from_utf8(plain).map_err(|_| OpenError::Malformed)?;
        Ok(Opened { text, stale: self.current.as_deref() != Some(id) })
    }
}

/// A new random key in the form `crypto.keys` takes.
pub fn generate_key() -> String {
    STANDARD.encode(rand::random::<[u8; KEY_BYTES]>())
}

/// The key kept in `path`, made (readable by its owner only) when the file does not exist yet.
fn development_key(path: &Path) -> Result<String, KeyError> {
    let failed = |e: std::io::Error| KeyError::File(path.display().to_string(), e.to_string());
    match std::fs::read_to_string(path) {
        Ok(text) => return Ok(text.trim().to_owned()),
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(failed(e)),
        Err(_) => {}
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(failed)?;
    }
    let key = generate_key();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            std::io::Write::write_all(&mut file, format!("{key}\n").as_bytes()).map_err(failed)?;
            tracing::warn!(
                file = %path.display(),
                "no crypto.keys configured: generated a development key for secrets at rest; losing it loses them"
            );
            Ok(key)
        }
        // Another process made it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Ok(std::fs::read_to_string(path).map_err(failed)?.trim().to_owned())
        }
        Err(e) => Err(failed(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K1: &str = "kZ+lEmlHJ1lbHKgIMQxtWj9GjMAUNUujsvexZR5UGNc=";
    const K2: &str = "5NgG3wdxgZA15tJLHVQknhfNFGlIsDu3dG+Cfvs1Qbw=";

    #[test]
    fn a_sealed_value_opens_only_in_its_own_place_and_hides_its_text() {
        let ring = Keyring::new([("k1", K1)], "k1").unwrap();
        let sealed = ring.seal("6222021234567890", "company_bank_accounts.account_no:7").unwrap();
        assert!(sealed.starts_with("s1:k1:"));
        assert!(!sealed.contains("6222021234567890"));
        assert_ne!(sealed, ring.seal("6222021234567890", "company_bank_accounts.account_no:7").unwrap());
        let opened = ring.open(&sealed, "company_bank_accounts.account_no:7").unwrap();
        assert_eq!(opened, Opened { text: "6222021234567890".into(), stale: false });
        assert_eq!(ring.open(&sealed, "company_bank_accounts.account_no:8"), Err(OpenError::Forged));
    }

    #[test]
    fn after_rotation_old_values_open_and_are_marked_for_sealing_again() {
        let old = Keyring::new([("k1", K1)], "k1").unwrap();
        let sealed = old.seal("JBSWY3DPEHPK3PXP", "user_totp.secret:1").unwrap();
        let rotated = Keyring::new([("k1", K1), ("k2", K2)], "k2").unwrap();
        assert_eq!(rotated.open(&sealed, "user_totp.secret:1").unwrap().text, "JBSWY3DPEHPK3PXP");
        assert!(rotated.open(&sealed, "user_totp.secret:1").unwrap().stale);
        let only_new = Keyring::new([("k2", K2)], "k2").unwrap();
        assert_eq!(only_new.open(&sealed, "user_totp.secret:1"), Err(OpenError::UnknownKey("k1".into())));
        let plain = rotated.open("6222021234567890", "company_bank_accounts.account_no:1").unwrap();
        assert_eq!(plain, Opened { text: "6222021234567890".into(), stale: true });
    }

    #[test]
    fn keys_must_be_32_random_bytes_under_a_plain_id_and_the_current_one_must_exist() {
        let same_byte = STANDARD.encode([7_u8; 32]);
        let cases = [
            (vec![("k1", "c2hvcnQ=")], "k1", KeyError::BadKey("k1".into())),
            (vec![("k1", same_byte.as_str())], "k1", KeyError::WeakKey("k1".into())),
            (vec![("K1", K1)], "K1", KeyError::BadId("K1".into())),
            (vec![("k:1", K1)], "k:1", KeyError::BadId("k:1".into())),
            (vec![("k1", K1)], "k2", KeyError::UnknownCurrent("k2".into())),
        ];
        for (keys, current, expected) in cases {
            assert_eq!(Keyring::new(keys, current).unwrap_err(), expected, "{current}");
        }
        assert_eq!(Keyring::default().seal("x", "y"), Err(KeyError::NoKey));
    }

    #[test]
    fn a_development_machine_makes_its_key_once_and_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data").join("crypto.key");
        let settings = CryptoSettings {
            current_key: String::new(),
            keys: BTreeMap::new(),
            development_key_file: path.display().to_string(),
        };
        let first = Keyring::from_settings(&settings).unwrap();
        let sealed = first.seal("secret", "here").unwrap();
        let second = Keyring::from_settings(&settings).unwrap();
        assert_eq!(second.open(&sealed, "here").unwrap().text, "secret");
    }
}
