//! The federation's one door: `Federation` is how the rest of the node reaches the network.
//! Its methods are split by role — whom it trusts and checking inbound calls (`trust`),
//! signed outbound calls (`transport`), the member's side (`member`) and the steward's
//! (`steward`) — and each one a person can call authorizes through `core::access`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDateTime;

use alongside_core::CoreError;
use alongside_core::access::{self, Operation, Principal};
use alongside_core::db::Db;
use alongside_core::tokens::TokenService;
use alongside_core::vocab::FederationMode;

use crate::descriptor::{NodeDescriptor, PROTOCOL_VERSION, PublicKey};
use crate::error::FedError;
use crate::manifest::ManifestMember;
use crate::replay::ReplayCache;
use crate::store::{self, MemberRecord, StoredManifest, SyncState};
use crate::trust::Learned;

#[derive(Debug, Clone)]
pub struct FederationSettings {
    /// This node's id.
    pub node_id: String,
    pub name: String,
    /// This node's public base URL.
    pub base_url: String,
    /// Clock tolerance for inbound calls, seconds.
    pub clock_skew_secs: i64,
    /// Lifetime of the calls this node signs, seconds (at most 60).
    pub call_lifetime_secs: i64,
    /// The longest a cross-institution match waits for all members together.
    pub match_deadline: Duration,
    /// The longest it waits for any one member.
    pub member_timeout: Duration,
    /// How many members a match asks at once (0: all of them).
    pub match_fanout: usize,
    /// A match asks the next members only while fewer candidates than this have come back.
    pub match_enough: usize,
    /// How long a manifest issued by this node (as a steward) is valid.
    pub manifest_lifetime: chrono::Duration,
    /// The node's suppression threshold (`metrics.suppression_k`): a steward puts it in its
    /// manifest; a member answers with the stricter of it and the manifest's.
    pub suppression_k: alongside_core::metrics::suppression::SuppressionK,
    /// How many opted-in supporters must fit a candidate's description before it is offered.
    pub candidate_k: usize,
    /// The node's data directory, where `alongside keys rotate` leaves a new key while `serve`
    /// still signs with the old one.
    pub data_dir: std::path::PathBuf,
}

/// A node another node can be reached at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub node_id: String,
    pub name: String,
    pub base_url: String,
}

impl From<&ManifestMember> for Peer {
    fn from(m: &ManifestMember) -> Self {
        Self {
            node_id: m.node_id.clone(),
            name: m.name.clone(),
            base_url: m.base_url.clone(),
        }
    }
}

/// The federation as this node takes part in it. The only way the rest of the node reaches
/// the network and the federation's stored state.
pub struct Federation {
    pub(crate) db: Db,
    pub settings: FederationSettings,
    pub(crate) tokens: Arc<TokenService>,
    pub(crate) http: reqwest::Client,
    pub(crate) replay: ReplayCache,
    /// Keys learned from a member's descriptor after an unknown key id.
    pub(crate) fetched: Mutex<Learned>,
    /// When each node's descriptor was last fetched for an unknown key: at most once a minute.
    pub(crate) fetched_at: Mutex<HashMap<String, i64>>,
    /// Outbound calls by (member, outcome code), for monitoring.
    pub(crate) calls: Mutex<std::collections::BTreeMap<(String, String), u64>>,
    /// The distinct match queries each member asked in the last hour (digest, when), so no
    /// member can list this node's supporters by varying its criteria.
    pub(crate) probes: Mutex<HashMap<String, Vec<(String, i64)>>>,
    /// Which members failed this node's match calls lately.
    pub(crate) lately: crate::matching::Lately,
}

impl std::fmt::Debug for Federation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Federation")
            .field("node_id", &self.settings.node_id)
            .finish_non_exhaustive()
    }
}

pub(crate) fn unix(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp()
}

pub(crate) fn now_unix() -> i64 {
    unix(alongside_core::time::now())
}

pub(crate) fn poisoned() -> FedError {
    FedError::Core(CoreError::internal("a federation lock was poisoned"))
}

/// This node's place in its federation, for its admins and its operator.
#[derive(Debug, Clone)]
pub struct Status {
    pub node_id: String,
    /// Member, steward, or none when not in a federation.
    pub mode: Option<FederationMode>,
    pub steward_id: Option<String>,
    pub steward_url: Option<String>,
    /// The steward keys a member has pinned.
    pub steward_keys: Vec<PublicKey>,
    /// The manifest held (a member) or last issued (a steward).
    pub manifest: Option<StoredManifest>,
    /// The members that are active now, other than this node.
    pub active_members: Vec<String>,
    /// Why the federation is not usable or not healthy now, if so.
    pub problem: Option<String>,
    /// The same as a stable code (the peer's or the manifest's own where it came from them).
    pub problem_code: Option<String>,
    /// A steward's members, every status.
    pub members: Vec<MemberRecord>,
    /// Directory sync state per origin.
    pub sync: Vec<SyncState>,
}

impl Federation {
    pub fn new(
        db: Db,
        tokens: Arc<TokenService>,
        settings: FederationSettings,
    ) -> Result<Self, CoreError> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .pool_idle_timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| CoreError::internal(format!("HTTP client: {e}")))?;
        Ok(Self {
            db,
            settings,
            tokens,
            http,
            replay: ReplayCache::new(),
            fetched: Mutex::new(HashMap::new()),
            fetched_at: Mutex::new(HashMap::new()),
            calls: Mutex::new(std::collections::BTreeMap::new()),
            probes: Mutex::new(HashMap::new()),
            lately: crate::matching::Lately::default(),
        })
    }

    pub fn node_id(&self) -> &str {
        &self.settings.node_id
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// This node's descriptor.
    pub async fn descriptor(&self) -> Result<NodeDescriptor, CoreError> {
        let steward = self
            .db
            .run(store::settings)
            .await?
            .is_some_and(|s| s.mode == FederationMode::Steward);
        Ok(self.own_descriptor(steward))
    }

    pub fn own_descriptor(&self, steward: bool) -> NodeDescriptor {
        let mut keys = vec![PublicKey::current(self.tokens.key())];
        keys.extend(self.tokens.retired().map(PublicKey::retired));
        NodeDescriptor {
            id: self.settings.node_id.clone(),
            name: self.settings.name.clone(),
            base_url: self.settings.base_url.clone(),
            protocol_versions: vec![PROTOCOL_VERSION.into()],
            keys,
            steward,
        }
    }

    /// Whether this node is a member, a steward, or neither. For the node's own jobs.
    pub async fn mode(&self) -> Result<Option<FederationMode>, CoreError> {
        Ok(self.db.run(store::settings).await?.map(|s| s.mode))
    }

    /// Directory sync state per origin, for the node's monitoring.
    pub async fn sync_states(&self) -> Result<Vec<SyncState>, CoreError> {
        self.db.run(store::sync_states).await
    }

    /// Membership, manifest, members and sync state. Admins and the operator.
    pub async fn status(&self, who: &Principal) -> Result<Status, FedError> {
        access::authorize(who, Operation::ManageFederation)?;
        let trust = self.trust().await?;
        let (settings, manifest, members, sync, refresh) = self
            .db
            .run(|conn| {
                let settings = store::settings(conn)?;
                let members = if settings
                    .as_ref()
                    .is_some_and(|s| s.mode == FederationMode::Steward)
                {
                    store::members(conn)?
                } else {
                    vec![]
                };
                Ok((
                    settings,
                    store::manifest(conn)?,
                    members,
                    store::sync_states(conn)?,
                    store::refresh_outcome(conn)?,
                ))
            })
            .await?;
        let active_members = trust
            .peers(self.node_id())
            .into_iter()
            .map(|p| p.node_id)
            .collect();
        // Otherwise healthy, a member whose last manifest refresh failed says so: the manifest it
        // holds is used until it expires. Read here, not on every inbound call's trust.
        let (problem_code, problem) = match (trust.problem_code, trust.problem, refresh) {
            (None, None, Some((at, Some(code)))) => {
                let serial = manifest.as_ref().map_or(0, |m| m.serial);
                let text = format!(
                    "the last manifest refresh ({at} UTC) failed with {code}; the manifest held (serial {serial}) is used until it expires — see docs/operations.md, federation problems"
                );
                (Some(code), Some(text))
            }
            (code, problem, _) => (code, problem),
        };
        Ok(Status {
            node_id: self.settings.node_id.clone(),
            mode: settings.as_ref().map(|s| s.mode),
            steward_id: settings.as_ref().and_then(|s| s.steward_id.clone()),
            steward_url: settings.as_ref().and_then(|s| s.steward_url.clone()),
            steward_keys: settings.map(|s| s.steward_keys).unwrap_or_default(),
            manifest,
            active_members,
            problem,
            problem_code,
            members,
            sync,
        })
    }
}
