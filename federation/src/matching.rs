//! Cross-institution matching: the requester's node sends the de-identified query to every
//! active member at once; each answers from its own opted-in supporters. Each member gets at
//! most its timeout and the whole match at most its deadline, so a slow or dead member yields a
//! status, never a wait.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use alongside_core::deid::Shareable;
use alongside_core::requests::outside::{self, OutsideCandidate, OutsideQuery};

use crate::call::Caller;
use crate::error::FedError;
use crate::service::{Federation, Peer};

pub const MATCH_PATH: &str = "/federation/v1/match";

/// A member's answer to a match query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchAnswer {
    pub candidates: Vec<Shareable<OutsideCandidate>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Answered,
    TimedOut,
    Refused,
    Error,
}

/// How one member fared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberReport {
    pub node_id: String,
    pub name: String,
    pub outcome: Outcome,
    pub candidates: usize,
    /// The error code, when not answered.
    pub code: Option<String>,
    pub elapsed_ms: u64,
}

/// A candidate and the member it is at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteCandidate {
    pub node_id: String,
    pub node_name: String,
    pub candidate: OutsideCandidate,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutsideMatch {
    pub candidates: Vec<RemoteCandidate>,
    pub members: Vec<MemberReport>,
}

/// Distinct match queries one member may send this node in an hour: a requester's node asks once
/// per request (and may retry the same), so more is someone listing supporters by criteria.
/// Kept per replica, in memory.
pub const MAX_PROBES_PER_HOUR: usize = 20;

impl Federation {
    /// Fans `query` out to every active member and merges what comes back in time.
    pub(crate) async fn find_outside(
        &self,
        query: &Shareable<OutsideQuery>,
        traceparent: Option<&str>,
    ) -> Result<OutsideMatch, FedError> {
        let trust = self.trust().await?;
        // Only a member asks: answers and introductions come back to members, not stewards.
        if trust.manifest.is_none()
            || trust.mode != Some(alongside_core::vocab::FederationMode::Member)
        {
            return Err(FedError::NotConfigured);
        }
        trust.standing(self.node_id())?;
        let peers = trust.peers(self.node_id());
        let body = serde_json::to_vec(query)
            .map_err(|e| FedError::Garbage(format!("encoding the query: {e}")))?;
        let per = self
            .settings
            .member_timeout
            .min(self.settings.match_deadline);
        let asks = peers
            .iter()
            .map(|peer| self.ask(peer, body.clone(), per, traceparent));
        let results = futures_util::future::join_all(asks).await;
        let mut candidates = Vec::new();
        let mut members = Vec::new();
        for (peer, (report, found)) in peers.iter().zip(results) {
            members.push(report);
            candidates.extend(found.into_iter().map(|c| RemoteCandidate {
                node_id: peer.node_id.clone(),
                node_name: peer.name.clone(),
                candidate: c,
            }));
        }
        candidates.sort_by(|a, b| {
            b.candidate
                .score
                .cmp(&a.candidate.score)
                .then(
                    a.candidate
                        .next_available_at
                        .is_none()
                        .cmp(&b.candidate.next_available_at.is_none()),
                )
                .then(
                    a.candidate
                        .next_available_at
                        .cmp(&b.candidate.next_available_at),
                )
                .then(a.node_id.cmp(&b.node_id))
        });
        Ok(OutsideMatch {
            candidates,
            members,
        })
    }

    async fn ask(
        &self,
        peer: &Peer,
        body: Vec<u8>,
        limit: Duration,
        traceparent: Option<&str>,
    ) -> (MemberReport, Vec<OutsideCandidate>) {
        let started = Instant::now();
        let answer = tokio::time::timeout(
            limit,
            self.call::<MatchAnswer>(
                peer,
                reqwest::Method::POST,
                MATCH_PATH,
                body,
                limit,
                traceparent,
            ),
        )
        .await
        .unwrap_or_else(|_| Err(FedError::TimedOut(peer.node_id.clone())));
        let (outcome, code, found) = match answer {
            Ok(a) => (
                Outcome::Answered,
                None,
                a.candidates
                    .into_iter()
                    .map(Shareable::into_inner)
                    .collect::<Vec<_>>(),
            ),
            Err(e @ FedError::TimedOut(_)) => (Outcome::TimedOut, Some(e.code().into()), vec![]),
            Err(FedError::Refused { code, .. }) => (Outcome::Refused, Some(code), vec![]),
            Err(e) => (Outcome::Error, Some(e.code().into()), vec![]),
        };
        if outcome != Outcome::Answered {
            tracing::info!(member = %peer.node_id, code = code.as_deref().unwrap_or(""), "member gave no candidates");
        }
        (
            MemberReport {
                node_id: peer.node_id.clone(),
                name: peer.name.clone(),
                outcome,
                candidates: found.len(),
                code,
                elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            },
            found,
        )
    }

    /// Counts a distinct query from `member`; refuses one more than [`MAX_PROBES_PER_HOUR`] in
    /// the last hour (asking the same again is free: a retry is not a probe).
    fn count_probe(&self, member: &str, body: &[u8]) -> Result<(), FedError> {
        let digest = alongside_core::secrets::sha256_hex(&String::from_utf8_lossy(body));
        let now = crate::service::now_unix();
        let mut probes = self.probes.lock().map_err(|_| crate::service::poisoned())?;
        let seen = probes.entry(member.to_owned()).or_default();
        seen.retain(|(_, at)| now - at < 3600);
        if seen.iter().any(|(d, _)| *d == digest) {
            return Ok(());
        }
        if seen.len() >= MAX_PROBES_PER_HOUR {
            let oldest = seen.iter().map(|(_, at)| *at).min().unwrap_or(now);
            return Err(FedError::Core(alongside_core::CoreError::RateLimited {
                message: format!(
                    "at most {MAX_PROBES_PER_HOUR} different match queries an hour from one member"
                ),
                retry_after_secs: u64::try_from(oldest + 3600 - now).unwrap_or(1).max(1),
            }));
        }
        seen.push((digest, now));
        Ok(())
    }

    /// Answers a member's query from this node's opted-in supporters.
    pub async fn answer_match(
        &self,
        caller: &Caller,
        body: &[u8],
    ) -> Result<MatchAnswer, FedError> {
        // Deserialising a Shareable runs the gate: a query carrying an identifier is refused.
        let query: Shareable<OutsideQuery> = serde_json::from_slice(body).map_err(|e| {
            FedError::Core(alongside_core::CoreError::bad_input("query", e.to_string()))
        })?;
        self.count_probe(&caller.node_id, body)?;
        let from = caller.node_id.clone();
        let k = self.settings.candidate_k;
        let candidates = self
            .db
            .run(move |conn| {
                outside::answer(conn, query.get(), &from, alongside_core::time::now(), k)
            })
            .await?;
        Ok(MatchAnswer { candidates })
    }
}
