//! Witnessed heads. The hash chain shows that an entry was edited, unless whoever edited it also
//! rebuilt every later entry and the head, which anyone who can write to the database can do.
//! So the node signs its chain's head with its key from time to time and hands it to a witness
//! outside the database: an append-only file the operator ships elsewhere (a log collector, a
//! write-once bucket). A rebuilt chain no longer passes through the heads witnessed before the
//! rebuild, and `alongside admin audit verify --witness FILE` says where it parts.
//!
//! Each signed line holds the main chain's head and, at most once a day, the head of the chain
//! of case entries (see [`super::chain`]): a line's time beside the case chain's growth would
//! otherwise date case entries to the maintenance round, finer than the month they carry, and
//! place them beside the sign-ins of that round. A rewrite of case entries shows from the next
//! day's line on. The case chain's lanes are signed together: lane 1 as before, and each other
//! lane that has entries.

use std::fs;
use std::io::{BufRead, Write};
use std::path::Path;

use chrono::{DateTime, NaiveDate, NaiveDateTime};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

use super::chain::{self, CASE_LANES, Chain, Lane};
use crate::db::DbConnection;
use crate::error::CoreError;
use crate::tokens::NodeKey;

/// The `typ` of a signed head, so no other token of the node can pass for one.
pub const TYP: &str = "alongside-audit-head+jwt";

/// The file name used when the configuration names none: in the data directory, which suits a
/// node whose database lives elsewhere; ship it off the machine to guard against its operator.
pub const DEFAULT_FILE: &str = "audit-heads.jwt";

#[derive(Debug, Serialize, Deserialize)]
struct HeadClaims {
    /// Entries in the main chain.
    seq: i64,
    /// The hash of the last of them.
    hash: String,
    /// The same for the chain of case entries; absent from lines signed before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    case_seq: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    case_hash: Option<String>,
    /// The case chain's other lanes that have entries, with it; absent before lanes existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    case_lanes: Vec<LaneHead>,
    /// When it was signed, in seconds since the epoch.
    iat: i64,
}

/// The head of one of the case chain's lanes after the first.
#[derive(Debug, Serialize, Deserialize)]
struct LaneHead {
    lane: Lane,
    seq: i64,
    hash: String,
}

/// A head the witness holds: at `at` the chain had `seq` entries, the last hashing to `hash`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessedHead {
    pub chain: Chain,
    pub lane: Lane,
    pub seq: i64,
    pub hash: String,
    pub at: NaiveDateTime,
}

/// Both chains' heads: entries in each and the hash of its last; the case chain's per lane,
/// lane 1 first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Heads {
    pub main: (i64, String),
    pub case: Vec<(i64, String)>,
}

impl Heads {
    /// Entries in the case chain, over its lanes.
    pub fn case_entries(&self) -> i64 {
        self.case.iter().map(|(seq, _)| seq).sum()
    }
}

/// Both chains' heads as committed.
pub fn head(conn: &mut DbConnection) -> Result<Heads, CoreError> {
    Ok(Heads {
        main: chain::head(conn, Chain::Main, 1)?,
        case: chain::heads(conn, Chain::Case)?,
    })
}

/// The main chain's head and, when given, the case chain's lanes' (lane 1 first), signed with
/// the node's key as one line for the witness.
pub fn sign(
    key: &NodeKey,
    main: &(i64, String),
    case: Option<&[(i64, String)]>,
    at: NaiveDateTime,
) -> Result<String, CoreError> {
    let first = case.and_then(|lanes| lanes.first());
    // Lanes with no entries say nothing a witness could hold against the chain.
    let others = case
        .unwrap_or_default()
        .iter()
        .zip(1..)
        .skip(1)
        .filter(|((seq, _), _)| *seq > 0)
        .map(|((seq, hash), lane)| LaneHead {
            lane,
            seq: *seq,
            hash: hash.clone(),
        })
        .collect();
    key.sign(
        TYP,
        &HeadClaims {
            seq: main.0,
            hash: main.1.clone(),
            case_seq: first.map(|c| c.0),
            case_hash: first.map(|c| c.1.clone()),
            case_lanes: others,
            iat: at.and_utc().timestamp(),
        },
    )
}

/// What was last handed to the witness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witnessed {
    pub heads: Heads,
    /// The day the case chain's head was last signed.
    pub case_day: NaiveDate,
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

/// Signs the committed heads and appends them to `path` as one line: the main chain's when it
/// moved since `last`, the case chain's when it moved and was not signed yet today. With no
/// `last` (a start, or on demand) both are signed. Returns what the witness now holds.
pub fn witness(
    conn: &mut DbConnection,
    key: &NodeKey,
    path: &Path,
    last: Option<&Witnessed>,
    now: NaiveDateTime,
) -> Result<Witnessed, CoreError> {
    let current = head(conn)?;
    let today = now.date();
    let Some(last) = last else {
        append(
            path,
            &sign(key, &current.main, Some(&current.case[..]), now)?,
        )?;
        return Ok(Witnessed {
            heads: current,
            case_day: today,
        });
    };
    let main_moved = last.heads.main != current.main;
    let case_due = last.heads.case != current.case && last.case_day < today;
    if !main_moved && !case_due {
        return Ok(last.clone());
    }
    let case = case_due.then_some(&current.case[..]);
    append(path, &sign(key, &current.main, case, now)?)?;
    Ok(Witnessed {
        heads: Heads {
            main: current.main,
            case: if case_due {
                current.case
            } else {
                last.heads.case.clone()
            },
        },
        case_day: if case_due { today } else { last.case_day },
    })
}

/// A public key the node signed with: its id and raw Ed25519 bytes.
pub type PublicKey = (String, [u8; 32]);

/// Reads every head in the witness file (a head per chain, and per lane of the case chain, on
/// a line), each checked against the node's keys (the current one
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
        let line_heads = check(line.trim(), keys).ok_or_else(|| {
            CoreError::Conflict(format!(
                "line {} of the witness file {} is not an audit head signed by this node's keys",
                n + 1,
                path.display()
            ))
        })?;
        heads.extend(line_heads);
    }
    heads.sort_by_key(|h| (h.seq, h.at));
    Ok(heads)
}

fn check(token: &str, keys: &[PublicKey]) -> Option<Vec<WitnessedHead>> {
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
    let at = DateTime::from_timestamp(claims.iat, 0)?.naive_utc();
    let mut heads = vec![WitnessedHead {
        chain: Chain::Main,
        lane: 1,
        seq: claims.seq,
        hash: claims.hash,
        at,
    }];
    match (claims.case_seq, claims.case_hash) {
        (Some(seq), Some(hash)) => heads.push(WitnessedHead {
            chain: Chain::Case,
            lane: 1,
            seq,
            hash,
            at,
        }),
        (None, None) if claims.case_lanes.is_empty() => {}
        // Half a head, or lanes without the first, is not something this node signs.
        _ => return None,
    }
    for lane in claims.case_lanes {
        if !(2..=CASE_LANES).contains(&lane.lane) {
            return None;
        }
        heads.push(WitnessedHead {
            chain: Chain::Case,
            lane: lane.lane,
            seq: lane.seq,
            hash: lane.hash,
            at,
        });
    }
    Some(heads)
}
