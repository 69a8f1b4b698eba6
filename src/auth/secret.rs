//! Opaque single-use secrets (refresh, verification, reset and invitation tokens): 32 random bytes given
//! to the holder once, stored only as a SHA-256 digest.

use sha2::{Digest, Sha256};

pub fn generate() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}
