//! The member's side: asking a steward to join, keeping its manifest fresh, and finding and
//! introducing peers at other institutions — with the membership rule held once, in
//! [`Trust::active_member`](crate::trust::Trust::active_member).

use std::time::Duration;

use alongside_core::CoreError;
use alongside_core::access::{self, Operation, Principal};
use alongside_core::vocab::{FederationMode, MemberStatus};

use alongside_core::requests::outside::{self, Introduction, IntroductionShare};
use uuid::Uuid;

use crate::descriptor::{DESCRIPTOR_PATH, NodeDescriptor};
use crate::error::FedError;
use crate::manifest::{self, BRIDGE_PATH, ManifestError};
use crate::matching::OutsideMatch;
use crate::service::{Federation, Peer, now_unix};
use crate::store::{self, Settings, StoredManifest};

impl Federation {
    /// Fetches the steward's manifest if it changed (conditional GET), verifies it against the
    /// pinned key, refuses an older serial, stores it, and forgets the directory of members
    /// that are no longer active. Returns the serial held afterwards.
    /// The outcome is kept (when, and the code if it failed), so a steward this node can no
    /// longer trust shows in its status. A manifest signed by a key this node has not pinned
    /// sends it to the steward's bridge: the transition manifest its pinned key signed, listing
    /// the key rotated in — followed, then the manifest is fetched again.
    pub async fn refresh_manifest(&self) -> Result<i64, FedError> {
        let mut result = self.fetch_manifest().await;
        if matches!(
            result,
            Err(FedError::Manifest(ManifestError::UntrustedSigner))
        ) {
            result = match self.follow_bridge().await {
                Ok(true) => self.fetch_manifest().await,
                Ok(false) => result,
                Err(e) => {
                    tracing::info!(code = e.reason(), "no manifest bridge to follow");
                    result
                }
            };
        }
        let error = result.as_ref().err().map(|e| e.reason().to_owned());
        self.db
            .run(move |conn| {
                store::record_refresh(conn, error.as_deref(), alongside_core::time::now())
            })
            .await?;
        result
    }

    /// This member's settings and the manifest it holds; `NotConfigured` on any other node.
    async fn member_state(&self) -> Result<(Settings, Option<StoredManifest>), FedError> {
        let (settings, held) = self
            .db
            .run(|conn| Ok((store::settings(conn)?, store::manifest(conn)?)))
            .await?;
        let settings = settings
            .filter(|s| s.mode == FederationMode::Member)
            .ok_or(FedError::NotConfigured)?;
        Ok((settings, held))
    }

    /// Asks the steward for a bridge from each key pinned here; follows the first that the
    /// pinned key signed and that lists other steward keys. True when the pins moved.
    async fn follow_bridge(&self) -> Result<bool, FedError> {
        let (settings, held) = self.member_state().await?;
        let steward_id = settings.steward_id.clone().unwrap_or_default();
        let base = settings
            .steward_url
            .as_deref()
            .unwrap_or_default()
            .trim_end_matches('/')
            .to_owned();
        for pinned in &settings.steward_keys {
            let resp = self
                .http
                .get(format!("{base}{BRIDGE_PATH}"))
                .query(&[("from", pinned.kid.as_str())])
                .timeout(self.settings.member_timeout * 4)
                .send()
                .await
                .map_err(|e| FedError::Unreachable(format!("steward: {}", e.without_url())))?;
            if !resp.status().is_success() {
                continue;
            }
            let body: serde_json::Value = resp
                .json()
                .await
                .map_err(|e| FedError::Garbage(format!("steward manifest bridge: {e}")))?;
            let Some(token) = body.get("manifest").and_then(|t| t.as_str()) else {
                continue;
            };
            let m = manifest::verify(
                token,
                &steward_id,
                &settings.steward_keys,
                held.as_ref().map(|h| h.serial),
                now_unix(),
            )?;
            if m.steward_keys.is_empty() || m.steward_keys == settings.steward_keys {
                continue;
            }
            let kids: Vec<String> = m.steward_keys.iter().map(|k| k.kid.clone()).collect();
            tracing::info!(from = %pinned.kid, to = ?kids, "steward key followed across its rotation");
            let moved = Settings {
                steward_keys: m.steward_keys,
                ..settings.clone()
            };
            self.db
                .run(move |conn| store::set_settings(conn, &moved))
                .await?;
            return Ok(true);
        }
        Ok(false)
    }

    /// An operator's recovery when no bridge is left (the member was away longer than the
    /// steward's grace period): pins the steward key `kid` after checking that the steward at
    /// the URL held here publishes it as its current key. The key id is checked out of band.
    pub async fn repin(&self, who: &Principal, kid: &str) -> Result<i64, FedError> {
        access::authorize(who, Operation::ManageFederation)?;
        let settings = self
            .db
            .run(store::settings)
            .await?
            .filter(|s| s.mode == FederationMode::Member)
            .ok_or(FedError::NotConfigured)?;
        let steward_url = settings.steward_url.clone().unwrap_or_default();
        let descriptor = self.steward_descriptor(&steward_url).await?;
        if Some(descriptor.id.as_str()) != settings.steward_id.as_deref() {
            return Err(FedError::WrongSteward(format!(
                "{steward_url} is now {}, not the steward this node joined ({})",
                descriptor.id,
                settings.steward_id.as_deref().unwrap_or_default()
            )));
        }
        let Some(key) = descriptor
            .keys
            .iter()
            .find(|k| k.kid == kid && k.expires_at.is_none())
        else {
            return Err(FedError::WrongSteward(format!(
                "the steward at {steward_url} does not publish {kid} as its current key; check the key id you were given"
            )));
        };
        let moved = Settings {
            steward_keys: vec![key.clone()],
            ..settings
        };
        self.db
            .run(move |conn| store::set_settings(conn, &moved))
            .await?;
        self.refresh_manifest().await
    }

    /// The steward's descriptor at `steward_url`, refused unless it says it is a steward.
    async fn steward_descriptor(&self, steward_url: &str) -> Result<NodeDescriptor, FedError> {
        let steward_url = steward_url.trim_end_matches('/');
        let resp = self
            .http
            .get(format!("{steward_url}{DESCRIPTOR_PATH}"))
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| FedError::Unreachable(format!("steward: {}", e.without_url())))?;
        if !resp.status().is_success() {
            return Err(FedError::WrongSteward(format!(
                "{steward_url} answered {} at {DESCRIPTOR_PATH}: it is not an Alongside node; check the URL",
                resp.status()
            )));
        }
        let descriptor: NodeDescriptor = resp.json().await.map_err(|_| {
            FedError::WrongSteward(format!(
                "{steward_url} is not an Alongside node (its {DESCRIPTOR_PATH} is not a node descriptor); check the URL"
            ))
        })?;
        if !descriptor.steward {
            return Err(FedError::WrongSteward(format!(
                "{steward_url} is an Alongside node, but not a federation's steward; check the URL"
            )));
        }
        Ok(descriptor)
    }

    async fn fetch_manifest(&self) -> Result<i64, FedError> {
        let (settings, held) = self.member_state().await?;
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
    /// against `expect_kid` when given). Returns the steward's descriptor. Refused on a steward:
    /// a member runs on a node of its own.
    pub async fn request_join(
        &self,
        who: &Principal,
        steward_url: &str,
        expect_kid: Option<&str>,
    ) -> Result<NodeDescriptor, FedError> {
        access::authorize(who, Operation::ManageFederation)?;
        if self.mode().await? == Some(FederationMode::Steward) {
            return Err(FedError::Core(CoreError::Conflict(
                "this node is a federation's steward; a member runs on a node of its own".into(),
            )));
        }
        let steward_url = steward_url.trim_end_matches('/');
        let descriptor = self.steward_descriptor(steward_url).await?;
        if let Some(kid) = expect_kid
            && !descriptor
                .keys
                .iter()
                .any(|k| k.kid == kid && k.expires_at.is_none())
        {
            return Err(FedError::WrongSteward(format!(
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
        .await
        .map_err(|e| match e {
            FedError::Refused { status: 409, .. } => FedError::Core(CoreError::Conflict(format!(
                "the steward {} already counts {} as a member (active or suspended): there is nothing to join; `alongside federation status` shows this node's standing",
                descriptor.id, self.settings.node_id
            ))),
            other => other,
        })?;
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

    /// Asks every other member for anonymous peer supporters for the caller's own open
    /// request: only the de-identified query core builds leaves this node.
    pub async fn find_outside_peers(
        &self,
        who: &Principal,
        request_id: Uuid,
        time_zone: Option<String>,
        traceparent: Option<&str>,
    ) -> Result<OutsideMatch, FedError> {
        let query = outside::outside_query(&self.db, who, request_id, time_zone).await?;
        self.find_outside(&query, traceparent).await
    }

    /// Asks to introduce the caller to one candidate at `node_id`, sharing only `share` — and
    /// only to an active member, only while this node is a member.
    pub async fn introduce(
        &self,
        who: &Principal,
        request_id: Uuid,
        node_id: String,
        handle: String,
        share: IntroductionShare,
    ) -> Result<Introduction, FedError> {
        // Who may ask comes first: a stranger learns nothing about the membership.
        access::authorize(who, Operation::RequestSupport)?;
        let trust = self.trust().await?;
        if trust.mode == Some(FederationMode::Member) {
            trust.standing(self.node_id())?;
        }
        if trust.mode != Some(FederationMode::Member) || trust.active_member(&node_id).is_none() {
            return Err(FedError::Core(CoreError::bad_input(
                "nodeId",
                format!("{node_id} is not an active member of this federation"),
            )));
        }
        Ok(outside::introduce(&self.db, who, request_id, node_id, handle, share).await?)
    }

    /// The names of the active members by node id, to show people where a peer works.
    pub async fn member_names(
        &self,
    ) -> Result<std::collections::HashMap<String, String>, FedError> {
        let trust = self.trust().await?;
        Ok(trust
            .manifest
            .map(|m| {
                m.members
                    .into_iter()
                    .filter(|x| x.status == MemberStatus::Active)
                    .map(|x| (x.node_id, x.name))
                    .collect()
            })
            .unwrap_or_default())
    }
}
