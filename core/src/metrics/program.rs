//! Program metrics for a period: requests by origin and urgency, time to acknowledgement and to
//! first contact, escalations and contacts — counted over live requests and the de-identified
//! counts that retention keeps, then suppressed. Nothing here names anyone.

use crate::metrics::suppression::SuppressionK;
use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use super::suppression::{self, Cell, Published};
use crate::access::{Operation, Principal, authorize};
use crate::db::{Db, Id};
use crate::error::CoreError;
use crate::events::check_month;
use crate::programs::{DEFAULT_ACK_MINUTES, DEFAULT_FIRST_CONTACT_HOURS};
use crate::schema::{
    encounters, follow_ups, outreach, request_stats, request_transitions, support_requests,
};
use crate::vocab::{DurationBand, EventCategory, FollowUpState, OutreachState, Profession};
use crate::vocab::{RequestOrigin, RequestState, Urgency};

/// One request as metrics see it: no ids, no people.
#[derive(Debug, Clone)]
struct Row {
    origin: String,
    urgency: String,
    profession: Option<String>,
    category: Option<String>,
    /// Only to count distinct people for "contacts per person"; never leaves this function.
    requester: Option<Uuid>,
    minutes_to_ack: Option<i64>,
    minutes_to_contact: Option<i64>,
    escalated: bool,
    encounters: i64,
    /// `YYYY-MM` the request was made in, and its program: the parts each table is suppressed
    /// in before parts are added up.
    month: String,
    program: Option<Uuid>,
}

type LiveRow = (
    Uuid,
    String,
    String,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    NaiveDateTime,
    Option<Uuid>,
    Option<Uuid>,
    Option<String>,
    Option<String>,
    Option<Uuid>,
);
type KeptRow = (
    String,
    String,
    Option<i32>,
    Option<i32>,
    bool,
    i32,
    Option<String>,
    Option<String>,
    String,
    Option<Uuid>,
);

/// A clock's figures; all suppressed when fewer than k requests were measured.
#[derive(Debug, Clone, Serialize)]
pub struct Timing {
    /// Requests measured.
    pub measured: Cell,
    pub median_minutes: Option<i64>,
    pub p90_minutes: Option<i64>,
    /// Share of measured requests within target, 0 to 1.
    pub within_target: Option<f64>,
    pub target_minutes: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProgramMetrics {
    /// `YYYY-MM`, inclusive.
    pub from: String,
    pub to: String,
    /// The suppression threshold: counts from 1 to k−1 are not shown.
    pub k: SuppressionK,
    /// Requests opened in the period, by origin (rows) and urgency (columns).
    pub requests_by_origin_and_urgency: Published,
    pub time_to_acknowledgement: Timing,
    pub time_to_first_contact: Timing,
    /// Requests escalated to professional help.
    pub escalations: Cell,
    /// By the month requests were made (rows): those supported (at least one contact recorded)
    /// and those escalated to professional help (columns `supported`, `escalated`). The
    /// escalation rate of a month is escalated ÷ supported, where both are shown.
    pub escalations_by_month: Published,
    /// Contacts (encounters) recorded on those requests.
    pub encounters: Cell,
    /// Requests by the requester's profession (one row, a column per profession).
    pub requests_by_profession: Published,
    /// Requests by the category of the event they followed (requests without an event aside).
    pub requests_by_event_category: Published,
    /// Outreach created in the period, by where it stands.
    pub outreach: Published,
    /// Contacts per person supported; shown only when both counts are at least k.
    pub contacts_per_person: Option<f64>,
    /// Follow-ups that came due in the period, and how many of those were completed.
    pub follow_ups_due: Cell,
    pub follow_ups_done: Cell,
    /// Supporters who recorded a contact in the period, and their hours (duration bands' upper
    /// bounds, so an overestimate).
    pub active_supporters: Cell,
    pub supporter_hours: Cell,
    /// Requests per active supporter (their load); shown only when both counts are at least k.
    pub requests_per_supporter: Option<f64>,
    /// Support across institutions, for the whole node (absent in one program's view).
    pub outside: Option<OutsideMetrics>,
}

/// Introductions to and from peers at other institutions made in the period. The steward pools
/// the `outbound` rows into the network's matches (each match is outbound at exactly one node).
#[derive(Debug, Clone, Serialize)]
pub struct OutsideMetrics {
    /// Rows `outbound` (this node's people asked) and `inbound` (this node's supporters were
    /// asked); columns `made`, `accepted` (including those since ended), `declined`, `lapsed`.
    pub outside_introductions: Published,
    /// Accepted outbound introductions by how long the answer took: `under_1_hour`,
    /// `1_to_4_hours`, `4_to_24_hours`, `over_24_hours`.
    pub outside_acceptance_times: Published,
    pub time_to_outside_acceptance: Timing,
    /// Conversations this node's supporters recorded with people from other institutions.
    pub outside_conversations: Cell,
}

/// The outside figures for introductions made from `start` to `end`.
fn outside(
    conn: &mut crate::db::DbConnection,
    start: NaiveDateTime,
    end: NaiveDateTime,
    k: SuppressionK,
) -> Result<OutsideMetrics, CoreError> {
    use crate::schema::federation_introductions as fi;
    use crate::vocab::{IntroductionDirection, IntroductionState};
    type IntroRow = (String, String, NaiveDateTime, Option<NaiveDateTime>, i32);
    let made: Vec<IntroRow> = fi::table
        .filter(fi::created_at.ge(start))
        .filter(fi::created_at.lt(end))
        .select((
            fi::direction,
            fi::state,
            fi::created_at,
            fi::responded_at,
            fi::encounters,
        ))
        .load(conn)?;
    let accepted = |s: &str| {
        s == IntroductionState::Accepted.as_str() || s == IntroductionState::Closed.as_str()
    };
    let directions = [
        IntroductionDirection::Outbound,
        IntroductionDirection::Inbound,
    ];
    let counts: Vec<Vec<u64>> = directions
        .iter()
        .map(|d| {
            let mine: Vec<&IntroRow> = made.iter().filter(|r| r.0 == d.as_str()).collect();
            vec![
                mine.len() as u64,
                mine.iter().filter(|r| accepted(&r.1)).count() as u64,
                mine.iter()
                    .filter(|r| r.1 == IntroductionState::Declined.as_str())
                    .count() as u64,
                mine.iter()
                    .filter(|r| r.1 == IntroductionState::Lapsed.as_str())
                    .count() as u64,
            ]
        })
        .collect();
    let minutes: Vec<i64> = made
        .iter()
        .filter(|r| r.0 == IntroductionDirection::Outbound.as_str() && accepted(&r.1))
        .filter_map(|r| r.3.map(|at| (at - r.2).num_minutes().max(0)))
        .collect();
    let bands: [(&str, i64); 4] = [
        ("under_1_hour", 60),
        ("1_to_4_hours", 4 * 60),
        ("4_to_24_hours", 24 * 60),
        ("over_24_hours", i64::MAX),
    ];
    let mut band_counts = vec![0u64; bands.len()];
    for m in &minutes {
        if let Some(i) = bands.iter().position(|(_, upper)| m < upper) {
            band_counts[i] += 1;
        }
    }
    let conversations: i64 = made
        .iter()
        .filter(|r| r.0 == IntroductionDirection::Inbound.as_str())
        .map(|r| i64::from(r.4))
        .sum();
    Ok(OutsideMetrics {
        outside_introductions: suppression::suppress(
            directions.iter().map(|d| d.as_str().to_owned()).collect(),
            ["made", "accepted", "declined", "lapsed"]
                .map(str::to_owned)
                .to_vec(),
            &counts,
            k,
        ),
        outside_acceptance_times: suppression::suppress(
            vec!["outbound".into()],
            bands.iter().map(|(b, _)| (*b).to_owned()).collect(),
            &[band_counts],
            k,
        ),
        time_to_outside_acceptance: timing(minutes, crate::requests::outside::LAPSE_HOURS * 60, k),
        outside_conversations: suppression::single(conversations.max(0) as u64, k),
    })
}

fn month_bounds(from: &str, to: &str) -> Result<(NaiveDateTime, NaiveDateTime), CoreError> {
    let from = check_month("from", from)?;
    let to = check_month("to", to)?;
    let start = NaiveDate::parse_from_str(&format!("{from}-01"), "%Y-%m-%d")
        .map_err(CoreError::internal)?;
    let last =
        NaiveDate::parse_from_str(&format!("{to}-01"), "%Y-%m-%d").map_err(CoreError::internal)?;
    let end = if last.month() == 12 {
        NaiveDate::from_ymd_opt(last.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(last.year(), last.month() + 1, 1)
    }
    .ok_or_else(|| CoreError::internal("month arithmetic"))?;
    if end <= start {
        return Err(CoreError::bad_input("to", "must not be before from"));
    }
    Ok((
        start.and_hms_opt(0, 0, 0).unwrap_or_default(),
        end.and_hms_opt(0, 0, 0).unwrap_or_default(),
    ))
}

/// Each month from `start` to `end` (exclusive), as its first instant and the next month's.
fn months_of(start: NaiveDateTime, end: NaiveDateTime) -> Vec<(NaiveDateTime, NaiveDateTime)> {
    let mut out = Vec::new();
    let mut at = start;
    while at < end {
        let Some(next) = at.checked_add_months(chrono::Months::new(1)) else {
            break;
        };
        out.push((at, next.min(end)));
        at = next;
    }
    out
}

fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted.get(rank - 1).copied()
}

fn timing(mut values: Vec<i64>, target: i64, k: SuppressionK) -> Timing {
    values.sort_unstable();
    let n = values.len() as u64;
    let measured = suppression::single(n, k);
    if measured.value().is_none() || n == 0 {
        return Timing {
            measured,
            median_minutes: None,
            p90_minutes: None,
            within_target: None,
            target_minutes: target,
        };
    }
    let within = values.iter().filter(|v| **v <= target).count() as f64 / n as f64;
    Timing {
        measured,
        median_minutes: percentile(&values, 0.5),
        p90_minutes: percentile(&values, 0.9),
        within_target: Some((within * 1000.0).round() / 1000.0),
        target_minutes: target,
    }
}

/// Metrics for the months `from` to `to`. Coordinators, admins, analysts, and partner clients
/// with `metrics:read`. Requests for an outside peer only are counted like any other: counts are
/// exactly what those requesters allowed coordinators to see.
pub async fn for_period(
    db: &Db,
    who: &Principal,
    from: String,
    to: String,
    k: SuppressionK,
) -> Result<ProgramMetrics, CoreError> {
    for_program(db, who, from, to, None, k).await
}

/// Like [`for_period`], for the requests of one program only (`None`: every program).
pub async fn for_program(
    db: &Db,
    who: &Principal,
    from: String,
    to: String,
    program: Option<uuid::Uuid>,
    k: SuppressionK,
) -> Result<ProgramMetrics, CoreError> {
    authorize(who, Operation::ViewAggregates)?;
    let (start, end) = month_bounds(&from, &to)?;
    let (from_month, to_month) = (from.trim().to_owned(), to.trim().to_owned());
    let rows = db
        .run(move |conn| {
            let minutes =
                |a: Option<NaiveDateTime>, b: NaiveDateTime| a.map(|a| (a - b).num_minutes());
            let mut live_q = support_requests::table.into_boxed();
            if let Some(p) = program {
                live_q = live_q.filter(support_requests::program_id.eq(Id(p)));
            }
            let live: Vec<LiveRow> = live_q
                .filter(support_requests::created_at.ge(start))
                .filter(support_requests::created_at.lt(end))
                .select((
                    support_requests::id,
                    support_requests::origin,
                    support_requests::urgency,
                    support_requests::acknowledged_at,
                    support_requests::first_contact_at,
                    support_requests::created_at,
                    support_requests::escalated_to,
                    support_requests::requester_id,
                    support_requests::requester_profession,
                    support_requests::event_category,
                    support_requests::program_id,
                ))
                .load(conn)?;
            // Which of them were escalated and how many contacts each had: two grouped reads
            // over the period's requests, not two per request.
            let in_period = || {
                support_requests::table
                    .filter(support_requests::created_at.ge(start))
                    .filter(support_requests::created_at.lt(end))
                    .select(support_requests::id)
            };
            let escalated_ids: std::collections::HashSet<Uuid> = request_transitions::table
                .filter(request_transitions::to_state.eq(RequestState::Escalated))
                .filter(request_transitions::request_id.eq_any(in_period()))
                .select(request_transitions::request_id)
                .distinct()
                .load::<Uuid>(conn)?
                .into_iter()
                .collect();
            let contacts_of: std::collections::HashMap<Uuid, i64> = encounters::table
                .filter(encounters::request_id.eq_any(in_period()))
                .group_by(encounters::request_id)
                .select((encounters::request_id, diesel::dsl::count_star()))
                .load::<(Uuid, i64)>(conn)?
                .into_iter()
                .collect();
            let mut rows = Vec::with_capacity(live.len());
            // Profession and event category as they were when the request was made: counting by
            // today's profile would let whoever changes one learn, by comparing before and
            // after, how many requests that person made.
            for (
                id,
                origin,
                urgency,
                ack,
                contact,
                created,
                escalated_to,
                requester,
                profession,
                category,
                program,
            ) in live
            {
                let escalated = escalated_to.is_some() || escalated_ids.contains(&id);
                let contacts = contacts_of.get(&id).copied().unwrap_or(0);
                rows.push(Row {
                    origin,
                    urgency,
                    profession,
                    category,
                    requester,
                    minutes_to_ack: minutes(ack, created),
                    minutes_to_contact: minutes(contact, created),
                    escalated,
                    encounters: contacts,
                    month: created.format("%Y-%m").to_string(),
                    program,
                });
            }
            let mut kept_q = request_stats::table.into_boxed();
            if let Some(p) = program {
                kept_q = kept_q.filter(request_stats::program_id.eq(Id(p)));
            }
            let kept: Vec<KeptRow> = kept_q
                .filter(request_stats::opened_month.ge(&from_month))
                .filter(request_stats::opened_month.le(&to_month))
                .select((
                    request_stats::origin,
                    request_stats::urgency,
                    request_stats::minutes_to_ack,
                    request_stats::minutes_to_first_contact,
                    request_stats::escalated,
                    request_stats::encounters,
                    request_stats::requester_profession,
                    request_stats::event_category,
                    request_stats::opened_month,
                    request_stats::program_id,
                ))
                .load(conn)?;
            rows.extend(kept.into_iter().map(
                |(
                    origin,
                    urgency,
                    ack,
                    contact,
                    escalated,
                    n,
                    profession,
                    category,
                    month,
                    program,
                )| Row {
                    origin,
                    urgency,
                    profession,
                    category,
                    requester: None,
                    minutes_to_ack: ack.map(i64::from),
                    minutes_to_contact: contact.map(i64::from),
                    escalated,
                    encounters: i64::from(n),
                    month,
                    program,
                },
            ));
            Ok(rows)
        })
        .await?;

    let months = months_of(start, end);
    let (outreach_states, follow_ups, worked, outside) = {
        let months = months.clone();
        db.run(move |conn| {
            let states: Vec<(String, NaiveDateTime)> = outreach::table
                .filter(outreach::created_at.ge(start))
                .filter(outreach::created_at.lt(end))
                .select((outreach::state, outreach::created_at))
                .load(conn)?;
            let due: Vec<(String, NaiveDateTime)> = follow_ups::table
                .filter(follow_ups::due_at.ge(start))
                .filter(follow_ups::due_at.lt(end))
                .select((follow_ups::state, follow_ups::due_at))
                .load(conn)?;
            let worked: Vec<(Option<Uuid>, String, NaiveDate)> = encounters::table
                .filter(encounters::occurred_on.ge(start.date()))
                .filter(encounters::occurred_on.lt(end.date()))
                .select((
                    encounters::supporter_id,
                    encounters::duration_band,
                    encounters::occurred_on,
                ))
                .load(conn)?;
            // The whole node only: each month's figures, and the range's for its timing.
            let outside = match program {
                None => {
                    let mut each = Vec::with_capacity(months.len());
                    for (from, until) in &months {
                        each.push(outside(conn, *from, *until, k)?);
                    }
                    Some((each, outside(conn, start, end, k)?))
                }
                Some(_) => None,
            };
            Ok((states, due, worked, outside))
        })
        .await?
    };
    let month_key = |t: NaiveDateTime| t.format("%Y-%m").to_string();
    let month_keys: Vec<String> = months.iter().map(|(m, _)| month_key(*m)).collect();
    // Every table is suppressed in each part — one month of one program — and the parts are
    // added up; every figure shown is then a sum of figures already shown, so no range, program
    // filter or change between queries can be subtracted from another to recover one.
    let mut programs: Vec<Option<Uuid>> = rows.iter().map(|r| r.program).collect();
    programs.sort();
    programs.dedup();
    if programs.is_empty() {
        programs.push(None);
    }
    let mut parts: Vec<Vec<&Row>> = Vec::with_capacity(month_keys.len() * programs.len());
    for m in &month_keys {
        for p in &programs {
            parts.push(
                rows.iter()
                    .filter(|r| &r.month == m && &r.program == p)
                    .collect(),
            );
        }
    }
    let in_parts = |table: &dyn Fn(&[&Row]) -> Published| {
        suppression::add_tables(&parts.iter().map(|p| table(p)).collect::<Vec<_>>())
            .unwrap_or_else(|| table(&[]))
    };
    let count_in_parts = |count: &dyn Fn(&[&Row]) -> u64| {
        suppression::add(parts.iter().map(|p| suppression::single(count(p), k)))
    };
    let by_month = |count: &dyn Fn(&str) -> u64| {
        suppression::add(month_keys.iter().map(|m| suppression::single(count(m), k)))
    };
    let one_row = |columns: Vec<String>, counts: Vec<u64>| {
        suppression::suppress(vec!["requests".into()], columns, &[counts], k)
    };
    let professions: Vec<String> = Profession::ALL
        .iter()
        .map(|p| p.as_str().to_owned())
        .collect();
    let by_profession = in_parts(&|part: &[&Row]| {
        one_row(
            professions.clone(),
            professions
                .iter()
                .map(|p| {
                    part.iter()
                        .filter(|r| r.profession.as_deref() == Some(p))
                        .count() as u64
                })
                .collect(),
        )
    });
    let categories: Vec<String> = EventCategory::ALL
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    let by_category = in_parts(&|part: &[&Row]| {
        one_row(
            categories.clone(),
            categories
                .iter()
                .map(|c| {
                    part.iter()
                        .filter(|r| r.category.as_deref() == Some(c))
                        .count() as u64
                })
                .collect(),
        )
    });
    let states: Vec<String> = OutreachState::ALL
        .iter()
        .map(|s| s.as_str().to_owned())
        .collect();
    let outreach_table = suppression::add_tables(
        &month_keys
            .iter()
            .map(|m| {
                suppression::suppress(
                    vec!["outreach".into()],
                    states.clone(),
                    &[states
                        .iter()
                        .map(|st| {
                            outreach_states
                                .iter()
                                .filter(|(x, at)| x == st && &month_key(*at) == m)
                                .count() as u64
                        })
                        .collect()],
                    k,
                )
            })
            .collect::<Vec<_>>(),
    )
    .unwrap_or_else(|| suppression::suppress(vec!["outreach".into()], states.clone(), &[], k));
    let contacts: u64 = rows.iter().map(|r| r.encounters.max(0) as u64).sum();
    let people_supported = {
        let mut ids: Vec<&Uuid> = rows
            .iter()
            .filter(|r| r.encounters > 0)
            .filter_map(|r| r.requester.as_ref())
            .collect();
        ids.sort();
        ids.dedup();
        // Retained (de-identified) rows have no person: count each as one person.
        ids.len() as u64
            + rows
                .iter()
                .filter(|r| r.encounters > 0 && r.requester.is_none())
                .count() as u64
    };
    // Ratios and timings are not sums, so they are taken over the whole range and shown only
    // when every count behind them is at least k.
    let contacts_per_person = (contacts >= k.get() && people_supported >= k.get())
        .then(|| ((contacts as f64 / people_supported as f64) * 100.0).round() / 100.0);
    let mut supporters: Vec<&Uuid> = worked.iter().filter_map(|(s, _, _)| s.as_ref()).collect();
    supporters.sort();
    supporters.dedup();
    let hours_in = |m: &str| {
        let minutes: i64 = worked
            .iter()
            .filter(|(_, _, on)| on.format("%Y-%m").to_string() == m)
            .filter_map(|(_, b, _)| b.parse::<DurationBand>().ok())
            .map(DurationBand::minutes)
            .sum();
        (minutes.max(0) as u64).div_ceil(60)
    };
    let follow_ups_in = |m: &str, done: bool| {
        follow_ups
            .iter()
            .filter(|(_, at)| month_key(*at) == m)
            .filter(|(st, _)| !done || st == FollowUpState::Completed.as_str())
            .count() as u64
    };

    let origins = [
        RequestOrigin::SelfReferral,
        RequestOrigin::Outreach,
        RequestOrigin::Referral,
    ];
    let urgencies = [Urgency::Routine, Urgency::Urgent, Urgency::Crisis];
    let table = in_parts(&|part: &[&Row]| {
        let counts: Vec<Vec<u64>> = origins
            .iter()
            .map(|o| {
                urgencies
                    .iter()
                    .map(|u| {
                        part.iter()
                            .filter(|r| r.origin == o.as_str() && r.urgency == u.as_str())
                            .count() as u64
                    })
                    .collect()
            })
            .collect();
        suppression::suppress(
            origins.iter().map(|o| o.as_str().to_owned()).collect(),
            urgencies.iter().map(|u| u.as_str().to_owned()).collect(),
            &counts,
            k,
        )
    });
    let outside = outside.map(|(each, whole)| OutsideMetrics {
        outside_introductions: suppression::add_tables(
            &each
                .iter()
                .map(|o| o.outside_introductions.clone())
                .collect::<Vec<_>>(),
        )
        .unwrap_or_else(|| whole.outside_introductions.clone()),
        outside_acceptance_times: suppression::add_tables(
            &each
                .iter()
                .map(|o| o.outside_acceptance_times.clone())
                .collect::<Vec<_>>(),
        )
        .unwrap_or_else(|| whole.outside_acceptance_times.clone()),
        outside_conversations: suppression::add(each.iter().map(|o| o.outside_conversations)),
        time_to_outside_acceptance: whole.time_to_outside_acceptance,
    });
    Ok(ProgramMetrics {
        from,
        to,
        k,
        requests_by_origin_and_urgency: table,
        time_to_acknowledgement: timing(
            rows.iter().filter_map(|r| r.minutes_to_ack).collect(),
            i64::from(DEFAULT_ACK_MINUTES),
            k,
        ),
        time_to_first_contact: timing(
            rows.iter().filter_map(|r| r.minutes_to_contact).collect(),
            i64::from(DEFAULT_FIRST_CONTACT_HOURS) * 60,
            k,
        ),
        escalations: count_in_parts(&|part: &[&Row]| {
            part.iter().filter(|r| r.escalated).count() as u64
        }),
        escalations_by_month: in_parts(&|part: &[&Row]| {
            let counts: Vec<Vec<u64>> = month_keys
                .iter()
                .map(|m| {
                    let mine = part.iter().filter(|r| &r.month == m);
                    vec![
                        mine.clone().filter(|r| r.encounters > 0).count() as u64,
                        mine.filter(|r| r.escalated).count() as u64,
                    ]
                })
                .collect();
            suppression::suppress(
                month_keys.clone(),
                vec!["supported".into(), "escalated".into()],
                &counts,
                k,
            )
        }),
        encounters: count_in_parts(&|part: &[&Row]| {
            part.iter().map(|r| r.encounters.max(0) as u64).sum()
        }),
        requests_by_profession: by_profession,
        requests_by_event_category: by_category,
        outreach: outreach_table,
        contacts_per_person,
        follow_ups_due: by_month(&|m: &str| follow_ups_in(m, false)),
        follow_ups_done: by_month(&|m: &str| follow_ups_in(m, true)),
        active_supporters: suppression::single(supporters.len() as u64, k),
        supporter_hours: by_month(&hours_in),
        requests_per_supporter: {
            let (requests, active) = (rows.len() as u64, supporters.len() as u64);
            (requests >= k.get() && active >= k.get())
                .then(|| ((requests as f64 / active as f64) * 100.0).round() / 100.0)
        },
        outside,
    })
}

/// Everything the metrics export carries: the program's figures and its survey results.
#[derive(Debug, Clone, Serialize)]
pub struct Export {
    #[serde(flatten)]
    pub metrics: ProgramMetrics,
    /// Anonymous survey answers in the period, per question, suppressed. Not per program: survey
    /// answers are deliberately not linked to any request.
    pub survey: Vec<crate::surveys::QuestionResult>,
}

pub async fn export(
    db: &Db,
    who: &Principal,
    from: String,
    to: String,
    program: Option<uuid::Uuid>,
    k: SuppressionK,
    questions: Vec<crate::surveys::Question>,
) -> Result<Export, CoreError> {
    let metrics = for_program(db, who, from.clone(), to.clone(), program, k).await?;
    let survey = crate::surveys::results(db, who, questions, from, to, k).await?;
    Ok(Export { metrics, survey })
}

/// Every table of the export as CSV, one section per table, separated by a blank line.
pub fn export_csv(e: &Export) -> String {
    let m = &e.metrics;
    let mut sections = vec![
        (
            "requests by origin and urgency",
            &m.requests_by_origin_and_urgency,
        ),
        ("requests by profession", &m.requests_by_profession),
        ("requests by event category", &m.requests_by_event_category),
        ("outreach by state", &m.outreach),
    ];
    for q in &e.survey {
        sections.push((q.id.as_str(), &q.answers));
    }
    sections
        .iter()
        .map(|(name, table)| format!("# {name}\n{}", suppression::to_csv(table)))
        .collect::<Vec<_>>()
        .join("\n")
}
