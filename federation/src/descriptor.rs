//! A node's descriptor, published at `/.well-known/alongside/node`: who it is, where it is, which
//! protocol versions it speaks and the public keys it signs with (retired ones with their expiry).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use alongside_core::keyring::RetiredKey;
use alongside_core::tokens::NodeKey;

/// The protocol version this implementation speaks.
pub const PROTOCOL_VERSION: &str = "1";
/// Where a node publishes its descriptor.
pub const DESCRIPTOR_PATH: &str = "/.well-known/alongside/node";

/// An Ed25519 public key: its id and the raw 32 bytes as base64url.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicKey {
    pub kid: String,
    pub x: String,
    /// Unix seconds after which the key is no longer accepted (set on retired keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
}

impl PublicKey {
    pub fn current(key: &NodeKey) -> Self {
        Self {
            kid: key.kid().to_owned(),
            x: URL_SAFE_NO_PAD.encode(key.public_key_bytes()),
            expires_at: None,
        }
    }

    pub fn retired(key: &RetiredKey) -> Self {
        Self {
            kid: key.kid.clone(),
            x: key.x.clone(),
            expires_at: Some(key.expires_at.and_utc().timestamp()),
        }
    }

    /// The raw key, if well formed and not expired at `now` (unix seconds).
    pub fn usable(&self, now: i64) -> Option<[u8; 32]> {
        if self.expires_at.is_some_and(|e| e <= now) {
            return None;
        }
        URL_SAFE_NO_PAD.decode(&self.x).ok()?.try_into().ok()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeDescriptor {
    /// The node's id: a DNS name its institution controls.
    pub id: String,
    pub name: String,
    /// Where its federation endpoints are (`{base_url}/federation/v1/...`).
    pub base_url: String,
    pub protocol_versions: Vec<String>,
    pub keys: Vec<PublicKey>,
    /// Whether this node is a federation's steward.
    #[serde(default)]
    pub steward: bool,
}

impl NodeDescriptor {
    pub fn key(&self, kid: &str, now: i64) -> Option<[u8; 32]> {
        self.keys
            .iter()
            .find(|k| k.kid == kid)
            .and_then(|k| k.usable(now))
    }
}
