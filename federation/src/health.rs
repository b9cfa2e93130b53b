//! A member's health as its steward sees it: the steward asks each active member, over a signed
//! call, which manifest serial it holds and when it last synced the directory, and keeps the
//! answer (or the code of the failure) for its admins. A member answers only its steward.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use alongside_core::CoreError;
use alongside_core::access::{Operation, Principal, authorize};
use alongside_core::vocab::FederationMode;

use crate::call::Caller;
use crate::error::FedError;
use crate::service::Federation;
use crate::store;
use crate::trust::Trust;

pub const STATUS_PATH: &str = "/federation/v1/status";

/// What a member reports of itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct MemberStatusReport {
    /// The manifest serial it holds, if any.
    pub manifest_serial: Option<i64>,
    /// The oldest of its last successful syncs from each member it follows: by then it had
    /// everyone's directory. `None` while one of them was never synced.
    pub synced_at: Option<NaiveDateTime>,
}

impl Federation {
    /// A member answers its steward (and no one else) with its own status.
    pub async fn answer_status(
        &self,
        caller: &Caller,
        trust: &Trust,
    ) -> Result<MemberStatusReport, FedError> {
        if !trust.is_steward_node(&caller.node_id) {
            return Err(CoreError::Forbidden(
                "only the federation's steward may ask a member for its status".into(),
            )
            .into());
        }
        let followed: Vec<String> = trust
            .peers(self.node_id())
            .into_iter()
            .map(|p| p.node_id)
            .collect();
        let (held, cursors) = self
            .db
            .run(|conn| Ok((store::manifest(conn)?, store::sync_states(conn)?)))
            .await?;
        let mut oldest: Option<NaiveDateTime> = None;
        let mut complete = true;
        for node in &followed {
            match cursors
                .iter()
                .find(|c| &c.origin == node)
                .and_then(|c| c.synced_at)
            {
                Some(at) => oldest = Some(oldest.map_or(at, |o| o.min(at))),
                None => complete = false,
            }
        }
        Ok(MemberStatusReport {
            manifest_serial: held.map(|m| m.serial),
            synced_at: if complete { oldest } else { None },
        })
    }

    /// On a steward: asks every active member for its status and keeps each answer. Returns
    /// how many answered.
    pub async fn check_members(&self) -> Result<usize, FedError> {
        if self.mode().await? != Some(FederationMode::Steward) {
            return Err(FedError::NotConfigured);
        }
        let trust = self.trust().await?;
        let peers = trust.peers(self.node_id());
        let asks = peers.iter().map(|p| async move {
            let got: Result<MemberStatusReport, FedError> = self
                .call(
                    p,
                    reqwest::Method::GET,
                    STATUS_PATH,
                    vec![],
                    self.settings.member_timeout * 4,
                    None,
                )
                .await;
            (p.node_id.clone(), got)
        });
        let answers = futures_util::future::join_all(asks).await;
        let answered = answers.iter().filter(|(_, r)| r.is_ok()).count();
        let now = alongside_core::time::now();
        self.db
            .run(move |conn| {
                for (node, r) in answers {
                    let report = r
                        .map(|s| (s.manifest_serial, s.synced_at))
                        .map_err(|e| e.reason().to_owned());
                    store::record_health(conn, &node, report, now)?;
                }
                Ok(())
            })
            .await?;
        Ok(answered)
    }

    /// The steward's admins ask every member now, rather than at the next round.
    pub async fn check_members_now(&self, who: &Principal) -> Result<usize, FedError> {
        authorize(who, Operation::ManageFederation)?;
        self.check_members().await
    }
}
