//! The federation's manifest: the members, their URLs and keys, their status and the shared
//! policy, with a serial number and an expiry, signed by the steward. Members pin the steward's
//! public key and accept a manifest only if it verifies with it, has not expired and does not
//! go back to an older serial.

use chrono::NaiveDateTime;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};

use alongside_core::tokens::NodeKey;
use alongside_core::vocab::MemberStatus;

use crate::call::KeyLookup;
use crate::descriptor::PublicKey;

pub const MANIFEST_TYP: &str = "alongside-manifest+jwt";

/// Where a steward serves the transition manifest a retired key of its signed (`?from=KID`).
pub const BRIDGE_PATH: &str = "/federation/v1/manifest/bridge";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub protocol_version: String,
    /// Small-cell suppression threshold for anything aggregated across the network.
    pub suppression_k: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestMember {
    pub node_id: String,
    pub name: String,
    pub base_url: String,
    pub status: MemberStatus,
    pub joined_at: Option<NaiveDateTime>,
    pub keys: Vec<PublicKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The steward's node id.
    pub iss: String,
    pub serial: i64,
    pub iat: i64,
    pub exp: i64,
    pub policy: Policy,
    pub members: Vec<ManifestMember>,
    /// The steward's own public keys. A member that verified this manifest with a key it pinned
    /// pins these from now on, so a steward can rotate: it signs one manifest with the old key
    /// that lists the new one.
    #[serde(default)]
    pub steward_keys: Vec<PublicKey>,
}

impl Manifest {
    pub fn member(&self, node_id: &str) -> Option<&ManifestMember> {
        self.members.iter().find(|m| m.node_id == node_id)
    }

    /// Active members other than `me`.
    pub fn active_peers<'a>(&'a self, me: &'a str) -> impl Iterator<Item = &'a ManifestMember> {
        self.members
            .iter()
            .filter(move |m| m.status == MemberStatus::Active && m.node_id != me)
    }

    pub fn is_active(&self, node_id: &str) -> bool {
        self.member(node_id)
            .is_some_and(|m| m.status == MemberStatus::Active)
    }
}

/// Keys of active members only: a suspended member's calls fail as an unknown key.
pub struct ActiveKeys<'a> {
    pub manifest: &'a Manifest,
    pub now: i64,
}

impl KeyLookup for ActiveKeys<'_> {
    fn key(&self, issuer: &str, kid: &str) -> Option<[u8; 32]> {
        let m = self.manifest.member(issuer)?;
        if m.status != MemberStatus::Active {
            return None;
        }
        m.keys
            .iter()
            .find(|k| k.kid == kid)
            .and_then(|k| k.usable(self.now))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("the manifest is not a signed manifest")]
    Malformed,
    #[error("the manifest is not signed by the pinned steward key")]
    UntrustedSigner,
    #[error("the manifest's signature does not verify")]
    BadSignature,
    #[error("the manifest has expired")]
    Expired,
    #[error("the manifest's serial {got} is older than the one held ({held})")]
    OlderSerial { got: i64, held: i64 },
    #[error("the manifest was issued by {got}, not the pinned steward {want}")]
    WrongSteward { got: String, want: String },
}

impl ManifestError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed => "MANIFEST_MALFORMED",
            Self::UntrustedSigner => "MANIFEST_UNTRUSTED_SIGNER",
            Self::BadSignature => "MANIFEST_BAD_SIGNATURE",
            Self::Expired => "MANIFEST_EXPIRED",
            Self::OlderSerial { .. } => "MANIFEST_OLDER_SERIAL",
            Self::WrongSteward { .. } => "MANIFEST_WRONG_STEWARD",
        }
    }
}

pub fn sign(key: &NodeKey, manifest: &Manifest) -> Result<String, alongside_core::CoreError> {
    key.sign(MANIFEST_TYP, manifest)
}

/// Verifies a manifest against the pinned steward keys; refuses one older than `held_serial`.
pub fn verify(
    token: &str,
    steward_id: &str,
    pinned: &[PublicKey],
    held_serial: Option<i64>,
    now: i64,
) -> Result<Manifest, ManifestError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| ManifestError::Malformed)?;
    if header.typ.as_deref() != Some(MANIFEST_TYP) || header.alg != Algorithm::EdDSA {
        return Err(ManifestError::Malformed);
    }
    let kid = header.kid.ok_or(ManifestError::UntrustedSigner)?;
    let public = pinned
        .iter()
        .find(|k| k.kid == kid)
        .and_then(|k| k.usable(now))
        .ok_or(ManifestError::UntrustedSigner)?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.set_required_spec_claims(&["exp", "iss"]);
    let data =
        jsonwebtoken::decode::<Manifest>(token, &DecodingKey::from_ed_der(&public), &validation)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::InvalidSignature => ManifestError::BadSignature,
                _ => ManifestError::Malformed,
            })?;
    let m = data.claims;
    if m.iss != steward_id {
        return Err(ManifestError::WrongSteward {
            got: m.iss,
            want: steward_id.to_owned(),
        });
    }
    if m.exp <= now {
        return Err(ManifestError::Expired);
    }
    if let Some(held) = held_serial
        && m.serial < held
    {
        return Err(ManifestError::OlderSerial {
            got: m.serial,
            held,
        });
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn manifest(serial: i64) -> Manifest {
        Manifest {
            iss: "steward.example.org".into(),
            serial,
            iat: NOW,
            exp: NOW + 3600,
            policy: Policy {
                protocol_version: "1".into(),
                suppression_k: 11,
            },
            members: vec![],
            steward_keys: vec![],
        }
    }

    #[test]
    fn a_manifest_verifies_only_with_the_pinned_key_and_a_newer_serial() {
        let steward = NodeKey::generate().unwrap();
        let other = NodeKey::generate().unwrap();
        let pinned = vec![PublicKey::current(&steward)];
        let token = sign(&steward, &manifest(5)).unwrap();
        let ok = verify(&token, "steward.example.org", &pinned, Some(5), NOW).unwrap();
        assert_eq!(ok.serial, 5);
        assert_eq!(
            verify(&token, "steward.example.org", &pinned, Some(6), NOW),
            Err(ManifestError::OlderSerial { got: 5, held: 6 })
        );
        assert_eq!(
            verify(&token, "steward.example.org", &pinned, None, NOW + 7200),
            Err(ManifestError::Expired)
        );
        let forged = sign(&other, &manifest(9)).unwrap();
        assert_eq!(
            verify(&forged, "steward.example.org", &pinned, None, NOW),
            Err(ManifestError::UntrustedSigner)
        );
        // Another key's signature under the pinned key id.
        let mut parts: Vec<String> = forged.split('.').map(str::to_owned).collect();
        parts[0] = token.split('.').next().unwrap().to_owned();
        assert_eq!(
            verify(&parts.join("."), "steward.example.org", &pinned, None, NOW),
            Err(ManifestError::BadSignature)
        );
        assert!(matches!(
            verify(&token, "other.example.org", &pinned, None, NOW),
            Err(ManifestError::WrongSteward { .. })
        ));
    }
}
