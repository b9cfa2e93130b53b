//! Whom this node trusts (the manifest, the pinned steward) and the checks every inbound call
//! passes: addressed here first, then from an active member, then the signature.

use std::collections::HashMap;

use alongside_core::CoreError;
use alongside_core::vocab::{FederationMode, MemberStatus};

use crate::call::{self, CallError, Caller, KeyLookup, Request};
use crate::descriptor::{NodeDescriptor, PROTOCOL_VERSION, PublicKey};
use crate::error::FedError;
use crate::manifest::{self, Manifest, ManifestMember, Policy};
use crate::service::{Federation, Peer, now_unix, poisoned};
use crate::store;

/// What this node trusts right now.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    pub mode: Option<FederationMode>,
    /// The verified manifest held (member) or the member list (steward, as a manifest).
    pub manifest: Option<Manifest>,
    pub steward: Option<(String, Option<String>, Vec<PublicKey>)>,
    /// Why the federation is not usable, or not healthy, for status and errors.
    pub problem: Option<String>,
    /// The same as a stable code.
    pub problem_code: Option<String>,
}

impl Trust {
    pub fn peers(&self, me: &str) -> Vec<Peer> {
        self.manifest
            .as_ref()
            .map(|m| m.active_peers(me).map(Peer::from).collect())
            .unwrap_or_default()
    }

    /// Refuses, before any call, what a member that is not active may not ask of the others:
    /// suspended or no longer listed by the steward. A steward and an active member pass.
    pub fn standing(&self, me: &str) -> Result<(), FedError> {
        match (&self.mode, &self.manifest) {
            (Some(FederationMode::Steward), _) => Ok(()),
            (Some(FederationMode::Member), Some(m)) => match m.member(me).map(|x| x.status) {
                Some(MemberStatus::Active) => Ok(()),
                Some(MemberStatus::Suspended) => Err(FedError::NotActive("suspended")),
                _ => Err(FedError::NotActive("no longer listed")),
            },
            _ => Err(FedError::NotConfigured),
        }
    }

    pub fn is_steward_node(&self, node: &str) -> bool {
        self.steward.as_ref().is_some_and(|(id, _, _)| id == node)
    }

    /// `node` as an active member of the manifest held: the one rule for whom this node
    /// answers, calls and introduces people to.
    pub fn active_member(&self, node: &str) -> Option<&ManifestMember> {
        self.manifest
            .as_ref()
            .and_then(|m| m.member(node))
            .filter(|m| m.status == MemberStatus::Active)
    }
}

/// Keys learned from descriptors: the raw key and when it stops being accepted.
pub(crate) type Learned = HashMap<(String, String), ([u8; 32], Option<i64>)>;

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

impl Federation {
    /// What this node trusts now: a steward its member list, a member its verified manifest.
    pub async fn trust(&self) -> Result<Trust, CoreError> {
        let me = self.settings.node_id.clone();
        let k = self.settings.suppression_k;
        self.db
            .run(move |conn| {
                let Some(settings) = store::settings(conn)? else {
                    return Ok(Trust {
                        problem: Some("this node is not in a federation".into()),
                        problem_code: Some("FEDERATION_NOT_CONFIGURED".into()),
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
                                    suppression_k: k.wire(),
                                },
                                members,
                                steward_keys: vec![],
                            }),
                            steward: None,
                            problem: None,
                            problem_code: None,
                        })
                    }
                    FederationMode::Member => {
                        let steward_id = settings.steward_id.clone().unwrap_or_default();
                        let held = store::manifest(conn)?;
                        let (manifest, problem) = match held {
                            None => (None, Some(("MANIFEST_MISSING".to_owned(), "no manifest yet: the steward has not been reached or has not approved this node".to_owned()))),
                            Some(h) => match manifest::verify(
                                &h.token,
                                &steward_id,
                                &settings.steward_keys,
                                None,
                                now_unix(),
                            ) {
                                Ok(m) => (Some(m), None),
                                Err(e) => (None, Some((e.code().to_owned(), format!("the manifest held is not usable: {e}")))),
                            },
                        };
                        let problem = problem.or_else(|| {
                            let m = manifest.as_ref()?;
                            match m.member(&me).map(|x| x.status) {
                                Some(MemberStatus::Active) => None,
                                Some(MemberStatus::Suspended) => Some(("FEDERATION_NOT_ACTIVE".to_owned(), "the steward has suspended this node: other members refuse its calls, and it asks nothing of them until the steward makes it active again".to_owned())),
                                _ => Some(("FEDERATION_NOT_ACTIVE".to_owned(), "the steward's manifest no longer lists this node: ask the steward's admins".to_owned())),
                            }
                        });
                        let (problem_code, problem) = problem.unzip();
                        Ok(Trust {
                            mode: Some(FederationMode::Member),
                            manifest,
                            steward: Some((
                                steward_id,
                                settings.steward_url.clone(),
                                settings.steward_keys.clone(),
                            )),
                            problem,
                            problem_code,
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
        let member = trust.active_member(&claims.iss).cloned();
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
        let caller = match (first, member) {
            (Err(CallError::UnknownKey), Some(m)) if self.may_fetch(&m.node_id)? => {
                self.learn_keys(&m).await;
                let fetched = self.fetched.lock().map_err(|_| poisoned())?.clone();
                verify(&fetched)?
            }
            (result, _) => result?,
        };
        // The memory of this process refused a replay to it; the database refuses one to
        // another replica of this node.
        let (id, until) = (caller.call_id.clone(), caller.replayable_until);
        let first = self
            .db
            .write(move |conn| {
                let until = chrono::DateTime::from_timestamp(until, 0)
                    .map(|t| t.naive_utc())
                    .unwrap_or_else(alongside_core::time::now);
                store::first_use_anywhere(conn, &id, until, alongside_core::time::now())
            })
            .await?;
        if !first {
            return Err(FedError::Call(CallError::Replayed));
        }
        Ok((caller, trust))
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
