//! Random secrets (tokens, keys, session ids) and how they are stored: only their SHA-256.
//!
//! A fast hash is right here (unlike passwords): the secrets are 256 random bits, so
//! there is nothing to brute-force, and every API request checks one.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A new secret: `prefix` + 43 URL-safe characters (256 bits).
pub fn generate(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{prefix}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

pub fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

pub fn hash_hex(secret: &str) -> String {
    hex::encode(hash(secret))
}

/// Constant-time comparison, for secrets compared outside a hash-table lookup.
pub fn equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_prefixed() {
        let a = generate("crm_");
        let b = generate("crm_");
        assert!(a.starts_with("crm_") && a.len() == 47);
        assert_ne!(a, b);
        assert_eq!(hash_hex(&a).len(), 64);
        assert!(equal(b"abc", b"abc") && !equal(b"abc", b"abd") && !equal(b"ab", b"abc"));
    }
}
