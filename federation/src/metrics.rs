//! Network metrics: a steward pulls each member's aggregates (already suppressed at the source)
//! and pools them, applying suppression again to the pooled tables.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{Datelike, NaiveDateTime};
use serde::Serialize;

use alongside_core::access::{ClientPrincipal, Operation, Principal, Scope, authorize};
use alongside_core::metrics::program;
use alongside_core::metrics::suppression::{self, Cell, Published, SuppressionK};

use crate::call::Caller;
use crate::error::FedError;
use crate::matching::{MemberReport, Outcome};
use crate::service::{Federation, Peer};
use crate::store;

pub const METRICS_PATH: &str = "/federation/v1/metrics";
/// The tables pooled across members (the outside ones live under the member's `outside`).
pub const POOLED_TABLES: [&str; 6] = [
    "requests_by_origin_and_urgency",
    "requests_by_profession",
    "requests_by_event_category",
    "escalations_by_month",
    "outside_introductions",
    "outside_acceptance_times",
];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MemberMetrics {
    pub node_id: String,
    pub name: String,
    /// `YYYY-MM`: members' figures are pulled and kept a month at a time.
    pub month: String,
    pub fetched_at: NaiveDateTime,
    pub metrics: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PooledTable {
    pub name: String,
    pub table: Published,
    /// Some member suppressed a cell of this table: the totals are lower bounds.
    pub lower_bound: bool,
    /// Per cell (rows × columns, as in `table`): whether some member suppressed it, so the
    /// pooled figure is a lower bound ("at least"). Such a cell with nothing published anywhere
    /// is shown suppressed, never as 0.
    pub at_least: Vec<Vec<bool>>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkMetrics {
    pub period: String,
    pub k: u64,
    /// Each active member's figures, a month at a time.
    pub members: Vec<MemberMetrics>,
    /// Months of the period the steward has not (yet) pulled from an active member, as
    /// `node_id` and `month`: the pooled figures leave them out, so they are lower bounds.
    pub missing: Vec<MissingMonth>,
    pub pooled: Vec<PooledTable>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MissingMonth {
    pub node_id: String,
    pub month: String,
}

/// How many months the steward keeps pulling back, to fill what it lacks.
pub const MONTHS_KEPT: u32 = 24;

/// The months `from` to `to` (`YYYY-MM`, inclusive), at most [`MONTHS_KEPT`] of them.
pub fn months(from: &str, to: &str) -> Result<Vec<String>, alongside_core::CoreError> {
    use alongside_core::CoreError;
    let parse = |field: &str, m: &str| {
        let m = alongside_core::events::check_month(field, m)?;
        chrono::NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d")
            .map_err(|_| CoreError::bad_input(field, "must be a month, YYYY-MM"))
    };
    let (mut at, last) = (parse("from", from)?, parse("to", to)?);
    if last < at {
        return Err(CoreError::bad_input("to", "must not be before from"));
    }
    let mut out = Vec::new();
    while at <= last {
        if out.len() as u32 == MONTHS_KEPT {
            return Err(CoreError::bad_input(
                "to",
                format!("at most {MONTHS_KEPT} months at a time"),
            ));
        }
        out.push(at.format("%Y-%m").to_string());
        at = at
            .checked_add_months(chrono::Months::new(1))
            .ok_or_else(|| CoreError::bad_input("to", "out of range"))?;
    }
    Ok(out)
}

/// The month `back` months before `now`'s.
fn month_before(now: NaiveDateTime, back: u32) -> Option<String> {
    let first = now.date().with_day(1)?;
    Some(
        first
            .checked_sub_months(chrono::Months::new(back))?
            .format("%Y-%m")
            .to_string(),
    )
}

/// Pools one table across members' published JSON: union of rows and columns, published cells
/// summed, then suppressed again with `k`. A cell some member suppressed is a lower bound
/// (`at_least`); if no member published a figure for it, it stays suppressed rather than 0.
pub fn pool(name: &str, members: &[serde_json::Value], k: SuppressionK) -> PooledTable {
    let mut sums: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut partial: BTreeMap<(String, String), bool> = BTreeMap::new();
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
                let key = (rn.clone(), cn.clone());
                match cell.as_u64() {
                    Some(n) => *sums.entry(key).or_default() += n,
                    None => {
                        lower_bound = true;
                        partial.insert(key, true);
                    }
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
    let at_least: Vec<Vec<bool>> = rows
        .iter()
        .map(|r| {
            cols.iter()
                .map(|c| partial.contains_key(&(r.clone(), c.clone())))
                .collect()
        })
        .collect();
    let mut table = suppression::suppress(rows, cols, &counts, k);
    for (row, flags) in table.cells.iter_mut().zip(&at_least) {
        for (cell, partial) in row.iter_mut().zip(flags) {
            // Only suppressed figures here: the true count is unknown, and 0 would be a claim.
            if *partial && *cell == Cell::Count(0) {
                *cell = Cell::Withheld;
            }
        }
    }
    PooledTable {
        name: name.to_owned(),
        table,
        lower_bound,
        at_least,
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
        let k = self.settings.suppression_k.stricter(
            trust
                .manifest
                .as_ref()
                .map_or(0, |m| u64::from(m.policy.suppression_k)),
        );
        let steward = Principal::Client(ClientPrincipal {
            client_id: format!("federation:{}", caller.node_id),
            scopes: [Scope::MetricsRead].into_iter().collect(),
        });
        let m = program::for_period(&self.db, &steward, from, to, k).await?;
        serde_json::to_value(m).map_err(|e| FedError::Garbage(e.to_string()))
    }

    /// The steward pulls every active member's metrics for each month of `from`..`to` and keeps
    /// them, a month at a time. One report per member: answered if every month was.
    pub async fn pull_metrics(&self, from: &str, to: &str) -> Result<Vec<MemberReport>, FedError> {
        let months = months(from, to)?;
        let trust = self.trust().await?;
        let peers = trust.peers(self.node_id());
        let pulls = peers.iter().map(|p| self.pull_member(p, months.clone()));
        Ok(futures_util::future::join_all(pulls).await)
    }

    /// The round the steward runs: for each member, the current and the previous month (still
    /// changing as late answers and contacts are recorded), and every earlier month of the last
    /// [`MONTHS_KEPT`] it has no figures for yet — after a member joins, or was unreachable.
    pub async fn pull_metrics_round(&self) -> Result<Vec<MemberReport>, FedError> {
        let now = alongside_core::time::now();
        let window: Vec<String> = (0..MONTHS_KEPT)
            .filter_map(|back| month_before(now, back))
            .collect();
        let held = self.db.run(store::metrics_held).await?;
        let trust = self.trust().await?;
        let peers = trust.peers(self.node_id());
        let pulls = peers.iter().map(|p| {
            let wanted: Vec<String> = window
                .iter()
                .enumerate()
                .filter(|(back, m)| {
                    *back < 2 || !held.contains(&(p.node_id.clone(), period_key(m, m)))
                })
                .map(|(_, m)| m.clone())
                .collect();
            self.pull_member(p, wanted)
        });
        Ok(futures_util::future::join_all(pulls).await)
    }

    async fn pull_member(&self, p: &Peer, months: Vec<String>) -> MemberReport {
        let started = std::time::Instant::now();
        let mut report = MemberReport {
            node_id: p.node_id.clone(),
            name: p.name.clone(),
            outcome: Outcome::Answered,
            candidates: 0,
            code: None,
            elapsed_ms: 0,
        };
        for month in months {
            let path = format!("{METRICS_PATH}?from={month}&to={month}");
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
            let failed = match got {
                Ok(v) => {
                    let (node, key) = (p.node_id.clone(), period_key(&month, &month));
                    let stored = self
                        .db
                        .run(move |conn| {
                            store::store_metrics(conn, &node, &key, &v, alongside_core::time::now())
                        })
                        .await;
                    stored
                        .err()
                        .map(|e| (Outcome::Error, e.code().as_str().to_owned()))
                }
                Err(FedError::Refused { code, .. }) => Some((Outcome::Refused, code)),
                Err(e @ FedError::TimedOut(_)) => Some((Outcome::TimedOut, e.code().into())),
                Err(e) => Some((Outcome::Error, e.code().into())),
            };
            if let Some((outcome, code)) = failed {
                // The rest waits for the next round: a member that cannot answer one month
                // is not asked for eleven more now.
                report.outcome = outcome;
                report.code = Some(code);
                break;
            }
        }
        report.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        report
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
        let months = months(&from, &to)?;
        let k = self.settings.suppression_k;
        let keys: Vec<String> = months.iter().map(|m| period_key(m, m)).collect();
        let rows: Vec<_> = self
            .db
            .run(move |conn| store::metrics_for_periods(conn, &keys))
            .await?
            .into_iter()
            .filter(|r| names.contains_key(&r.0))
            .collect();
        let month_of = |key: &str| key.split("..").next().unwrap_or(key).to_owned();
        let missing = names
            .keys()
            .flat_map(|node| months.iter().map(move |m| (node, m)))
            .filter(|(node, m)| !rows.iter().any(|r| &r.0 == *node && month_of(&r.1) == **m))
            .map(|(node, m)| MissingMonth {
                node_id: node.clone(),
                month: m.clone(),
            })
            .collect();
        // Each member's month is pooled like another member: published cells summed, a cell
        // suppressed in any of them a lower bound.
        let values: Vec<serde_json::Value> = rows.iter().map(|r| r.2.clone()).collect();
        Ok(NetworkMetrics {
            period: period_key(&from, &to),
            k: k.get(),
            missing,
            pooled: POOLED_TABLES.iter().map(|t| pool(t, &values, k)).collect(),
            members: rows
                .into_iter()
                .map(|(node, key, metrics, fetched_at)| MemberMetrics {
                    name: names.get(&node).cloned().unwrap_or_default(),
                    node_id: node,
                    month: month_of(&key),
                    fetched_at,
                    metrics,
                })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    fn k11() -> SuppressionK {
        SuppressionK::default()
    }
    use super::*;
    use proptest::prelude::*;

    /// A member's table as it publishes it: its true counts suppressed with `k` at the source.
    fn published(rows: &[&str], cols: &[&str], counts: &[Vec<u64>], k: u64) -> serde_json::Value {
        let k = SuppressionK::try_from(k).unwrap();
        let t = suppression::suppress(
            rows.iter().map(|s| (*s).to_owned()).collect(),
            cols.iter().map(|s| (*s).to_owned()).collect(),
            counts,
            k,
        );
        serde_json::json!({ "t": t })
    }

    #[test]
    fn published_cells_sum_and_suppressed_ones_are_lower_bounds_never_zero() {
        let (rows, cols) = (["crisis", "routine"], ["nurse", "physician", "pharmacist"]);
        // Member a publishes everything; member b's 3 nurses in crisis are suppressed at the
        // source (and, complementarily, more of its table).
        let a = published(&rows, &cols, &[vec![20, 30, 15], vec![40, 50, 25]], 2);
        let b = published(&rows, &cols, &[vec![3, 30, 40], vec![40, 50, 60]], 11);
        let c = published(&rows, &cols, &[vec![0, 0, 0], vec![0, 0, 0]], 11);
        let pooled = pool("t", &[a.clone(), b.clone(), c], k11());
        assert!(pooled.lower_bound);
        let cell = |r: usize, c: usize| pooled.table.cells[r][c];
        // a's 20 plus b's suppressed 3: shown as 20, marked "at least".
        assert_eq!(cell(0, 0), Cell::Count(20));
        assert!(pooled.at_least[0][0]);
        // b's complementary suppression hides more of its table; the cells it published are
        // exact sums, and at least one is.
        let truth = [[23, 60, 55], [80, 100, 85]];
        let mut exact = 0;
        for (r, row) in truth.iter().enumerate() {
            for (c, t) in row.iter().enumerate() {
                if !pooled.at_least[r][c] {
                    assert_eq!(cell(r, c), Cell::Count(*t));
                    exact += 1;
                }
            }
        }
        assert!(exact > 0);

        // Only b has the cell, and suppressed it: hidden in the pool too (its size unknown),
        // not 0.
        let only_b = pool("t", &[b], k11());
        assert_eq!(only_b.table.cells[0][0], Cell::Withheld);
        assert!(only_b.at_least[0][0]);
    }

    proptest! {
        /// With real counts at each member: a pooled figure never exceeds the true sum, equals
        /// it wherever no member suppressed the cell (unless the pool suppresses it), and a cell
        /// some member suppressed is never shown as 0.
        #[test]
        fn pooled_figures_are_true_or_lower_bounds(
            members in proptest::collection::vec(proptest::collection::vec(0u64..40, 6), 1..5),
            k in 2u64..12,
        ) {
            let (rows, cols) = (["a", "b"], ["x", "y", "z"]);
            let tables: Vec<Vec<Vec<u64>>> = members
                .iter()
                .map(|m| vec![m[0..3].to_vec(), m[3..6].to_vec()])
                .collect();
            let json: Vec<_> = tables.iter().map(|t| published(&rows, &cols, t, k)).collect();
            let pooled = pool("t", &json, SuppressionK::try_from(k).unwrap());
            for r in 0..2 {
                for c in 0..3 {
                    let truth: u64 = tables.iter().map(|t| t[r][c]).sum();
                    match pooled.table.cells[r][c] {
                        Cell::Count(n) => {
                            prop_assert!(n <= truth, "{n} > true {truth}");
                            if pooled.at_least[r][c] {
                                prop_assert!(n > 0, "a partly suppressed cell shown as 0");
                            } else {
                                prop_assert_eq!(n, truth);
                            }
                        }
                        Cell::Suppressed | Cell::Withheld | Cell::AtLeast(_) => {}
                    }
                }
            }
        }
    }
}
