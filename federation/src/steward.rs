//! The steward's side: starting a federation, admitting and suspending members, and issuing
//! the signed manifest with the keys it publishes — each decided once here, for the API, the
//! operator's CLI, the demo and the tests alike.

use std::sync::Arc;

use diesel::Connection;

use alongside_core::CoreError;
use alongside_core::access::{self, Operation, Principal};
use alongside_core::db::DbConnection;
use alongside_core::tokens::TokenService;
use alongside_core::vocab::{FederationMode, MemberStatus};

use crate::descriptor::{PROTOCOL_VERSION, PublicKey};
use crate::error::FedError;
use crate::manifest::{self, Manifest, Policy};
use crate::service::{Federation, now_unix, unix};
use crate::store::{self, MemberRecord, Settings, StoredManifest};

/// What a steward needs to issue a manifest, movable onto a database thread.
struct Issuer {
    tokens: Arc<TokenService>,
    data_dir: std::path::PathBuf,
    steward_id: String,
    suppression_k: alongside_core::metrics::suppression::SuppressionK,
    lifetime: chrono::Duration,
}

impl Issuer {
    /// A new manifest from the member list, with the next serial.
    fn issue(&self, conn: &mut DbConnection) -> Result<StoredManifest, CoreError> {
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
                iss: self.steward_id.clone(),
                serial,
                iat: unix(now),
                exp: unix(now + self.lifetime),
                policy: Policy {
                    protocol_version: PROTOCOL_VERSION.into(),
                    suppression_k: self.suppression_k.wire(),
                },
                members,
                steward_keys: steward_keys(&self.tokens, &self.data_dir),
            };
            let signer = self.tokens.key().kid();
            let stored = StoredManifest {
                serial,
                token: manifest::sign(self.tokens.key(), &m)?,
                expires_at: now + self.lifetime,
                stored_at: now,
            };
            store::store_manifest(conn, &stored)?;
            // Signed with the key being rotated away and listing the one rotated in: kept, so a
            // member that misses it now can still follow it after the steward's restart.
            if m.steward_keys
                .iter()
                .any(|k| k.expires_at.is_none() && k.kid != signer)
            {
                store::keep_bridge(conn, signer, &stored, now)?;
            }
            Ok(stored)
        })
    }
}

/// Refuses unless this node is a steward.
fn steward_only(conn: &mut DbConnection) -> Result<(), CoreError> {
    if store::settings(conn)?.is_none_or(|s| s.mode != FederationMode::Steward) {
        return Err(CoreError::Conflict(
            "this node is not a steward; run `alongside federation init-steward` first".into(),
        ));
    }
    Ok(())
}

/// The keys a steward publishes in its manifest: the one it signs with, retired ones still
/// valid, and a key rotated in on disk that `serve` will sign with after its restart — so a
/// manifest issued between the rotation and the restart keeps members' pins moving forward.
fn steward_keys(tokens: &TokenService, data_dir: &std::path::Path) -> Vec<PublicKey> {
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

    /// Makes this node the steward of a new federation and issues its first manifest. Refused
    /// on a node that is already a member: a steward runs on a node of its own.
    pub async fn become_steward(&self, who: &Principal) -> Result<StoredManifest, FedError> {
        access::authorize(who, Operation::ManageFederation)?;
        let issuer = self.issuer();
        Ok(self
            .db
            .run(move |conn| {
                conn.transaction(|conn| {
                    if store::settings(conn)?.is_some_and(|s| s.mode == FederationMode::Member) {
                        return Err(CoreError::Conflict(
                            "this node is already a member of a federation; a steward runs on a node of its own".into(),
                        ));
                    }
                    store::set_settings(
                        conn,
                        &Settings {
                            mode: FederationMode::Steward,
                            steward_id: Some(issuer.steward_id.clone()),
                            steward_url: None,
                            steward_keys: vec![],
                        },
                    )?;
                    issuer.issue(conn)
                })
            })
            .await?)
    }

    /// Issues the next manifest now (after a key rotation, so members pin the new key).
    pub async fn issue_manifest(&self, who: &Principal) -> Result<StoredManifest, FedError> {
        access::authorize(who, Operation::ManageFederation)?;
        let issuer = self.issuer();
        Ok(self
            .db
            .run(move |conn| {
                steward_only(conn)?;
                issuer.issue(conn)
            })
            .await?)
    }

    /// The manifest a steward publishes to its members; `NotConfigured` on any other node.
    pub async fn published_manifest(&self) -> Result<StoredManifest, FedError> {
        let (settings, held) = self
            .db
            .run(|conn| Ok((store::settings(conn)?, store::manifest(conn)?)))
            .await?;
        match (settings, held) {
            (Some(s), Some(m)) if s.mode == FederationMode::Steward => Ok(m),
            _ => Err(FedError::NotConfigured),
        }
    }

    /// The transition manifest the steward's retired key `kid` signed, for a member still pinned
    /// to it; `NotConfigured` on any node but a steward, not found once it expired.
    pub async fn bridge_manifest(&self, kid: String) -> Result<String, FedError> {
        Ok(self
            .db
            .run(move |conn| {
                if store::settings(conn)?.is_none_or(|s| s.mode != FederationMode::Steward) {
                    return Err(CoreError::NotFound("manifest bridge"));
                }
                store::bridge(conn, &kid, alongside_core::time::now())?
                    .ok_or(CoreError::NotFound("manifest bridge"))
            })
            .await?)
    }

    /// A steward's admin (or operator) approves, suspends or reinstates a member; a new
    /// manifest is issued at once with the next serial. Returns the member and that manifest.
    pub async fn set_member_status(
        &self,
        who: &Principal,
        node: String,
        status: MemberStatus,
    ) -> Result<(MemberRecord, StoredManifest), FedError> {
        access::authorize(who, Operation::ManageFederation)?;
        let issuer = self.issuer();
        Ok(self
            .db
            .run(move |conn| {
                conn.transaction(|conn| {
                    steward_only(conn)?;
                    store::set_status(conn, &node, status, alongside_core::time::now())?;
                    if status != MemberStatus::Active {
                        store::forget_origin(conn, &node)?;
                    }
                    let issued = issuer.issue(conn)?;
                    let member =
                        store::member(conn, &node)?.ok_or(CoreError::NotFound("member"))?;
                    Ok((member, issued))
                })
            })
            .await?)
    }

    /// The steward's members, for its admins.
    pub async fn members(&self, who: &Principal) -> Result<Vec<MemberRecord>, FedError> {
        access::authorize(who, Operation::ManageFederation)?;
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
            tracing::info!(member = %m.node_id, "member keys changed");
            changed += 1;
        }
        if changed > 0 {
            let issuer = self.issuer();
            let m = self.db.run(move |conn| issuer.issue(conn)).await?;
            tracing::info!(
                serial = m.serial,
                members = changed,
                "manifest issued: member keys changed"
            );
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
