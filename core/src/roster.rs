//! The program's roster for coordinators: every peer supporter with their training, caseload
//! and hours this month against their caps, and adding or updating one by staff id or email.

use std::collections::HashMap;

use chrono::NaiveDate;
use uuid::Uuid;

use crate::access::{Operation, Principal, authorize};
use crate::db::Db;
use crate::error::CoreError;
use crate::people;
use crate::requests::workload;
use crate::supporters::{self, PeerSupporter, SupporterInput};
use crate::vocab::Profession;

/// Training that ends within this many days is shown as expiring, so it can be renewed in time.
pub const EXPIRING_WITHIN_DAYS: i64 = 30;

/// The most supporters one roster lists.
pub const MAX_ROSTER: i64 = 2_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Training {
    Current,
    /// Current, but ends within [`EXPIRING_WITHIN_DAYS`].
    Expiring,
    Expired,
    Untrained,
}

impl Training {
    pub fn of(s: &PeerSupporter, today: NaiveDate) -> Training {
        match (s.trained_on, s.training_expires_on) {
            (None, _) => Training::Untrained,
            (Some(_), Some(end)) if end < today => Training::Expired,
            (Some(_), Some(end)) if (end - today).num_days() <= EXPIRING_WITHIN_DAYS => {
                Training::Expiring
            }
            (Some(_), _) => Training::Current,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Training::Current => "current",
            Training::Expiring => "expiring",
            Training::Expired => "expired",
            Training::Untrained => "untrained",
        }
    }
}

#[derive(Debug, Clone)]
pub struct RosterEntry {
    pub supporter: PeerSupporter,
    pub name: String,
    pub staff_id: Option<String>,
    pub email: Option<String>,
    pub profession: Profession,
    pub training: Training,
    /// Requests offered to or held by them now.
    pub caseload: i64,
    /// Minutes of conversations recorded this month.
    pub minutes_this_month: i64,
}

/// The roster on `today`, by name.
pub async fn roster(
    db: &Db,
    who: &Principal,
    today: NaiveDate,
) -> Result<Vec<RosterEntry>, CoreError> {
    authorize(who, Operation::ListSupporters)?;
    db.run(move |conn| {
        let all = supporters::load_all(conn, MAX_ROSTER)?;
        let ids: Vec<Uuid> = all.iter().map(|s| s.person_id).collect();
        let by_id: HashMap<Uuid, people::Person> = people::load_many(conn, &ids)?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let caseload = workload::cases(conn)?;
        let minutes = workload::in_month(conn, workload::month_of(today))?;
        let mut out: Vec<RosterEntry> = all
            .into_iter()
            .filter_map(|s| {
                let p = by_id.get(&s.person_id)?;
                let key = s.id;
                Some(RosterEntry {
                    name: p.display_name.clone(),
                    staff_id: p.staff_id.clone(),
                    email: p.email.clone(),
                    profession: p.profession,
                    training: Training::of(&s, today),
                    caseload: caseload.get(&key).copied().unwrap_or(0),
                    minutes_this_month: minutes.get(&key).copied().unwrap_or(0),
                    supporter: s,
                })
            })
            .collect();
        out.sort_by_key(|a| a.name.to_lowercase());
        Ok(out)
    })
    .await
}

/// What a coordinator sets on a supporter; the rest (availability, time zone, consent) is the
/// supporter's own and kept as it is.
#[derive(Debug, Clone)]
pub struct Enrolment {
    /// A staff id or a work email.
    pub person: String,
    pub trained_on: Option<NaiveDate>,
    pub training_expires_on: Option<NaiveDate>,
    pub caseload_cap: i32,
    pub monthly_hours_cap: i32,
    pub active: bool,
}

/// Adds a person to the roster, or updates their training, caps and pause.
pub async fn enrol(db: &Db, who: &Principal, e: Enrolment) -> Result<PeerSupporter, CoreError> {
    authorize(who, Operation::ManageSupporters)?;
    let key = e.person.trim().to_owned();
    if key.is_empty() {
        return Err(CoreError::bad_input(
            "person",
            "give a staff id or a work email",
        ));
    }
    let found = db
        .run(move |conn| {
            let Some(person) = people::find_by_key(conn, &key)? else {
                return Ok(None);
            };
            let person_id = person.id;
            let current = supporters::load_for_person(conn, person_id)?;
            Ok(Some((person_id, current)))
        })
        .await?;
    let (person_id, current) = found.ok_or_else(|| {
        CoreError::bad_input(
            "person",
            "no person with this staff id or email is known to the node",
        )
    })?;
    let input = match current {
        Some(cur) => SupporterInput {
            person_id,
            trained_on: e.trained_on,
            training_expires_on: e.training_expires_on,
            lived_experience: cur.lived_experience,
            time_zone: cur.time_zone,
            availability: cur.availability,
            caseload_cap: e.caseload_cap,
            outside_matching_opt_in: cur.outside_matching_opt_in,
            active: e.active,
            monthly_hours_cap: e.monthly_hours_cap,
        },
        // New: no hours until they set their own, no sharing with other hospitals until they
        // opt in themselves.
        None => SupporterInput {
            person_id,
            trained_on: e.trained_on,
            training_expires_on: e.training_expires_on,
            lived_experience: false,
            time_zone: "UTC".into(),
            availability: vec![],
            caseload_cap: e.caseload_cap,
            outside_matching_opt_in: false,
            active: e.active,
            monthly_hours_cap: e.monthly_hours_cap,
        },
    };
    supporters::upsert(db, who, input).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(trained: Option<&str>, expires: Option<&str>) -> PeerSupporter {
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        PeerSupporter {
            id: Uuid::nil(),
            person_id: Uuid::nil(),
            trained_on: trained.map(d),
            training_expires_on: expires.map(d),
            lived_experience: false,
            time_zone: "UTC".into(),
            availability: vec![],
            caseload_cap: 3,
            outside_matching_opt_in: false,
            active: true,
            created_at: chrono::NaiveDateTime::default(),
            updated_at: chrono::NaiveDateTime::default(),
            monthly_hours_cap: 10,
            last_assigned_at: None,
        }
    }

    #[test]
    fn training_is_current_expiring_expired_or_missing() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let t = |a, b| Training::of(&with(a, b), today);
        assert_eq!(t(None, None), Training::Untrained);
        assert_eq!(t(Some("2025-01-01"), None), Training::Current);
        assert_eq!(t(Some("2025-01-01"), Some("2027-01-01")), Training::Current);
        assert_eq!(
            t(Some("2025-01-01"), Some("2026-12-31")),
            Training::Expiring
        );
        assert_eq!(
            t(Some("2025-01-01"), Some("2026-12-01")),
            Training::Expiring
        );
        assert_eq!(t(Some("2025-01-01"), Some("2026-11-30")), Training::Expired);
    }
}
