//! Directory sync: every member serves a change feed of what it shares and pulls every other
//! member's feed from its own cursor, caching the items; the origin owns each item. The network
//! view is served from the cache, so it is fast and still there while an origin is down.

use std::time::Duration;

use serde::Serialize;

use alongside_core::access::{Operation, Principal, authorize};
use alongside_core::deid::Shareable;
use alongside_core::feed::{self, FeedKind, FeedPage};
use alongside_core::page::Page;
use alongside_core::requests::outside_digest::AvailabilityDigest;
use alongside_core::resources::Resource;
use alongside_core::training::TrainerListing;

use crate::error::FedError;
use crate::service::{Federation, Peer};
use crate::store;

pub const FEED_PATH: &str = "/federation/v1/feed";
/// Items per page a member asks for.
pub const PAGE: i64 = 200;

/// The kinds of feed item this node takes (`kinds=`): a member that predates one of them
/// ignores the parameter and sends what it has.
pub const KINDS: &str = "resource,trainer,availability";

/// Origins a directory sync pulls from at once.
pub const SYNC_AT_ONCE: usize = 4;

/// An item of the network directory and where it comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkItem<T> {
    pub origin: String,
    pub origin_name: String,
    /// The origin's feed version of the item: with the origin, where it sits in the directory.
    pub version: i64,
    pub item: T,
}

/// A page of the network directory: after `after` (an origin and a version, from the last item
/// of the page before), at most `first` items; everything when `first` is `None`.
#[derive(Debug, Clone, Default)]
pub struct Window {
    pub after: Option<(String, i64)>,
    pub first: Option<usize>,
}

impl Window {
    /// The items of this window, in the directory's order (origin, newest first).
    fn take<T>(&self, items: Vec<NetworkItem<T>>) -> Page<NetworkItem<T>> {
        let after = self.after.as_ref();
        let mut rest: Vec<NetworkItem<T>> = items
            .into_iter()
            .filter(|i| {
                after.is_none_or(|(origin, version)| {
                    i.origin.as_str() > origin.as_str()
                        || (&i.origin == origin && i.version < *version)
                })
            })
            .collect();
        let more = self.first.is_some_and(|n| rest.len() > n);
        if let Some(n) = self.first {
            rest.truncate(n);
        }
        Page {
            items: rest,
            has_next_page: more,
            has_previous_page: after.is_some(),
        }
    }
}

/// Checks a feed item received from another member against the gate before caching it.
fn admissible(kind: FeedKind, item: &serde_json::Value) -> bool {
    match kind {
        FeedKind::Resource => serde_json::from_value::<Shareable<Resource>>(item.clone()).is_ok(),
        FeedKind::Trainer => {
            serde_json::from_value::<Shareable<TrainerListing>>(item.clone()).is_ok()
        }
        FeedKind::Availability => {
            serde_json::from_value::<Shareable<AvailabilityDigest>>(item.clone()).is_ok()
        }
    }
}

/// The network directory is hidden while this node is not an active member: what it cached
/// shows again once the steward reinstates it. A node outside any federation has none to show.
fn hidden_unless_active(trust: &crate::trust::Trust, me: &str) -> Result<(), FedError> {
    match trust.standing(me) {
        Err(FedError::NotConfigured) => Ok(()),
        other => other,
    }
}

impl Federation {
    /// This node's feed of `kinds` after `after`.
    pub async fn answer_feed(
        &self,
        after: i64,
        limit: i64,
        kinds: Vec<FeedKind>,
    ) -> Result<FeedPage, FedError> {
        Ok(self
            .db
            .run(move |conn| feed::read(conn, after, limit, &kinds))
            .await?)
    }

    /// Pulls every active member's feed from where this node left off. Returns per origin how
    /// many items changed, or why it failed (the cursor stays, so the next run resumes).
    pub async fn sync_directory(&self) -> Result<Vec<(String, Result<usize, FedError>)>, FedError> {
        let trust = self.trust().await?;
        if trust.manifest.is_none() {
            return Err(FedError::NotConfigured);
        }
        trust.standing(self.node_id())?;
        let peers = trust.peers(self.node_id());
        // A few origins at a time: all of them at once would queue every task for one of the
        // node's few database connections, time out there (UNAVAILABLE) and keep people's own
        // requests waiting behind the sync.
        let turns = tokio::sync::Semaphore::new(SYNC_AT_ONCE);
        let turns = &turns;
        let runs = peers.iter().map(|p| async move {
            let _turn = turns.acquire().await;
            let result = self.sync_one(p).await;
            if let Err(e) = &result {
                let (origin, msg) = (p.node_id.clone(), e.reason().to_owned());
                let _ = self
                    .db
                    .run(move |conn| {
                        store::record_sync_failure(conn, &origin, &msg, alongside_core::time::now())
                    })
                    .await;
            }
            (p.node_id.clone(), result)
        });
        Ok(futures_util::future::join_all(runs).await)
    }

    async fn sync_one(&self, peer: &Peer) -> Result<usize, FedError> {
        let mut changed = 0;
        // A bounded number of pages per run, so one busy origin cannot hold the job.
        for _ in 0..50 {
            let origin = peer.node_id.clone();
            let after = self
                .db
                .run(move |conn| store::cursor(conn, &origin))
                .await?;
            let path = format!("{FEED_PATH}?after={after}&limit={PAGE}&kinds={KINDS}");
            let mut page: FeedPage = self
                .call(
                    peer,
                    reqwest::Method::GET,
                    &path,
                    vec![],
                    self.settings.member_timeout.max(Duration::from_secs(5)),
                    None,
                )
                .await?;
            let before = page.items.len();
            page.items
                .retain(|i| i.deleted || admissible(i.kind, &i.item));
            if page.items.len() != before {
                tracing::warn!(origin = %peer.node_id, refused = before - page.items.len(), "feed items refused by the gate");
            }
            let more = page.more;
            let origin = peer.node_id.clone();
            changed += self
                .db
                .run(move |conn| store::apply(conn, &origin, &page, alongside_core::time::now()))
                .await?;
            if !more {
                break;
            }
        }
        Ok(changed)
    }

    fn origin_names(trust: &crate::trust::Trust) -> std::collections::HashMap<String, String> {
        trust
            .manifest
            .iter()
            .flat_map(|m| m.members.iter())
            .filter(|m| m.status == alongside_core::vocab::MemberStatus::Active)
            .map(|m| (m.node_id.clone(), m.name.clone()))
            .collect()
    }

    /// Resources shared by other members, from the cache; `search` matches title, summary and
    /// tags, case-insensitively.
    pub async fn network_resources(
        &self,
        who: &Principal,
        search: Option<String>,
        window: Window,
    ) -> Result<Page<NetworkItem<Resource>>, FedError> {
        authorize(who, Operation::ViewNetwork)?;
        let trust = self.trust().await?;
        hidden_unless_active(&trust, self.node_id())?;
        let names = Self::origin_names(&trust);
        let entries = self
            .db
            .run(|conn| store::directory(conn, FeedKind::Resource))
            .await?;
        let needle = search
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty());
        let items = entries
            .into_iter()
            .filter_map(|e| {
                let r: Resource = serde_json::from_value(e.item).ok()?;
                if let Some(n) = &needle {
                    let hay =
                        format!("{} {} {}", r.title, r.summary, r.tags.join(" ")).to_lowercase();
                    if !hay.contains(n) {
                        return None;
                    }
                }
                Some(NetworkItem {
                    origin_name: names.get(&e.origin)?.clone(),
                    origin: e.origin,
                    version: e.version,
                    item: r,
                })
            })
            .collect::<Vec<_>>();
        Ok(window.take(items))
    }

    /// Trainers listed by other members, from the cache; `topic` matches a topic.
    pub async fn network_trainers(
        &self,
        who: &Principal,
        topic: Option<String>,
        window: Window,
    ) -> Result<Page<NetworkItem<TrainerListing>>, FedError> {
        authorize(who, Operation::ViewNetwork)?;
        let trust = self.trust().await?;
        hidden_unless_active(&trust, self.node_id())?;
        let names = Self::origin_names(&trust);
        let entries = self
            .db
            .run(|conn| store::directory(conn, FeedKind::Trainer))
            .await?;
        let topic = topic
            .map(|s| s.trim().to_lowercase())
            .filter(|s| !s.is_empty());
        let items = entries
            .into_iter()
            .filter_map(|e| {
                let t: TrainerListing = serde_json::from_value(e.item).ok()?;
                if let Some(want) = &topic
                    && !t
                        .topics
                        .iter()
                        .flatten()
                        .any(|x| x.to_lowercase().contains(want))
                {
                    return None;
                }
                Some(NetworkItem {
                    origin_name: names.get(&e.origin)?.clone(),
                    origin: e.origin,
                    version: e.version,
                    item: t,
                })
            })
            .collect::<Vec<_>>();
        Ok(window.take(items))
    }
}
