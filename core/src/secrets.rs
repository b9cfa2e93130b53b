//! Random tokens, digests and password hashes.
//!
//! Passwords are low-entropy, so they get argon2id. Refresh tokens and client secrets are 256
//! random bits, so a SHA-256 digest is enough to store them and keeps token endpoints fast.

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
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
    let failed = |e: &dyn std::fmt::Display| CoreError::internal(format!("password hashing: {e}"));
    let salt =
        Salt::new(&random_bytes::<{ Salt::RECOMMENDED_LENGTH }>()?).map_err(|e| failed(&e))?;
    let argon = Argon2::default();
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2_into(&argon, password.as_bytes(), salt.as_ref(), &mut out).map_err(|e| failed(&e))?;
    let hash = PasswordHash {
        algorithm: Algorithm::default().ident(),
        version: Some(Version::default().into()),
        params: ParamsString::try_from(argon.params()).map_err(|e| failed(&e))?,
        salt: Some(salt),
        hash: Some(Output::new(&out).map_err(|e| failed(&e))?),
    };
    Ok(hash.to_string())
}

/// Whether `password` is the one `stored_hash` (a PHC string) was made from. Hashes made with
/// other Argon2 settings are checked with the settings they name.
pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(stored_hash) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::new(parsed.algorithm.as_str()) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from) {
        None => Version::default(),
        Some(Ok(v)) => v,
        Some(Err(_)) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let argon = Argon2::new(algorithm, version, params);
    let mut out = vec![0u8; expected.len()];
    if argon2_into(&argon, password.as_bytes(), salt.as_ref(), &mut out).is_err() {
        return false;
    }
    // `Output`'s equality is constant-time.
    Output::new(&out).is_ok_and(|got| got == *expected)
}

/// Password hashes are computed one at a time, whatever the number of sign-ins at once: each
/// needs a work area of 19 MiB (Argon2id's default), and several at once would multiply the
/// node's peak memory for no gain on two cores.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The size reserved for each work area. glibc serves an allocation of 32 MiB or more with its
/// own mapping, whatever its dynamic threshold has risen to, and unmaps it when it is freed;
/// a smaller one would, from the second sign-in on, come from a thread's arena and stay
/// resident there (measured: +19 MiB kept per thread that ever checked a password). Only the
/// blocks Argon2 uses are touched, so only those become resident.
const WORK_AREA_RESERVED: usize = 33 << 20;

fn argon2_into(
    argon: &Argon2<'_>,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> argon2::Result<()> {
    let _turn = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let blocks = argon.params().block_count();
    let mut area: Vec<Block> = Vec::with_capacity(blocks.max(WORK_AREA_RESERVED / Block::SIZE));
    area.resize(blocks, Block::default());
    argon.hash_password_into_with_memory(password, salt, out, area.as_mut_slice())
}

/// Spends the time of one password check when there is no account to check against, so
/// response times do not reveal which emails have accounts.
pub fn burn_password_check(password: &str) {
    static DUMMY: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash_password("no account has this password").ok());
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

    /// Hashes stored before the node computed them itself, and by other Argon2 settings, still
    /// verify; and the crate's own verifier accepts the node's hashes.
    #[test]
    fn hashes_agree_with_the_argon2_crate() {
        use argon2::{PasswordHasher as _, PasswordVerifier as _};
        let theirs = Argon2::default()
            .hash_password(b"correct horse battery")
            .unwrap()
            .to_string();
        assert!(verify_password("correct horse battery", &theirs));
        assert!(!verify_password("correct horse batterY", &theirs));
        let lighter = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8192, 3, 1, None).unwrap(),
        )
        .hash_password(b"correct horse battery")
        .unwrap()
        .to_string();
        assert!(lighter.contains("m=8192,t=3,p=1"));
        assert!(verify_password("correct horse battery", &lighter));
        let ours = hash_password("correct horse battery").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"wrong horse battery", &parsed)
                .is_err()
        );
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
