//! Witnessed heads. The hash chain shows that an entry was edited, unless whoever edited it also
//! rebuilt every later entry and the head, which anyone who can write to the database can do.
//! So the node signs its chain's head with its key from time to time and hands it to a witness
//! outside the database: an append-only file the operator ships elsewhere (a log collector, a
//! write-once bucket). A rebuilt chain no longer passes through the heads witnessed before the
//! rebuild, and `alongside admin audit verify --witness FILE` says where it parts.

use std::fs;
use std::io::{BufRead, Write};
use std::path::Path;

use chrono::{DateTime, NaiveDateTime};
use diesel::prelude::*;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

use crate::db::DbConnection;
use crate::error::CoreError;
use crate::schema::audit_head;
use crate::tokens::NodeKey;

/// The `typ` of a signed head, so no other token of the node can pass for one.
pub const TYP: &str = "alongside-audit-head+jwt";

/// The file name used when the configuration names none: in the data directory, which suits a
/// node whose database lives elsewhere; ship it off the machine to guard against its operator.
pub const DEFAULT_FILE: &str = "audit-heads.jwt";

#[derive(Debug, Serialize, Deserialize)]
struct HeadClaims {
    /// Entries in the chain.
    seq: i64,
    /// The hash of the last of them.
    hash: String,
    /// When it was signed, in seconds since the epoch.
    iat: i64,
}

/// A head the witness holds: at `at` the chain had `seq` entries, the last hashing to `hash`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessedHead {
    pub seq: i64,
    pub hash: String,
    pub at: NaiveDateTime,
}

/// The chain's head as committed.
pub fn head(conn: &mut DbConnection) -> Result<(i64, String), CoreError> {
    Ok(audit_head::table
        .filter(audit_head::id.eq(1))
        .select((audit_head::seq, audit_head::hash))
        .first(conn)?)
}

/// The head signed with the node's key, as one line for the witness.
pub fn sign(key: &NodeKey, seq: i64, hash: &str, at: NaiveDateTime) -> Result<String, CoreError> {
    key.sign(
        TYP,
        &HeadClaims {
            seq,
            hash: hash.to_owned(),
            iat: at.and_utc().timestamp(),
        },
    )
}

/// Appends one signed head to the witness file, creating it (0600) if need be. The file is only
/// ever opened for appending.
pub fn append(path: &Path, line: &str) -> Result<(), CoreError> {
    let mut options = fs::OpenOptions::new();
    options.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let cannot = |e: std::io::Error| {
        CoreError::internal(format!(
            "cannot write the witness file {}: {e}",
            path.display()
        ))
    };
    let mut file = options.open(path).map_err(cannot)?;
    file.write_all(format!("{line}\n").as_bytes())
        .and_then(|()| file.sync_data())
        .map_err(cannot)
}

/// Signs the committed head and appends it to `path`, unless it is `last` (already witnessed).
/// Returns the head witnessed.
pub fn witness(
    conn: &mut DbConnection,
    key: &NodeKey,
    path: &Path,
    last: Option<&(i64, String)>,
    now: NaiveDateTime,
) -> Result<(i64, String), CoreError> {
    let current = head(conn)?;
    if last != Some(&current) {
        append(path, &sign(key, current.0, &current.1, now)?)?;
    }
    Ok(current)
}

/// A public key the node signed with: its id and raw Ed25519 bytes.
pub type PublicKey = (String, [u8; 32]);

/// Reads every head in the witness file, each checked against the node's keys (the current one
/// and every one it rotated away from). A line that is not a head signed by one of them is an
/// error naming the line: a witness that was tampered with proves nothing.
pub fn read(path: &Path, keys: &[PublicKey]) -> Result<Vec<WitnessedHead>, CoreError> {
    let file = fs::File::open(path).map_err(|e| {
        CoreError::Conflict(format!(
            "cannot read the witness file {}: {e}",
            path.display()
        ))
    })?;
    let mut heads = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| {
            CoreError::Conflict(format!(
                "cannot read the witness file {}: {e}",
                path.display()
            ))
        })?;
        if line.trim().is_empty() {
            continue;
        }
        let head = check(line.trim(), keys).ok_or_else(|| {
            CoreError::Conflict(format!(
                "line {} of the witness file {} is not an audit head signed by this node's keys",
                n + 1,
                path.display()
            ))
        })?;
        heads.push(head);
    }
    heads.sort_by_key(|h| (h.seq, h.at));
    Ok(heads)
}

fn check(token: &str, keys: &[PublicKey]) -> Option<WitnessedHead> {
    let header = jsonwebtoken::decode_header(token).ok()?;
    if header.typ.as_deref() != Some(TYP) || header.alg != Algorithm::EdDSA {
        return None;
    }
    let kid = header.kid?;
    let (_, public) = keys.iter().find(|(k, _)| *k == kid)?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.validate_exp = false;
    validation.set_required_spec_claims::<&str>(&[]);
    let claims =
        jsonwebtoken::decode::<HeadClaims>(token, &DecodingKey::from_ed_der(public), &validation)
            .ok()?
            .claims;
    Some(WitnessedHead {
        seq: claims.seq,
        hash: claims.hash,
        at: DateTime::from_timestamp(claims.iat, 0)?.naive_utc(),
    })
}
