//! Local matching: hard filters, then a score with reasons a coordinator can read, fair
//! rotation among equals and a deterministic tie-break. Pure: no database, no clock of its own,
//! so it is property-tested and benchmarked as it runs.

use std::collections::HashSet;

use chrono::{Datelike, NaiveDateTime, TimeZone, Timelike};
use chrono_tz::Tz;
use uuid::Uuid;

use crate::supporters::AvailabilityWindow;
use crate::vocab::{ExperienceBand, Profession, SpecialtyPreference, Urgency};

/// A peer supporter as matching sees them.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub supporter_id: Uuid,
    pub person_id: Uuid,
    pub profession: Profession,
    pub specialty: Option<String>,
    pub department: Option<String>,
    pub experience: ExperienceBand,
    pub languages: Vec<String>,
    pub lived_experience: bool,
    pub training_current: bool,
    pub active: bool,
    pub time_zone: Tz,
    pub availability: Vec<AvailabilityWindow>,
    /// Requests offered to or held by the supporter now.
    pub open_cases: u32,
    pub caseload_cap: u32,
    /// Encounter minutes this calendar month, against the monthly hours cap.
    pub minutes_this_month: i64,
    pub monthly_hours_cap: i64,
    pub last_assigned_at: Option<NaiveDateTime>,
    /// Involved in the same event as the request: never a match.
    pub involved_in_event: bool,
}

/// What the request asks for, de-identified.
#[derive(Debug, Clone)]
pub struct Criteria {
    pub requester_person_id: Option<Uuid>,
    pub requester_profession: Option<Profession>,
    pub requester_specialty: Option<String>,
    pub requester_department: Option<String>,
    pub requester_experience: ExperienceBand,
    pub urgency: Urgency,
    pub peer_profession: Option<Profession>,
    pub specialty_preference: SpecialtyPreference,
    pub language: Option<String>,
    pub language_required: bool,
    /// "Not my department".
    pub exclude_department: bool,
    /// Supporters who declined or let an offer lapse.
    pub excluded: HashSet<Uuid>,
}

/// The hard rules of a request that other requests can share: its urgency (how soon a supporter
/// must be free), the department it keeps away from and the language it requires. Two requests
/// with the same shared rules and nothing of their own (no declines, no one involved in their
/// event, a requester who is no candidate) exclude exactly the same candidates, so when one finds
/// nobody the other finds nobody too: the re-matching sweep asks once per kind of request instead
/// of once per request when nobody is eligible.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SharedRules {
    urgency: Urgency,
    department: Option<String>,
    language: Option<String>,
}

impl Criteria {
    pub fn shared_rules(&self) -> SharedRules {
        SharedRules {
            urgency: self.urgency,
            department: self
                .requester_department
                .as_deref()
                .filter(|_| self.exclude_department)
                .map(str::to_lowercase),
            language: self
                .language
                .as_deref()
                .filter(|_| self.language_required)
                .map(|l| primary_language(l).to_ascii_lowercase()),
        }
    }
}

/// A ranked match and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ranked {
    pub supporter_id: Uuid,
    pub person_id: Uuid,
    pub score: i32,
    pub reasons: Vec<String>,
}

/// How soon a supporter must be available for each urgency.
pub fn urgency_window_minutes(urgency: Urgency) -> i64 {
    match urgency {
        Urgency::Crisis => 60,
        Urgency::Urgent => 8 * 60,
        Urgency::Routine => 72 * 60,
    }
}

const WEEK_MINUTES: i64 = 7 * 24 * 60;

/// Whether any weekly window (in the supporter's zone) overlaps the next `within` minutes.
/// Works in minutes of the local week, so one zone conversion per supporter; across a DST change
/// a window may be off by the hour changed.
pub fn available_within(
    windows: &[AvailabilityWindow],
    zone: Tz,
    now: NaiveDateTime,
    within: i64,
) -> bool {
    if windows.is_empty() {
        return false;
    }
    let local = zone.from_utc_datetime(&now);
    let start = i64::from(local.weekday().num_days_from_monday()) * 1440
        + i64::from(local.hour()) * 60
        + i64::from(local.minute());
    let end = start + within;
    windows.iter().any(|w| {
        let day = i64::from(w.weekday_index()) * 1440;
        let ws = day + minutes_of(w.start);
        let mut we = day + minutes_of(w.end);
        if we <= ws {
            we += 1440; // runs past midnight
        }
        // Compare against this week's, last week's and next week's copy of the window.
        [-WEEK_MINUTES, 0, WEEK_MINUTES]
            .iter()
            .any(|shift| ws + shift < end && we + shift > start)
    })
}

/// When the supporter is next available (now, if inside a window), or never. Same local-week
/// arithmetic as [`available_within`], to the minute.
pub fn next_available(
    windows: &[AvailabilityWindow],
    zone: Tz,
    now: NaiveDateTime,
) -> Option<NaiveDateTime> {
    let local = zone.from_utc_datetime(&now);
    let start = i64::from(local.weekday().num_days_from_monday()) * 1440
        + i64::from(local.hour()) * 60
        + i64::from(local.minute());
    windows
        .iter()
        .flat_map(|w| {
            let day = i64::from(w.weekday_index()) * 1440;
            let ws = day + minutes_of(w.start);
            let mut we = day + minutes_of(w.end);
            if we <= ws {
                we += 1440;
            }
            [-WEEK_MINUTES, 0, WEEK_MINUTES]
                .into_iter()
                .filter_map(move |shift| {
                    let (ws, we) = (ws + shift, we + shift);
                    if we <= start {
                        None
                    } else {
                        Some((ws - start).max(0))
                    }
                })
        })
        .min()
        .map(|wait| now + chrono::Duration::minutes(wait))
}

fn minutes_of(t: chrono::NaiveTime) -> i64 {
    i64::from(t.hour()) * 60 + i64::from(t.minute())
}

/// Whether a supporter could take some request now, whatever it asks: the rules that do not
/// depend on the request (paused, training, caseload, hours), and free within `within` minutes.
pub fn could_take_any(s: &Candidate, now: NaiveDateTime, within: i64) -> bool {
    s.active
        && s.training_current
        && s.open_cases < s.caseload_cap
        && s.minutes_this_month < s.monthly_hours_cap * 60
        && available_within(&s.availability, s.time_zone, now, within)
}

/// Why a candidate was left out, for explanations and tests.
pub fn exclusion(c: &Criteria, s: &Candidate, now: NaiveDateTime) -> Option<&'static str> {
    if c.requester_person_id == Some(s.person_id) {
        return Some("is the requester");
    }
    if s.involved_in_event {
        return Some("was involved in the same event");
    }
    if c.excluded.contains(&s.supporter_id) {
        return Some("already declined this request");
    }
    if !s.active {
        return Some("is paused");
    }
    if !s.training_current {
        return Some("training missing or expired");
    }
    if s.open_cases >= s.caseload_cap {
        return Some("caseload is full");
    }
    if s.minutes_this_month >= s.monthly_hours_cap * 60 {
        return Some("monthly hours are used up");
    }
    if c.exclude_department
        && c.requester_department.is_some()
        && same_department(s.department.as_deref(), c.requester_department.as_deref())
    {
        return Some("works in the requester's department");
    }
    if c.language_required
        && let Some(lang) = &c.language
        && !s.languages.iter().any(|l| same_language(l, lang))
    {
        return Some("does not speak the required language");
    }
    if !available_within(
        &s.availability,
        s.time_zone,
        now,
        urgency_window_minutes(c.urgency),
    ) {
        return Some("not available in time");
    }
    None
}

/// Same primary language subtag (`en-US` speaks `en`), without allocating: the re-matching
/// sweep asks this for every waiting request against every free supporter.
pub(crate) fn same_language(a: &str, b: &str) -> bool {
    primary_language(a).eq_ignore_ascii_case(primary_language(b))
}

/// Departments compared as text, case folded beyond ASCII (this rule keeps a requester away
/// from their own colleagues), without allocating.
fn same_department(a: Option<&str>, b: Option<&str>) -> bool {
    matches!((a, b), (Some(x), Some(y))
        if x.chars().flat_map(char::to_lowercase).eq(y.chars().flat_map(char::to_lowercase)))
}

pub(crate) fn primary_language(s: &str) -> &str {
    s.split('-').next().unwrap_or(s)
}

fn same_text(a: &Option<String>, b: &Option<String>) -> bool {
    matches!((a, b), (Some(x), Some(y)) if x.eq_ignore_ascii_case(y))
}

/// Scores one candidate that passed the filters.
pub fn score(c: &Criteria, s: &Candidate) -> (i32, Vec<String>) {
    let mut score = 0;
    let mut reasons = Vec::new();
    let mut add = |points: i32, reason: Option<String>| {
        score += points;
        reasons.extend(reason);
    };
    match c.peer_profession {
        Some(p) if p == s.profession => add(50, Some(format!("requested profession ({p})"))),
        Some(_) => {}
        None if c.requester_profession == Some(s.profession) => {
            add(40, Some("same profession".into()))
        }
        None => {}
    }
    let same_specialty = same_text(&c.requester_specialty, &s.specialty);
    match c.specialty_preference {
        SpecialtyPreference::Same if same_specialty => add(20, Some("same specialty".into())),
        SpecialtyPreference::Other if !same_specialty => {
            add(20, Some("different specialty, as asked".into()))
        }
        SpecialtyPreference::Any if same_specialty => add(10, Some("same specialty".into())),
        _ => {}
    }
    match (c.requester_experience.rank(), s.experience.rank()) {
        (Some(r), Some(p)) if p > r => add(10, Some("more experience".into())),
        (Some(r), Some(p)) if p == r => add(5, Some("similar experience".into())),
        _ => {}
    }
    if let Some(free) =
        (s.caseload_cap.saturating_sub(s.open_cases) * 10).checked_div(s.caseload_cap)
    {
        let free = free as i32;
        if free >= 5 {
            add(free, Some("lower caseload".into()));
        } else {
            add(free, None);
        }
    }
    if s.lived_experience {
        add(5, Some("lived experience".into()));
    }
    if !c.language_required
        && let Some(lang) = &c.language
        && s.languages.iter().any(|l| same_language(l, lang))
    {
        add(10, Some(format!("speaks {lang}")));
    }
    (score, reasons)
}

/// The first of [`rank`] without ranking the rest: what an automatic offer needs.
pub fn best(criteria: &Criteria, candidates: &[Candidate], now: NaiveDateTime) -> Option<Ranked> {
    let mut best: Option<(i32, Option<NaiveDateTime>, Uuid, &Candidate)> = None;
    for s in candidates {
        if exclusion(criteria, s, now).is_some() {
            continue;
        }
        let (points, _) = score(criteria, s);
        let key = (points, s.last_assigned_at, s.supporter_id, s);
        let better = match &best {
            None => true,
            Some(b) => {
                points
                    .cmp(&b.0)
                    .reverse()
                    .then(key.1.cmp(&b.1))
                    .then(key.2.cmp(&b.2))
                    == std::cmp::Ordering::Less
            }
        };
        if better {
            best = Some(key);
        }
    }
    best.map(|(_, _, _, s)| {
        let (score, reasons) = score(criteria, s);
        Ranked {
            supporter_id: s.supporter_id,
            person_id: s.person_id,
            score,
            reasons,
        }
    })
}

/// Ranks every eligible candidate: best score first; among equals whoever was assigned least
/// recently (never first); then by supporter id, so the same input always gives the same order.
pub fn rank(criteria: &Criteria, candidates: &[Candidate], now: NaiveDateTime) -> Vec<Ranked> {
    let mut ranked: Vec<(i32, Option<NaiveDateTime>, Uuid, Ranked)> = candidates
        .iter()
        .filter(|s| exclusion(criteria, s, now).is_none())
        .map(|s| {
            let (score, reasons) = score(criteria, s);
            let r = Ranked {
                supporter_id: s.supporter_id,
                person_id: s.person_id,
                score,
                reasons,
            };
            (score, s.last_assigned_at, s.supporter_id, r)
        })
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    ranked.into_iter().map(|(_, _, _, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::Weekday;
    use chrono::{NaiveDate, NaiveTime};
    use proptest::prelude::*;

    fn now() -> NaiveDateTime {
        // A Wednesday, 15:00 UTC.
        NaiveDate::from_ymd_opt(2026, 11, 25)
            .unwrap()
            .and_hms_opt(15, 0, 0)
            .unwrap()
    }

    fn always() -> Vec<AvailabilityWindow> {
        Weekday::ALL
            .iter()
            .map(|d| AvailabilityWindow {
                weekday: *d,
                start: NaiveTime::from_hms_opt(0, 0, 0).unwrap(),
                end: NaiveTime::from_hms_opt(23, 59, 0).unwrap(),
            })
            .collect()
    }

    fn candidate(n: u128) -> Candidate {
        Candidate {
            supporter_id: Uuid::from_u128(n),
            person_id: Uuid::from_u128(1000 + n),
            profession: Profession::Nurse,
            specialty: Some("ICU".into()),
            department: Some("ICU".into()),
            experience: ExperienceBand::FiveToFifteen,
            languages: vec!["en".into()],
            lived_experience: false,
            training_current: true,
            active: true,
            time_zone: Tz::UTC,
            availability: always(),
            open_cases: 0,
            caseload_cap: 3,
            minutes_this_month: 0,
            monthly_hours_cap: 10,
            last_assigned_at: None,
            involved_in_event: false,
        }
    }

    fn criteria() -> Criteria {
        Criteria {
            requester_person_id: Some(Uuid::from_u128(99_999)),
            requester_profession: Some(Profession::Nurse),
            requester_specialty: Some("ICU".into()),
            requester_department: Some("ICU".into()),
            requester_experience: ExperienceBand::UnderFive,
            urgency: Urgency::Routine,
            peer_profession: None,
            specialty_preference: SpecialtyPreference::Any,
            language: None,
            language_required: false,
            exclude_department: false,
            excluded: HashSet::new(),
        }
    }

    #[test]
    fn reasons_explain_the_order() {
        let mut physician = candidate(1);
        physician.profession = Profession::Physician;
        let nurse = candidate(2);
        let ranked = rank(&criteria(), &[physician, nurse], now());
        assert_eq!(ranked[0].supporter_id, Uuid::from_u128(2));
        assert!(ranked[0].reasons.contains(&"same profession".to_string()));
        assert!(ranked[0].reasons.contains(&"more experience".to_string()));
    }

    #[test]
    fn fair_rotation_prefers_the_least_recently_assigned() {
        let mut a = candidate(1);
        a.last_assigned_at = Some(now());
        let b = candidate(2);
        let ranked = rank(&criteria(), &[a, b], now());
        assert_eq!(ranked[0].supporter_id, Uuid::from_u128(2));
    }

    #[test]
    fn availability_respects_zone_and_midnight() {
        let night = vec![AvailabilityWindow {
            weekday: Weekday::Wed,
            start: NaiveTime::from_hms_opt(22, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(2, 0, 0).unwrap(),
        }];
        // 15:00 UTC is 09:00 in Chicago (CST): the 22:00 window is 13 hours away.
        let chicago: Tz = "America/Chicago".parse().unwrap();
        assert!(!available_within(&night, chicago, now(), 60));
        assert!(available_within(&night, chicago, now(), 14 * 60));
        // In UTC the same window starts in 7 hours.
        assert!(available_within(&night, Tz::UTC, now(), 8 * 60));
        // Sunday 23:00 window wraps into Monday of next week.
        let sunday = vec![AvailabilityWindow {
            weekday: Weekday::Sun,
            start: NaiveTime::from_hms_opt(23, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(1, 0, 0).unwrap(),
        }];
        let monday_0030 = NaiveDate::from_ymd_opt(2026, 11, 30)
            .unwrap()
            .and_hms_opt(0, 30, 0)
            .unwrap();
        assert!(available_within(&sunday, Tz::UTC, monday_0030, 10));
    }

    prop_compose! {
        fn arb_candidate()(n in 0u128..10_000, profession in 0usize..8, dept in 0usize..4, cases in 0u32..6, cap in 1u32..5,
                           minutes in 0i64..900, active: bool, trained: bool, involved: bool, lived: bool) -> Candidate {
            let mut c = candidate(n);
            c.profession = Profession::ALL[profession];
            c.department = Some(["ICU", "Emergency", "Pharmacy", "Surgery"][dept].into());
            c.open_cases = cases;
            c.caseload_cap = cap;
            c.minutes_this_month = minutes;
            c.active = active;
            c.training_current = trained;
            c.involved_in_event = involved;
            c.lived_experience = lived;
            c
        }
    }

    /// One id per candidate, as in the database.
    fn unique(cands: Vec<Candidate>) -> Vec<Candidate> {
        cands
            .into_iter()
            .enumerate()
            .map(|(i, mut c)| {
                c.supporter_id = Uuid::from_u128(i as u128 + 1);
                c.person_id = Uuid::from_u128(100_000 + i as u128);
                c
            })
            .collect()
    }

    proptest! {
        #[test]
        fn hard_filters_always_hold(cands in proptest::collection::vec(arb_candidate(), 0..60), exclude_dept: bool) {
            let cands = unique(cands);
            let mut c = criteria();
            c.exclude_department = exclude_dept;
            let ranked = rank(&c, &cands, now());
            for r in &ranked {
                let s = cands.iter().find(|s| s.supporter_id == r.supporter_id).unwrap();
                prop_assert!(!s.involved_in_event, "same event");
                prop_assert!(s.open_cases < s.caseload_cap, "over caseload cap");
                prop_assert!(s.minutes_this_month < s.monthly_hours_cap * 60, "over hours cap");
                prop_assert!(s.active && s.training_current);
                if exclude_dept {
                    prop_assert_ne!(s.department.as_deref(), Some("ICU"), "requester's department");
                }
            }
        }

        #[test]
        fn best_is_the_first_ranked(cands in proptest::collection::vec(arb_candidate(), 0..40), exclude_dept: bool) {
            let cands = unique(cands);
            let mut c = criteria();
            c.exclude_department = exclude_dept;
            prop_assert_eq!(best(&c, &cands, now()), rank(&c, &cands, now()).into_iter().next());
        }

        /// What lets the sweep skip requests like one that found nobody: requests with the same
        /// shared rules and nothing of their own find nobody alike, whatever else they ask.
        #[test]
        fn shared_rules_decide_whether_anyone_is_eligible(
            cands in proptest::collection::vec(arb_candidate(), 0..40),
            langs in proptest::collection::vec(0usize..3, 0..40),
            exclude_dept: bool, required: bool, lang in 0usize..3, urgency in 0usize..3,
            profession in 0usize..8, experience in 0usize..4, peer in proptest::option::of(0usize..8),
        ) {
            let names = ["en", "es-MX", "ES"];
            let mut cands = unique(cands);
            for (c, l) in cands.iter_mut().zip(langs) {
                c.languages = vec![names[l].into()];
                c.involved_in_event = false;
            }
            let mut a = criteria();
            a.exclude_department = exclude_dept;
            a.language_required = required;
            a.language = Some(names[lang].into());
            a.urgency = Urgency::ALL[urgency];
            // The other request differs in everything the shared rules leave out.
            let mut b = a.clone();
            b.requester_person_id = Some(Uuid::from_u128(88_888));
            b.requester_profession = Some(Profession::ALL[profession]);
            b.requester_specialty = None;
            b.requester_department = a.requester_department.as_deref().map(str::to_uppercase);
            b.requester_experience = ExperienceBand::ALL[experience];
            b.peer_profession = peer.map(|p| Profession::ALL[p]);
            b.specialty_preference = SpecialtyPreference::Other;
            b.language = a.language.as_deref().map(str::to_lowercase);
            prop_assert_eq!(a.shared_rules(), b.shared_rules());
            prop_assert_eq!(rank(&a, &cands, now()).is_empty(), rank(&b, &cands, now()).is_empty());
        }

        #[test]
        fn deterministic_and_order_independent(cands in proptest::collection::vec(arb_candidate(), 0..40)) {
            let cands = unique(cands);
            let c = criteria();
            let first = rank(&c, &cands, now());
            let mut reversed = cands.clone();
            reversed.reverse();
            let ids = |r: &Vec<Ranked>| r.iter().map(|x| x.supporter_id).collect::<Vec<_>>();
            let a = ids(&first);
            prop_assert_eq!(a.clone(), ids(&rank(&c, &cands, now())));
            prop_assert_eq!(a, ids(&rank(&c, &reversed, now())));
        }
    }
}
