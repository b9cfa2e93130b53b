//! A node's federation service: whom it trusts (the manifest, the pinned steward), checking
//! inbound calls, making signed outbound calls, and the jobs that keep the manifest and the
//! directory fresh. HTTP routing stays in `api`; this holds the decisions.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::Connection;
use serde::de::DeserializeOwned;

use alongside_core::CoreError;
use alongside_core::db::Db;
use alongside_core::tokens::TokenService;
use alongside_core::vocab::{FederationMode, MemberStatus};

use crate::call::{self, CallError, Caller, KeyLookup, Request};
use crate::descriptor::{DESCRIPTOR_PATH, NodeDescriptor, PROTOCOL_VERSION, PublicKey};
use crate::error::FedError;
use crate::manifest::{self, Manifest, ManifestMember, Policy};
use crate::replay::ReplayCache;
use crate::store::{self, Settings, StoredManifest};

/// The header a signed call travels in.
pub const CALL_HEADER: &str = "Alongside-Call";
/// W3C trace context, carried on every call.
pub const TRACEPARENT: &str = "traceparent";

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
    /// How long a manifest issued by this node (as a steward) is valid.
    pub manifest_lifetime: chrono::Duration,
    /// The suppression threshold a steward puts in its manifest.
    pub suppression_k: u32,
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

/// What this node trusts right now.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    pub mode: Option<FederationMode>,
    /// The verified manifest held (member) or the member list (steward, as a manifest).
    pub manifest: Option<Manifest>,
    pub steward: Option<(String, Option<String>, Vec<PublicKey>)>,
    /// Why there is no usable manifest, for status and errors.
    pub problem: Option<String>,
}

impl Trust {
    pub fn peers(&self, me: &str) -> Vec<Peer> {
        self.manifest
            .as_ref()
            .map(|m| m.active_peers(me).map(Peer::from).collect())
            .unwrap_or_default()
    }

    pub fn is_steward_node(&self, node: &str) -> bool {
        self.steward.as_ref().is_some_and(|(id, _, _)| id == node)
    }
}

/// Keys learned from descriptors: the raw key and when it stops being accepted.
type Learned = HashMap<(String, String), ([u8; 32], Option<i64>)>;

struct Keys<'a> {
    trust: &'a Trust,
    fetched: &'a Learned,
    now: i64,
}

impl KeyLookup for Keys<'_> {
    fn key(&self, issuer: &str, kid: &str) -> Option<[u8; 32]> {
        if let Some((id, _, keys)) = &self.trust.steward
            && id == issuer
        {
            return keys
                .iter()
                .find(|k| k.kid == kid)
                .and_then(|k| k.usable(self.now));
        }
        let manifest = self.trust.manifest.as_ref()?;
        if !manifest.is_active(issuer) {
            return None;
        }
        manifest::ActiveKeys {
            manifest,
            now: self.now,
        }
        .key(issuer, kid)
        .or_else(|| {
            self.fetched
                .get(&(issuer.to_owned(), kid.to_owned()))
                .filter(|(_, exp)| exp.is_none_or(|e| e > self.now))
                .map(|(k, _)| *k)
        })
    }
}

pub struct Federation {
    pub db: Db,
    pub settings: FederationSettings,
    tokens: Arc<TokenService>,
    http: reqwest::Client,
    replay: ReplayCache,
    /// Keys learned from a member's descriptor after an unknown key id.
    fetched: Mutex<Learned>,
    /// When each node's descriptor was last fetched for an unknown key: at most once a minute.
    fetched_at: Mutex<HashMap<String, i64>>,
    /// Outbound calls by (member, outcome code), for monitoring.
    calls: Mutex<std::collections::BTreeMap<(String, String), u64>>,
}

impl std::fmt::Debug for Federation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Federation")
            .field("node_id", &self.settings.node_id)
            .finish_non_exhaustive()
    }
}

fn unix(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp()
}

fn now_unix() -> i64 {
    unix(alongside_core::time::now())
}

/// A fresh W3C `traceparent` for a call that starts here.
pub fn new_traceparent() -> String {
    let t = uuid::Uuid::new_v4().simple().to_string();
    let s = uuid::Uuid::new_v4().simple().to_string();
    format!("00-{t}-{}-01", &s[..16])
}

/// A child of `parent` for the next hop, keeping its trace id.
pub fn child_traceparent(parent: Option<&str>) -> String {
    let trace = parent.and_then(|p| {
        let parts: Vec<&str> = p.split('-').collect();
        (parts.len() == 4
            && parts[1].len() == 32
            && parts[1].chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| parts[1].to_owned())
    });
    match trace {
        Some(t) => {
            let s = uuid::Uuid::new_v4().simple().to_string();
            format!("00-{t}-{}-01", &s[..16])
        }
        None => new_traceparent(),
    }
}

/// The `traceparent` for a call made inside `span`: the span itself when traces are exported
/// (so the receiver's spans are its children), else a child of the caller's `traceparent`.
fn outgoing_traceparent(span: &tracing::Span, parent: Option<&str>) -> String {
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let cx = span.context();
    let ctx = cx.span().span_context().clone();
    if ctx.is_valid() {
        format!(
            "00-{}-{}-{:02x}",
            ctx.trace_id(),
            ctx.span_id(),
            ctx.trace_flags().to_u8()
        )
    } else {
        child_traceparent(parent)
    }
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

    /// What this node trusts now: a steward its member list, a member its verified manifest.
    pub async fn trust(&self) -> Result<Trust, CoreError> {
        let me = self.settings.node_id.clone();
        let k = self.settings.suppression_k;
        self.db
            .run(move |conn| {
                let Some(settings) = store::settings(conn)? else {
                    return Ok(Trust {
                        problem: Some("this node is not in a federation".into()),
                        ..Trust::default()
                    });
                };
                match settings.mode {
                    FederationMode::Steward => {
                        let members = store::members(conn)?
                            .into_iter()
                            .map(|r| r.member)
                            .collect();
                        Ok(Trust {
                            mode: Some(FederationMode::Steward),
                            manifest: Some(Manifest {
                                iss: me,
                                serial: 0,
                                iat: 0,
                                exp: i64::MAX,
                                policy: Policy {
                                    protocol_version: PROTOCOL_VERSION.into(),
                                    suppression_k: k,
                                },
                                members,
                                steward_keys: vec![],
                            }),
                            steward: None,
                            problem: None,
                        })
                    }
                    FederationMode::Member => {
                        let steward_id = settings.steward_id.clone().unwrap_or_default();
                        let held = store::manifest(conn)?;
                        let (manifest, problem) = match held {
                            None => (None, Some("no manifest yet: the steward has not been reached or has not approved this node".into())),
                            Some(h) => match manifest::verify(
                                &h.token,
                                &steward_id,
                                &settings.steward_keys,
                                None,
                                now_unix(),
                            ) {
                                Ok(m) => (Some(m), None),
                                Err(e) => (None, Some(format!("the manifest held is not usable: {e}"))),
                            },
                        };
                        Ok(Trust {
                            mode: Some(FederationMode::Member),
                            manifest,
                            steward: Some((
                                steward_id,
                                settings.steward_url.clone(),
                                settings.steward_keys.clone(),
                            )),
                            problem,
                        })
                    }
                }
            })
            .await
    }

    /// Checks an inbound call: addressed to this node first, then from an active member (or the
    /// steward), then the signature and everything it binds. An unknown key id of an active
    /// member makes this node fetch that member's descriptor once and decide again.
    pub async fn verify_inbound(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> Result<(Caller, Trust), FedError> {
        let token = token.ok_or(FedError::Call(CallError::Malformed))?;
        let claims = call::addressed_to(token, &self.settings.node_id)?;
        let trust = self.trust().await?;
        let member = trust
            .manifest
            .as_ref()
            .and_then(|m| m.member(&claims.iss))
            .filter(|m| m.status == MemberStatus::Active)
            .cloned();
        if member.is_none() && !trust.is_steward_node(&claims.iss) {
            return Err(FedError::Call(CallError::NotMember));
        }
        let req = Request { method, path, body };
        let verify = |fetched: &Learned| {
            let keys = Keys {
                trust: &trust,
                fetched,
                now: now_unix(),
            };
            call::verify_call(
                token,
                &self.settings.node_id,
                req,
                &keys,
                &self.replay,
                now_unix(),
                self.settings.clock_skew_secs,
            )
        };
        let first = {
            let fetched = self.fetched.lock().map_err(|_| poisoned())?.clone();
            verify(&fetched)
        };
        match (first, member) {
            (Err(CallError::UnknownKey), Some(m)) if self.may_fetch(&m.node_id)? => {
                self.learn_keys(&m).await;
                let fetched = self.fetched.lock().map_err(|_| poisoned())?.clone();
                Ok((verify(&fetched)?, trust))
            }
            (result, _) => Ok((result?, trust)),
        }
    }

    fn may_fetch(&self, node: &str) -> Result<bool, FedError> {
        let mut at = self.fetched_at.lock().map_err(|_| poisoned())?;
        let now = now_unix();
        if at.get(node).is_some_and(|t| now - t < 60) {
            return Ok(false);
        }
        at.insert(node.to_owned(), now);
        Ok(true)
    }

    /// A node's descriptor at `base_url`, within the member timeout.
    async fn fetch_descriptor(&self, base_url: &str) -> Result<NodeDescriptor, reqwest::Error> {
        let url = format!("{}{DESCRIPTOR_PATH}", base_url.trim_end_matches('/'));
        self.http
            .get(&url)
            .timeout(self.settings.member_timeout)
            .send()
            .await?
            .error_for_status()?
            .json::<NodeDescriptor>()
            .await
    }

    /// Fetches a member's descriptor from the URL in the manifest and remembers its keys, if
    /// the descriptor names the same node.
    async fn learn_keys(&self, m: &ManifestMember) {
        match self.fetch_descriptor(&m.base_url).await {
            Ok(d) if d.id == m.node_id => {
                let now = now_unix();
                if let Ok(mut keys) = self.fetched.lock() {
                    for k in &d.keys {
                        if let Some(bytes) = k.usable(now) {
                            keys.insert((d.id.clone(), k.kid.clone()), (bytes, k.expires_at));
                        }
                    }
                }
            }
            Ok(_) => tracing::warn!(member = %m.node_id, "a descriptor named another node"),
            Err(e) => {
                tracing::warn!(member = %m.node_id, error = %e.without_url(), "descriptor fetch failed")
            }
        }
    }

    /// Sends a signed call and decodes the JSON answer.
    pub async fn call<R: DeserializeOwned>(
        &self,
        peer: &Peer,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
        timeout: Duration,
        traceparent: Option<&str>,
    ) -> Result<R, FedError> {
        let bytes = self
            .send(peer, method, path, body, timeout, traceparent)
            .await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| FedError::Garbage(format!("{}: {e}", peer.node_id)))
    }

    /// Outbound calls so far by member and outcome ("ok" or an error code).
    pub fn call_counts(&self) -> Vec<((String, String), u64)> {
        self.calls
            .lock()
            .map(|c| c.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default()
    }

    /// Sends a signed call; returns the body of a 2xx answer.
    pub async fn send(
        &self,
        peer: &Peer,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
        timeout: Duration,
        traceparent: Option<&str>,
    ) -> Result<Vec<u8>, FedError> {
        let started = std::time::Instant::now();
        let route = path.split('?').next().unwrap_or(path).to_owned();
        let result = self
            .send_once(peer, method, path, body, timeout, traceparent)
            .await;
        let outcome = match &result {
            Ok(_) => "ok".to_owned(),
            Err(e) => e.code().to_owned(),
        };
        tracing::debug!(
            member = %peer.node_id,
            path = %route,
            outcome = %outcome,
            ms = started.elapsed().as_secs_f64() * 1000.0,
            "federation call"
        );
        if let Ok(mut c) = self.calls.lock() {
            *c.entry((peer.node_id.clone(), outcome)).or_default() += 1;
        }
        result
    }

    async fn send_once(
        &self,
        peer: &Peer,
        method: reqwest::Method,
        path: &str,
        body: Vec<u8>,
        timeout: Duration,
        traceparent: Option<&str>,
    ) -> Result<Vec<u8>, FedError> {
        let token = call::sign_call(
            self.tokens.key(),
            &self.settings.node_id,
            &peer.node_id,
            Request {
                method: method.as_str(),
                path,
                body: &body,
            },
            now_unix(),
            self.settings.call_lifetime_secs,
        )?;
        let url = format!("{}{path}", peer.base_url.trim_end_matches('/'));
        let span = tracing::info_span!(
            "federation call",
            member = %peer.node_id,
            path = %path.split('?').next().unwrap_or(path),
        );
        let mut req = self
            .http
            .request(method, &url)
            .timeout(timeout)
            .header(CALL_HEADER, token)
            .header(TRACEPARENT, outgoing_traceparent(&span, traceparent));
        if !body.is_empty() {
            req = req
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        let exchange = async {
            let resp = req.send().await?;
            let status = resp.status();
            Ok::<_, reqwest::Error>((status, resp.bytes().await?.to_vec()))
        };
        let (status, bytes) = tracing::Instrument::instrument(exchange, span)
            .await
            .map_err(|e| {
                if e.is_timeout() {
                    FedError::TimedOut(peer.node_id.clone())
                } else {
                    FedError::Unreachable(format!("{}: {}", peer.node_id, e.without_url()))
                }
            })?;
        if status.is_success() {
            Ok(bytes)
        } else {
            let code = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v.get("code").and_then(|c| c.as_str()).map(str::to_owned))
                .unwrap_or_else(|| "UNKNOWN".into());
            Err(FedError::Refused {
                node: peer.node_id.clone(),
                status: status.as_u16(),
                code,
            })
        }
    }

    /// Fetches the steward's manifest if it changed (conditional GET), verifies it against the
    /// pinned key, refuses an older serial, stores it, and forgets the directory of members
    /// that are no longer active. Returns the serial held afterwards.
    pub async fn refresh_manifest(&self) -> Result<i64, FedError> {
        let (settings, held) = self
            .db
            .run(|conn| Ok((store::settings(conn)?, store::manifest(conn)?)))
            .await?;
        let settings = settings
            .filter(|s| s.mode == FederationMode::Member)
            .ok_or(FedError::NotConfigured)?;
        let steward_id = settings.steward_id.clone().unwrap_or_default();
        let url = format!(
            "{}/federation/v1/manifest",
            settings
                .steward_url
                .as_deref()
                .unwrap_or_default()
                .trim_end_matches('/')
        );
        let mut req = self
            .http
            .get(&url)
            .timeout(self.settings.member_timeout * 4);
        if let Some(h) = &held {
            req = req.header(reqwest::header::IF_NONE_MATCH, format!("\"{}\"", h.serial));
        }
        let resp = req
            .send()
            .await
            .map_err(|e| FedError::Unreachable(format!("steward: {}", e.without_url())))?;
        if resp.status() == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(held.map_or(0, |h| h.serial));
        }
        if !resp.status().is_success() {
            return Err(FedError::Refused {
                node: steward_id,
                status: resp.status().as_u16(),
                code: "MANIFEST_UNAVAILABLE".into(),
            });
        }
        let body: serde_json::Value = resp
            .json()
            .await
            .map_err(|e| FedError::Garbage(format!("steward manifest: {e}")))?;
        let token = body
            .get("manifest")
            .and_then(|t| t.as_str())
            .ok_or_else(|| FedError::Garbage("steward manifest: no `manifest` field".into()))?
            .to_owned();
        let m = manifest::verify(
            &token,
            &steward_id,
            &settings.steward_keys,
            held.as_ref().map(|h| h.serial),
            now_unix(),
        )?;
        let serial = m.serial;
        let repinned = (!m.steward_keys.is_empty() && m.steward_keys != settings.steward_keys)
            .then(|| Settings {
                steward_keys: m.steward_keys.clone(),
                ..settings.clone()
            });
        let gone: Vec<String> = m
            .members
            .iter()
            .filter(|x| x.status != MemberStatus::Active)
            .map(|x| x.node_id.clone())
            .collect();
        let stored = StoredManifest {
            serial,
            token,
            expires_at: chrono::DateTime::from_timestamp(m.exp, 0)
                .map(|d| d.naive_utc())
                .unwrap_or_default(),
            stored_at: alongside_core::time::now(),
        };
        self.db
            .run(move |conn| {
                store::store_manifest(conn, &stored)?;
                if let Some(s) = &repinned {
                    store::set_settings(conn, s)?;
                }
                for node in &gone {
                    store::forget_origin(conn, node)?;
                }
                Ok(())
            })
            .await?;
        Ok(serial)
    }

    /// Asks the steward at `steward_url` to admit this node, pinning the steward's key (checked
    /// against `expect_kid` when given). Returns the steward's descriptor.
    pub async fn request_join(
        &self,
        steward_url: &str,
        expect_kid: Option<&str>,
    ) -> Result<NodeDescriptor, FedError> {
        let steward_url = steward_url.trim_end_matches('/');
        let descriptor: NodeDescriptor = self
            .http
            .get(format!("{steward_url}{DESCRIPTOR_PATH}"))
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| FedError::Unreachable(format!("steward: {}", e.without_url())))?
            .error_for_status()
            .map_err(|e| FedError::Unreachable(format!("steward: {}", e.without_url())))?
            .json()
            .await
            .map_err(|e| FedError::Garbage(format!("steward descriptor: {e}")))?;
        if !descriptor.steward {
            return Err(FedError::Garbage(format!(
                "{steward_url} is a node, but not a steward"
            )));
        }
        if let Some(kid) = expect_kid
            && !descriptor
                .keys
                .iter()
                .any(|k| k.kid == kid && k.expires_at.is_none())
        {
            return Err(FedError::Garbage(format!(
                "the steward at {steward_url} does not publish key {kid}; check the URL and the key you were given"
            )));
        }
        let peer = Peer {
            node_id: descriptor.id.clone(),
            name: descriptor.name.clone(),
            base_url: steward_url.to_owned(),
        };
        let mine = serde_json::to_vec(&self.own_descriptor(false))
            .map_err(|e| CoreError::internal(format!("encoding: {e}")))?;
        self.send(
            &peer,
            reqwest::Method::POST,
            "/federation/v1/join",
            mine,
            Duration::from_secs(10),
            None,
        )
        .await?;
        let settings = Settings {
            mode: FederationMode::Member,
            steward_id: Some(descriptor.id.clone()),
            steward_url: Some(steward_url.to_owned()),
            steward_keys: descriptor
                .keys
                .iter()
                .filter(|k| k.expires_at.is_none())
                .cloned()
                .collect(),
        };
        self.db
            .run(move |conn| store::set_settings(conn, &settings))
            .await?;
        Ok(descriptor)
    }

    /// A join request arrives at the steward: signed with the key it carries (proof that the
    /// joiner holds it), addressed to the steward, for a node id not already a member.
    pub async fn receive_join(
        &self,
        token: Option<&str>,
        path: &str,
        body: &[u8],
    ) -> Result<MemberStatus, FedError> {
        let token = token.ok_or(FedError::Call(CallError::Malformed))?;
        let claims = call::addressed_to(token, &self.settings.node_id)?;
        let trust = self.trust().await?;
        if trust.mode != Some(FederationMode::Steward) {
            return Err(FedError::NotConfigured);
        }
        let d: NodeDescriptor = serde_json::from_slice(body).map_err(|e| {
            FedError::Core(CoreError::bad_input(
                "descriptor",
                format!("the join request is not a node descriptor: {e}"),
            ))
        })?;
        if d.id != claims.iss {
            return Err(FedError::Call(CallError::Mismatch));
        }
        if !d.protocol_versions.iter().any(|v| v == PROTOCOL_VERSION) {
            return Err(FedError::Core(CoreError::bad_input(
                "protocolVersions",
                format!("this steward speaks protocol version {PROTOCOL_VERSION}"),
            )));
        }
        let now = now_unix();
        let keys: HashMap<(String, String), [u8; 32]> = d
            .keys
            .iter()
            .filter_map(|k| Some(((d.id.clone(), k.kid.clone()), k.usable(now)?)))
            .collect();
        struct Own<'a>(&'a HashMap<(String, String), [u8; 32]>);
        impl KeyLookup for Own<'_> {
            fn key(&self, issuer: &str, kid: &str) -> Option<[u8; 32]> {
                self.0.get(&(issuer.to_owned(), kid.to_owned())).copied()
            }
        }
        call::verify_call(
            token,
            &self.settings.node_id,
            Request {
                method: "POST",
                path,
                body,
            },
            &Own(&keys),
            &self.replay,
            now,
            self.settings.clock_skew_secs,
        )?;
        let status = self
            .db
            .run(move |conn| store::record_join(conn, &d, alongside_core::time::now()))
            .await?;
        Ok(status)
    }
}

/// What a steward needs to issue a manifest, movable onto a database thread.
struct Issuer {
    tokens: Arc<TokenService>,
    data_dir: std::path::PathBuf,
    steward_id: String,
    suppression_k: u32,
    lifetime: chrono::Duration,
}

impl Issuer {
    fn issue(
        &self,
        conn: &mut alongside_core::db::DbConnection,
    ) -> Result<StoredManifest, CoreError> {
        issue_manifest(
            conn,
            self.tokens.key(),
            &steward_keys(&self.tokens, &self.data_dir),
            &self.steward_id,
            self.suppression_k,
            self.lifetime,
        )
    }

    fn set_status(
        &self,
        conn: &mut alongside_core::db::DbConnection,
        node: &str,
        status: MemberStatus,
    ) -> Result<StoredManifest, CoreError> {
        apply_member_status(
            conn,
            self.tokens.key(),
            &steward_keys(&self.tokens, &self.data_dir),
            &self.steward_id,
            node,
            status,
            self.suppression_k,
            self.lifetime,
        )
    }
}

impl Federation {
    fn issuer(&self) -> Issuer {
        Issuer {
            tokens: self.tokens.clone(),
            data_dir: self.settings.data_dir.clone(),
            steward_id: self.settings.node_id.clone(),
            suppression_k: self.settings.suppression_k,
            lifetime: self.settings.manifest_lifetime,
        }
    }
}

/// The keys a steward publishes in its manifest: the one it signs with, retired ones still
/// valid, and a key rotated in on disk that `serve` will sign with after its restart — so a
/// manifest issued between the rotation and the restart keeps members' pins moving forward.
pub fn steward_keys(tokens: &TokenService, data_dir: &std::path::Path) -> Vec<PublicKey> {
    let mut keys = vec![PublicKey::current(tokens.key())];
    if alongside_core::tokens::NodeKey::path_in(data_dir).exists()
        && let Ok((on_disk, _)) = alongside_core::tokens::NodeKey::load_or_create(data_dir)
        && on_disk.kid() != tokens.key().kid()
    {
        keys.push(PublicKey::current(&on_disk));
    }
    let now = alongside_core::time::now();
    let retired = alongside_core::keyring::retired(data_dir, now).unwrap_or_default();
    for k in tokens.retired().chain(retired.iter()) {
        if !keys.iter().any(|x| x.kid == k.kid) {
            keys.push(PublicKey::retired(k));
        }
    }
    keys
}

fn poisoned() -> FedError {
    FedError::Core(CoreError::internal("a federation lock was poisoned"))
}

/// Issues a new manifest on a steward from its member list, with the next serial.
pub fn issue_manifest(
    conn: &mut alongside_core::db::DbConnection,
    key: &alongside_core::tokens::NodeKey,
    steward_keys: &[PublicKey],
    steward_id: &str,
    suppression_k: u32,
    lifetime: chrono::Duration,
) -> Result<StoredManifest, CoreError> {
    conn.transaction(|conn| {
        alongside_core::db::take_write_lock(conn)?;
        let now = alongside_core::time::now();
        let serial = store::manifest(conn)?.map_or(0, |m| m.serial) + 1;
        let members = store::members(conn)?
            .into_iter()
            .map(|r| r.member)
            .filter(|m| m.status != MemberStatus::Pending)
            .collect();
        let m = Manifest {
            iss: steward_id.to_owned(),
            serial,
            iat: unix(now),
            exp: unix(now + lifetime),
            policy: Policy {
                protocol_version: PROTOCOL_VERSION.into(),
                suppression_k,
            },
            members,
            steward_keys: steward_keys.to_vec(),
        };
        let stored = StoredManifest {
            serial,
            token: manifest::sign(key, &m)?,
            expires_at: now + lifetime,
            stored_at: now,
        };
        store::store_manifest(conn, &stored)?;
        Ok(stored)
    })
}

impl Federation {
    /// A steward's admin approves, suspends or reinstates a member; a new manifest is issued at
    /// once with the next serial.
    pub async fn set_member_status(
        &self,
        who: &alongside_core::access::Principal,
        node: String,
        status: MemberStatus,
    ) -> Result<StoredManifest, FedError> {
        alongside_core::access::authorize(
            who,
            alongside_core::access::Operation::ManageFederation,
        )?;
        let issuer = self.issuer();
        Ok(self
            .db
            .run(move |conn| issuer.set_status(conn, &node, status))
            .await?)
    }

    /// The steward's members, for its admins.
    pub async fn members(
        &self,
        who: &alongside_core::access::Principal,
    ) -> Result<Vec<store::MemberRecord>, FedError> {
        alongside_core::access::authorize(
            who,
            alongside_core::access::Operation::ManageFederation,
        )?;
        Ok(self.db.run(store::members).await?)
    }

    /// On a steward: reads each active member's descriptor and, when its keys changed (a
    /// rotation, a key expiring), records them and issues a new manifest. Returns how many
    /// members changed.
    pub async fn refresh_member_keys(&self) -> Result<usize, FedError> {
        let trust = self.trust().await?;
        if trust.mode != Some(FederationMode::Steward) {
            return Ok(0);
        }
        let mut changed = 0;
        for m in trust.peers(self.node_id()) {
            let Ok(d) = self.fetch_descriptor(&m.base_url).await else {
                tracing::info!(member = %m.node_id, "member descriptor not reachable");
                continue;
            };
            let now = now_unix();
            let keys: Vec<PublicKey> = d
                .keys
                .into_iter()
                .filter(|k| k.usable(now).is_some())
                .collect();
            let held = trust
                .manifest
                .as_ref()
                .and_then(|x| x.member(&m.node_id))
                .map(|x| x.keys.clone())
                .unwrap_or_default();
            if d.id != m.node_id || keys.is_empty() || keys == held {
                continue;
            }
            let node = m.node_id.clone();
            self.db
                .run(move |conn| store::set_keys(conn, &node, &keys, alongside_core::time::now()))
                .await?;
            changed += 1;
        }
        if changed > 0 {
            let issuer = self.issuer();
            self.db.run(move |conn| issuer.issue(conn)).await?;
        }
        Ok(changed)
    }

    /// Re-issues the steward's manifest when it is past half its life (or was never issued).
    pub async fn reissue_manifest_if_due(&self) -> Result<Option<i64>, FedError> {
        let issuer = self.issuer();
        Ok(self
            .db
            .run(move |conn| {
                let Some(s) = store::settings(conn)? else {
                    return Ok(None);
                };
                if s.mode != FederationMode::Steward {
                    return Ok(None);
                }
                let now = alongside_core::time::now();
                // Due at half its life, or when it was signed with a key this node no longer
                // signs with (after a rotation and restart).
                let due = store::manifest(conn)?.is_none_or(|m| {
                    let signer = jsonwebtoken::decode_header(&m.token)
                        .ok()
                        .and_then(|h| h.kid);
                    m.expires_at - now < issuer.lifetime / 2
                        || signer.as_deref() != Some(issuer.tokens.key().kid())
                });
                if !due {
                    return Ok(None);
                }
                issuer.issue(conn).map(|m| Some(m.serial))
            })
            .await?)
    }
}

/// Sets a member's status and issues the next manifest, in one transaction. The operator's CLI
/// calls this directly; the API goes through [`Federation::set_member_status`].
#[allow(clippy::too_many_arguments)]
pub fn apply_member_status(
    conn: &mut alongside_core::db::DbConnection,
    key: &alongside_core::tokens::NodeKey,
    steward_keys: &[PublicKey],
    steward_id: &str,
    node: &str,
    status: MemberStatus,
    suppression_k: u32,
    lifetime: chrono::Duration,
) -> Result<StoredManifest, CoreError> {
    conn.transaction(|conn| {
        let s = store::settings(conn)?;
        if s.is_none_or(|s| s.mode != FederationMode::Steward) {
            return Err(CoreError::Conflict(
                "this node is not a steward; run `alongside federation init-steward` first".into(),
            ));
        }
        store::set_status(conn, node, status, alongside_core::time::now())?;
        if status != MemberStatus::Active {
            store::forget_origin(conn, node)?;
        }
        issue_manifest(conn, key, steward_keys, steward_id, suppression_k, lifetime)
    })
}
