//! Cross-institution matching: the requester's node sends the de-identified query to the
//! active members, a few at a time, until enough candidates have come back; each answers from
//! its own opted-in supporters. Each member gets at most its timeout and the whole match at most
//! its deadline, so a slow or dead member yields a status, never a wait; a member that failed
//! lately is asked last, and among the others those whose availability digest fits the query
//! first.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use alongside_core::deid::Shareable;
use alongside_core::feed::FeedKind;
use alongside_core::requests::outside::{self, OutsideCandidate, OutsideQuery};
use alongside_core::requests::outside_digest::{self, AvailabilityDigest, Fit};

use crate::call::Caller;
use crate::error::FedError;
use crate::service::{Federation, Peer};
use crate::store;

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
    /// Enough candidates had come back from the members asked before it, or the match
    /// deadline had passed.
    NotAsked,
}

/// How long a member whose last match call failed (timed out, refused, unreachable) is asked
/// only after every other member.
pub const ASKED_LAST_FOR: Duration = Duration::from_secs(600);

/// Which members failed this node's match calls lately, kept in memory per replica: asking a
/// member that is down or silent first would hold every match to its timeout.
#[derive(Debug, Default)]
pub(crate) struct Lately {
    failed_at: std::sync::Mutex<std::collections::HashMap<String, Instant>>,
}

impl Lately {
    /// The order to ask `peers` in, as indices: members without a recent failure first, the
    /// others after, oldest failure first; within each, by how their digest fits the query
    /// (`fits`, one per peer). Among equals the order is drawn afresh for every match, so the
    /// calls (and the chance to offer a candidate) are spread over all members rather than
    /// always falling on the same few.
    ///
    /// Each index comes with whether that member fits and has not failed lately: a round of
    /// such members is not filled up with others, so when the digests are right a match asks
    /// only the members that can answer it.
    fn order(&self, peers: &[Peer], fits: &[Fit], now: Instant) -> Vec<(usize, bool)> {
        use std::hash::BuildHasher;
        let draw = std::collections::hash_map::RandomState::new();
        let failed = self
            .failed_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut keyed: Vec<(Option<Instant>, Fit, u64, usize)> = peers
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let recent = failed
                    .get(&p.node_id)
                    .copied()
                    .filter(|at| now.saturating_duration_since(*at) < ASKED_LAST_FOR);
                let fit = fits.get(i).copied().unwrap_or(Fit::Unknown);
                (recent, fit, draw.hash_one(&p.node_id), i)
            })
            .collect();
        // `None` sorts before `Some`: members with no recent failure come first.
        keyed.sort();
        keyed
            .into_iter()
            .map(|(recent, fit, _, i)| (i, recent.is_none() && fit == Fit::Fits))
            .collect()
    }

    fn record(&self, member: &str, outcome: Outcome, now: Instant) {
        let mut failed = self
            .failed_at
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match outcome {
            Outcome::Answered => {
                failed.remove(member);
            }
            Outcome::NotAsked => {}
            Outcome::TimedOut | Outcome::Refused | Outcome::Error => {
                failed.insert(member.to_owned(), now);
            }
        }
    }
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

impl OutsideMatch {
    /// Members this match called (whatever came of it): the members not asked left out.
    pub fn asked(&self) -> usize {
        self.members
            .iter()
            .filter(|m| m.outcome != Outcome::NotAsked)
            .count()
    }

    /// Members that answered in time.
    pub fn answered(&self) -> usize {
        self.members
            .iter()
            .filter(|m| m.outcome == Outcome::Answered)
            .count()
    }
}

/// Distinct match queries one member may send this node in an hour: a requester's node asks once
/// per request (and may retry the same), so more is someone listing supporters by criteria.
/// Kept per replica, in memory.
pub const MAX_PROBES_PER_HOUR: usize = 20;

impl Federation {
    /// Asks the active members in rounds of `match_fanout`, best first (see [`Lately`]), until
    /// `match_enough` candidates have come back, the members run out or the match deadline
    /// passes; merges what came back. Members not reached are reported as not asked.
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
        let started = Instant::now();
        let fits = self.fits(&peers, query.get()).await;
        let order = self.lately.order(&peers, &fits, started);
        let fanout = match self.settings.match_fanout {
            0 => peers.len().max(1),
            n => n,
        };
        let mut reports: Vec<Option<MemberReport>> = vec![None; peers.len()];
        let mut candidates = Vec::new();
        let mut next = 0;
        while next < order.len() && candidates.len() < self.settings.match_enough.max(1) {
            let left = self
                .settings
                .match_deadline
                .saturating_sub(started.elapsed());
            if left.is_zero() {
                break;
            }
            let per = self.settings.member_timeout.min(left);
            let mut round = &order[next..(next + fanout).min(order.len())];
            // A round of fitting members is not filled up with others: they are asked only if
            // the fitting ones bring too few (`match_fanout` 0 still asks everyone at once).
            if self.settings.match_fanout != 0 && round.first().is_some_and(|&(_, fits)| fits) {
                let fitting = round.iter().take_while(|&&(_, fits)| fits).count();
                round = &round[..fitting];
            }
            next += round.len();
            let asks = round
                .iter()
                .map(|&(i, _)| self.ask(&peers[i], body.clone(), per, traceparent));
            let results = futures_util::future::join_all(asks).await;
            let now = Instant::now();
            for (&(i, _), (report, found)) in round.iter().zip(results) {
                let peer = &peers[i];
                self.lately.record(&peer.node_id, report.outcome, now);
                reports[i] = Some(report);
                candidates.extend(found.into_iter().map(|c| RemoteCandidate {
                    node_id: peer.node_id.clone(),
                    node_name: peer.name.clone(),
                    candidate: c,
                }));
            }
        }
        let members = peers
            .iter()
            .zip(reports)
            .map(|(peer, report)| {
                report.unwrap_or_else(|| MemberReport {
                    node_id: peer.node_id.clone(),
                    name: peer.name.clone(),
                    outcome: Outcome::NotAsked,
                    candidates: 0,
                    code: None,
                    elapsed_ms: 0,
                })
            })
            .collect();
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

    /// How each peer's last digest (from the directory cache) fits `query`. The digest only
    /// orders the members, so when the cache cannot be read every member is `Unknown` and the
    /// match goes on.
    async fn fits(&self, peers: &[Peer], query: &OutsideQuery) -> Vec<Fit> {
        let digests = match self
            .db
            .run(|conn| store::directory(conn, FeedKind::Availability))
            .await
        {
            Ok(entries) => entries
                .into_iter()
                .filter_map(|e| {
                    let d: AvailabilityDigest = serde_json::from_value(e.item).ok()?;
                    Some((e.origin, d))
                })
                .collect::<std::collections::HashMap<_, _>>(),
            Err(e) => {
                tracing::warn!(code = e.code().as_str(), "availability digests unread");
                Default::default()
            }
        };
        peers
            .iter()
            .map(|p| {
                digests
                    .get(&p.node_id)
                    .map_or(Fit::Unknown, |d| d.fit(query))
            })
            .collect()
    }

    /// Recomputes this node's availability digest and publishes it in the feed when a band
    /// changed; returns whether it did. Only a member publishes one: a steward answers no match.
    pub async fn refresh_digest(&self) -> Result<bool, FedError> {
        if self.mode().await? != Some(alongside_core::vocab::FederationMode::Member) {
            return Ok(false);
        }
        Ok(outside_digest::refresh(
            &self.db,
            alongside_core::time::now(),
            self.settings.candidate_k,
        )
        .await?)
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
