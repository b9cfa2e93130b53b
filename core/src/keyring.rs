//! Key rotation. A node signs with one current key; keys it rotated away from stay published
//! (in its JWKS and its federation descriptor) until their expiry, so tokens and calls signed
//! just before a rotation still verify. Only the public half of a retired key is kept.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{Duration, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::error::CoreError;
use crate::node_key::NodeKey;

pub const RETIRED_FILE: &str = "retired-keys.json";

/// How long a retired key stays published unless the operator says otherwise: longer than any
/// access token, refresh of a cached descriptor or manifest.
pub const DEFAULT_GRACE_HOURS: i64 = 48;

/// The public half of a key the node no longer signs with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetiredKey {
    pub kid: String,
    /// The raw Ed25519 public key, base64url.
    pub x: String,
    pub retired_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

impl RetiredKey {
    pub fn public_key_bytes(&self) -> Option<[u8; 32]> {
        URL_SAFE_NO_PAD.decode(&self.x).ok()?.try_into().ok()
    }

    pub fn public_jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": self.x,
            "kid": self.kid,
            "alg": "EdDSA",
            "use": "sig",
            "exp": self.expires_at.and_utc().timestamp(),
        })
    }
}

fn retired_path(data_dir: &Path) -> PathBuf {
    data_dir.join(RETIRED_FILE)
}

/// The retired keys still published at `now` (expired ones are left out).
pub fn retired(data_dir: &Path, now: NaiveDateTime) -> Result<Vec<RetiredKey>, CoreError> {
    Ok(every_retired(data_dir)?
        .into_iter()
        .filter(|k| k.expires_at > now)
        .collect())
}

/// Every key the node ever rotated away from, expired or not: no longer published, but kept
/// (public halves only) so what the node signed long ago, such as a witnessed audit head, can
/// still be checked.
pub fn every_retired(data_dir: &Path) -> Result<Vec<RetiredKey>, CoreError> {
    let path = retired_path(data_dir);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => {
            return Err(CoreError::internal(format!(
                "cannot read {}: {e}",
                path.display()
            )));
        }
    };
    serde_json::from_str(&text)
        .map_err(|e| CoreError::internal(format!("{} is not valid: {e}", path.display())))
}

/// Replaces the current key with a new one; the old one stays published for `grace`.
/// Returns the old and the new key ids. A running node picks the new key up when restarted.
pub fn rotate(
    data_dir: &Path,
    grace: Duration,
    now: NaiveDateTime,
) -> Result<(String, String), CoreError> {
    let key_path = NodeKey::path_in(data_dir);
    if !key_path.exists() {
        return Err(CoreError::Conflict(format!(
            "there is no key to rotate at {}; run `alongside keys generate` first",
            key_path.display()
        )));
    }
    let (old, _) = NodeKey::load_or_create(data_dir)?;
    let mut keep = every_retired(data_dir)?;
    keep.push(RetiredKey {
        kid: old.kid().to_owned(),
        x: URL_SAFE_NO_PAD.encode(old.public_key_bytes()),
        retired_at: now,
        expires_at: now + grace,
    });
    let text = serde_json::to_string_pretty(&keep)
        .map_err(|e| CoreError::internal(format!("encoding retired keys: {e}")))?;
    write_atomically(&retired_path(data_dir), text.as_bytes(), false)?;
    let new = NodeKey::generate()?;
    write_atomically(&key_path, new.private_pem()?.as_bytes(), true)?;
    Ok((old.kid().to_owned(), new.kid().to_owned()))
}

/// Writes a file next to its final place, then renames it over: a crash leaves the old file or
/// the new one, never half of one.
fn write_atomically(path: &Path, bytes: &[u8], private: bool) -> Result<(), CoreError> {
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options
        .open(&tmp)
        .map_err(|e| CoreError::internal(format!("cannot create {}: {e}", tmp.display())))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| fs::rename(&tmp, path))
        .map_err(|e| CoreError::internal(format!("cannot write {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_keeps_the_old_public_key_until_it_expires() {
        let dir = tempfile::tempdir().unwrap();
        let (first, _) = NodeKey::load_or_create(dir.path()).unwrap();
        let now = crate::time::now();
        let (old, new) = rotate(dir.path(), Duration::hours(1), now).unwrap();
        assert_eq!(old, first.kid());
        let (current, created) = NodeKey::load_or_create(dir.path()).unwrap();
        assert!(!created);
        assert_eq!(current.kid(), new);
        let kept = retired(dir.path(), now).unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].kid, old);
        assert_eq!(kept[0].public_key_bytes(), Some(first.public_key_bytes()));
        assert!(
            retired(dir.path(), now + Duration::hours(2))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn rotating_without_a_key_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let err = rotate(dir.path(), Duration::hours(1), crate::time::now()).unwrap_err();
        assert!(err.to_string().contains("keys generate"), "{err}");
    }
}
