//! Network metrics: a steward pulls each member's aggregates (already suppressed at the source)
//! and pools them, applying suppression again to the pooled tables.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::NaiveDateTime;
use serde::Serialize;

use alongside_core::access::{ClientPrincipal, Operation, Principal, Scope, authorize};
use alongside_core::metrics::program;
use alongside_core::metrics::suppression::{self, Published};

use crate::call::Caller;
use crate::error::FedError;
use crate::matching::{MemberReport, Outcome};
use crate::service::{Federation, Peer};
use crate::store;

pub const METRICS_PATH: &str = "/federation/v1/metrics";
/// The tables pooled across members (the outside ones live under the member's `outside`).
pub const POOLED_TABLES: [&str; 5] = [
    "requests_by_origin_and_urgency",
    "requests_by_profession",
    "requests_by_event_category",
    "outside_introductions",
    "outside_acceptance_times",
];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemberMetrics {
    pub node_id: String,
    pub name: String,
    pub fetched_at: NaiveDateTime,
    pub metrics: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PooledTable {
    pub name: String,
    pub table: Published,
    /// Some member suppressed a cell of this table, counted here as zero: figures are lower
    /// bounds.
    pub lower_bound: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkMetrics {
    pub period: String,
    pub k: u64,
    pub members: Vec<MemberMetrics>,
    pub pooled: Vec<PooledTable>,
}

/// Pools one table across members' published JSON: union of rows and columns, published cells
/// summed, then suppressed again with `k`.
pub fn pool(name: &str, members: &[serde_json::Value], k: u64) -> PooledTable {
    let mut sums: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut rows: Vec<String> = Vec::new();
    let mut cols: Vec<String> = Vec::new();
    let mut lower_bound = false;
    for m in members {
        let Some(t) = m
            .get(name)
            .or_else(|| m.get("outside").and_then(|o| o.get(name)))
        else {
            continue;
        };
        let names = |key: &str| -> Vec<String> {
            t.get(key)
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let (r, c) = (names("rows"), names("columns"));
        for x in &r {
            if !rows.contains(x) {
                rows.push(x.clone());
            }
        }
        for x in &c {
            if !cols.contains(x) {
                cols.push(x.clone());
            }
        }
        let cells = t.get("cells").and_then(|v| v.as_array());
        for (ri, row) in cells.into_iter().flatten().enumerate() {
            for (ci, cell) in row.as_array().into_iter().flatten().enumerate() {
                let (Some(rn), Some(cn)) = (r.get(ri), c.get(ci)) else {
                    continue;
                };
                match cell.as_u64() {
                    Some(n) => *sums.entry((rn.clone(), cn.clone())).or_default() += n,
                    None => lower_bound = true,
                }
            }
        }
    }
    let counts: Vec<Vec<u64>> = rows
        .iter()
        .map(|r| {
            cols.iter()
                .map(|c| sums.get(&(r.clone(), c.clone())).copied().unwrap_or(0))
                .collect()
        })
        .collect();
    PooledTable {
        name: name.to_owned(),
        table: suppression::suppress(rows, cols, &counts, k),
        lower_bound,
    }
}

fn period_key(from: &str, to: &str) -> String {
    format!("{}..{}", from.trim(), to.trim())
}

impl Federation {
    /// A member answers its steward with its own suppressed metrics for the months asked.
    pub async fn answer_metrics(
        &self,
        caller: &Caller,
        trust: &crate::trust::Trust,
        from: String,
        to: String,
    ) -> Result<serde_json::Value, FedError> {
        if !trust.is_steward_node(&caller.node_id) {
            return Err(alongside_core::CoreError::Forbidden(
                "only the federation's steward may ask for metrics".into(),
            )
            .into());
        }
        let k = trust
            .manifest
            .as_ref()
            .map_or(u64::from(self.settings.suppression_k), |m| {
                u64::from(m.policy.suppression_k)
            });
        let steward = Principal::Client(ClientPrincipal {
            client_id: format!("federation:{}", caller.node_id),
            scopes: [Scope::MetricsRead].into_iter().collect(),
        });
        let m = program::for_period(&self.db, &steward, from, to, k).await?;
        serde_json::to_value(m).map_err(|e| FedError::Garbage(e.to_string()))
    }

    /// The steward pulls every active member's metrics for `from`..`to` and keeps them.
    pub async fn pull_metrics(&self, from: &str, to: &str) -> Result<Vec<MemberReport>, FedError> {
        let trust = self.trust().await?;
        let peers = trust.peers(self.node_id());
        let path = format!("{METRICS_PATH}?from={}&to={}", from.trim(), to.trim());
        let key = period_key(from, to);
        let pulls = peers.iter().map(|p: &Peer| {
            let (path, key) = (path.clone(), key.clone());
            async move {
                let started = std::time::Instant::now();
                let got: Result<serde_json::Value, FedError> = self
                    .call(
                        p,
                        reqwest::Method::GET,
                        &path,
                        vec![],
                        Duration::from_secs(20),
                        None,
                    )
                    .await;
                let (outcome, code) = match got {
                    Ok(v) => {
                        let node = p.node_id.clone();
                        let stored = self
                            .db
                            .run(move |conn| {
                                store::store_metrics(
                                    conn,
                                    &node,
                                    &key,
                                    &v,
                                    alongside_core::time::now(),
                                )
                            })
                            .await;
                        match stored {
                            Ok(()) => (Outcome::Answered, None),
                            Err(e) => (Outcome::Error, Some(e.code().as_str().to_owned())),
                        }
                    }
                    Err(FedError::Refused { code, .. }) => (Outcome::Refused, Some(code)),
                    Err(e @ FedError::TimedOut(_)) => (Outcome::TimedOut, Some(e.code().into())),
                    Err(e) => (Outcome::Error, Some(e.code().into())),
                };
                MemberReport {
                    node_id: p.node_id.clone(),
                    name: p.name.clone(),
                    outcome,
                    candidates: 0,
                    code,
                    elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                }
            }
        });
        Ok(futures_util::future::join_all(pulls).await)
    }

    /// The network view for the steward's analysts: each member's figures and the pooled tables.
    pub async fn network_metrics(
        &self,
        who: &Principal,
        from: String,
        to: String,
    ) -> Result<NetworkMetrics, FedError> {
        authorize(who, Operation::ViewNetworkMetrics)?;
        let trust = self.trust().await?;
        let names: BTreeMap<String, String> = trust
            .manifest
            .iter()
            .flat_map(|m| m.members.iter())
            .filter(|m| m.status == alongside_core::vocab::MemberStatus::Active)
            .map(|m| (m.node_id.clone(), m.name.clone()))
            .collect();
        let key = period_key(&from, &to);
        let k = u64::from(self.settings.suppression_k);
        let rows: Vec<_> = self
            .db
            .run(move |conn| store::metrics(conn, &key))
            .await?
            .into_iter()
            .filter(|r| names.contains_key(&r.0))
            .collect();
        let values: Vec<serde_json::Value> = rows.iter().map(|r| r.1.clone()).collect();
        Ok(NetworkMetrics {
            period: period_key(&from, &to),
            k,
            pooled: POOLED_TABLES.iter().map(|t| pool(t, &values, k)).collect(),
            members: rows
                .into_iter()
                .map(|(node, metrics, fetched_at)| MemberMetrics {
                    name: names.get(&node).cloned().unwrap_or_default(),
                    node_id: node,
                    fetched_at,
                    metrics,
                })
                .collect(),
        })
    }
}
