//! Random tokens, digests and password hashes.
//!
//! Passwords are low-entropy, so they get argon2id. Refresh tokens and client secrets are 256
//! random bits, so a SHA-256 digest is enough to store them and keeps token endpoints fast.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::error::CoreError;

pub const MIN_PASSWORD_CHARS: usize = 12;
pub const MAX_PASSWORD_CHARS: usize = 1024;

pub fn random_bytes<const N: usize>() -> Result<[u8; N], CoreError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| CoreError::internal(format!("random source: {e}")))?;
    Ok(buf)
}

/// 256 random bits, URL-safe base64.
pub fn random_token() -> Result<String, CoreError> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<32>()?))
}

pub fn sha256_hex(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Equal-time comparison, so a digest check does not leak how many leading bytes matched.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn check_password_rules(password: &str) -> Result<(), CoreError> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(CoreError::bad_input(
            "password",
            format!("is {n} characters; use at least {MIN_PASSWORD_CHARS}"),
        ));
    }
    if n > MAX_PASSWORD_CHARS {
        return Err(CoreError::bad_input(
            "password",
            format!("is {n} characters; at most {MAX_PASSWORD_CHARS}"),
        ));
    }
    Ok(())
}

pub fn hash_password(password: &str) -> Result<String, CoreError> {
    check_password_rules(password)?;
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| CoreError::internal(format!("password hashing: {e}")))
}

pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    match PasswordHash::new(stored_hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Spends the time of one password check when there is no account to check against, so
/// response times do not reveal which emails have accounts.
pub fn burn_password_check(password: &str) {
    static DUMMY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| {
        Argon2::default()
            .hash_password(b"no account has this password")
            .ok()
            .map(|h| h.to_string())
    });
    if let Some(hash) = dummy {
        verify_password(password, hash);
    }
}

/// A password for a new account when the operator did not choose one: 20 characters from an
/// alphabet without look-alikes.
pub fn generate_password() -> Result<String, CoreError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let bytes = random_bytes::<20>()?;
    Ok(bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_round_trip() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("wrong horse battery", &hash));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(hash_password("short").is_err());
    }

    #[test]
    fn tokens_are_random_and_digests_stable() {
        assert_ne!(random_token().unwrap(), random_token().unwrap());
        assert_eq!(sha256_hex("abc").len(), 64);
        assert!(constant_time_eq("abc", "abc"));
        assert!(!constant_time_eq("abc", "abd"));
        assert!(!constant_time_eq("abc", "ab"));
    }
}
