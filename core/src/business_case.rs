//! The business case: the program's measured figures combined with the institution's own
//! parameters into an estimated net benefit. Every line says how it was computed and where its
//! inputs came from; nothing is assumed that the institution did not enter.

use crate::metrics::suppression::SuppressionK;
use serde::Serialize;

use crate::access::{Operation, Principal, authorize};
use crate::db::Db;
use crate::error::CoreError;
use crate::metrics::program;
use crate::metrics::suppression::Cell;

/// The institution's parameters, from its HR and finance figures.
#[derive(Debug, Clone)]
pub struct Parameters {
    /// Share of people involved in an event who would leave within a year without support (0–1).
    pub leaving_rate_without_support: f64,
    /// Share of those leavers the program keeps (0–1).
    pub retention_effect: f64,
    /// Cost of replacing one member of staff (recruiting, onboarding, lost productivity).
    pub replacement_cost: f64,
    /// Days of absence avoided per person supported.
    pub absence_days_avoided_per_person: f64,
    pub cost_per_absence_day: f64,
    /// What the program costs over the same period.
    pub program_cost: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub item: &'static str,
    pub value: f64,
    pub how: String,
    pub source: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub from: String,
    pub to: String,
    pub lines: Vec<Line>,
    pub net_benefit: f64,
}

fn check(field: &str, v: f64, max: f64) -> Result<f64, CoreError> {
    if v.is_finite() && (0.0..=max).contains(&v) {
        Ok(v)
    } else {
        Err(CoreError::bad_input(
            field,
            format!("must be between 0 and {max}"),
        ))
    }
}

/// Refuses a parameter out of range, naming it.
fn checked(p: &Parameters) -> Result<(f64, f64, f64, f64, f64, f64), CoreError> {
    Ok((
        check(
            "leavingRateWithoutSupport",
            p.leaving_rate_without_support,
            1.0,
        )?,
        check("retentionEffect", p.retention_effect, 1.0)?,
        check("replacementCost", p.replacement_cost, 1e9)?,
        check(
            "absenceDaysAvoidedPerPerson",
            p.absence_days_avoided_per_person,
            365.0,
        )?,
        check("costPerAbsenceDay", p.cost_per_absence_day, 1e7)?,
        check("programCost", p.program_cost, 1e10)?,
    ))
}

/// Computes the report from `people_supported` and the parameters.
pub fn compute(
    from: String,
    to: String,
    people_supported: u64,
    p: &Parameters,
) -> Result<Report, CoreError> {
    let (rate, effect, replacement, days, day_cost, cost) = checked(p)?;
    let n = people_supported as f64;
    let kept = n * rate * effect;
    let turnover = kept * replacement;
    let absence = n * days * day_cost;
    let round = |v: f64| (v * 100.0).round() / 100.0;
    let lines = vec![
        Line {
            item: "people supported",
            value: n,
            how: "people with at least one contact in the period".into(),
            source: "measured by Alongside",
        },
        Line {
            item: "staff kept",
            value: round(kept),
            how: format!("{n} × leaving rate {rate} × retention effect {effect}"),
            source: "measured × your parameters",
        },
        Line {
            item: "turnover cost avoided",
            value: round(turnover),
            how: format!(
                "{} staff kept × replacement cost {replacement}",
                round(kept)
            ),
            source: "your parameters",
        },
        Line {
            item: "absence cost avoided",
            value: round(absence),
            how: format!("{n} × {days} days × {day_cost} per day"),
            source: "measured × your parameters",
        },
        Line {
            item: "program cost",
            value: round(-cost),
            how: "as entered".into(),
            source: "your parameters",
        },
    ];
    Ok(Report {
        from,
        to,
        net_benefit: round(turnover + absence - cost),
        lines,
    })
}

/// The report for the months `from` to `to`. Refused when fewer than k people were supported,
/// so that it never describes a handful of identifiable people.
pub async fn report(
    db: &Db,
    who: &Principal,
    from: String,
    to: String,
    k: SuppressionK,
    p: Parameters,
) -> Result<Report, CoreError> {
    authorize(who, Operation::ViewAggregates)?;
    // A parameter out of range is named before anything is counted.
    checked(&p)?;
    let m = program::for_period(db, who, from.clone(), to.clone(), k).await?;
    let supported = match (m.contacts_per_person, m.encounters) {
        (Some(per_person), Cell::Count(contacts)) if per_person > 0.0 => {
            (contacts as f64 / per_person).round() as u64
        }
        _ => {
            return Err(CoreError::Conflict(format!(
                "too few people were supported in this period to report without identifying anyone (fewer than {k})"
            )));
        }
    };
    compute(from, to, supported, &p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_is_explained_and_adds_up() {
        let p = Parameters {
            leaving_rate_without_support: 0.2,
            retention_effect: 0.5,
            replacement_cost: 50_000.0,
            absence_days_avoided_per_person: 2.0,
            cost_per_absence_day: 400.0,
            program_cost: 30_000.0,
        };
        let r = compute("2026-01".into(), "2026-12".into(), 40, &p).unwrap();
        // 40 × 0.2 × 0.5 = 4 kept × 50,000 = 200,000; 40 × 2 × 400 = 32,000; − 30,000.
        assert_eq!(r.net_benefit, 202_000.0);
        assert_eq!(r.lines.len(), 5);
        assert!(
            r.lines
                .iter()
                .all(|l| !l.how.is_empty() && !l.source.is_empty())
        );
        let bad = Parameters {
            retention_effect: 1.5,
            ..p
        };
        assert!(compute("2026-01".into(), "2026-12".into(), 40, &bad).is_err());
    }
}
