//! Ranking one request against 10,000 supporters: filters, availability in each supporter's
//! time zone, scoring, and the sort. Figures go in docs/performance.md.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::hint::black_box;

use alongside_core::matching::{Candidate, Criteria, rank};
use alongside_core::supporters::AvailabilityWindow;
use alongside_core::vocab::{ExperienceBand, Profession, SpecialtyPreference, Urgency, Weekday};
use chrono::{NaiveDate, NaiveTime};
use chrono_tz::Tz;
use criterion::{Criterion, criterion_group, criterion_main};
use uuid::Uuid;

fn supporters(n: usize) -> Vec<Candidate> {
    let zones: [Tz; 4] = [
        "America/New_York",
        "America/Chicago",
        "America/Denver",
        "America/Los_Angeles",
    ]
    .map(|z| z.parse().unwrap());
    let departments = [
        "Emergency",
        "ICU",
        "Surgery",
        "Pharmacy",
        "Oncology",
        "Pediatrics",
    ];
    (0..n)
        .map(|i| {
            let windows = (0..3)
                .map(|k| AvailabilityWindow {
                    weekday: Weekday::ALL[(i + k * 2) % 7],
                    start: NaiveTime::from_hms_opt(((i + k) % 20) as u32, 0, 0).unwrap(),
                    end: NaiveTime::from_hms_opt(((i + k) % 20 + 4) as u32, 0, 0).unwrap(),
                })
                .collect();
            Candidate {
                supporter_id: Uuid::from_u128(i as u128 + 1),
                person_id: Uuid::from_u128(1_000_000 + i as u128),
                profession: Profession::ALL[i % Profession::ALL.len()],
                specialty: Some(departments[(i / 3) % departments.len()].into()),
                department: Some(departments[i % departments.len()].into()),
                experience: ExperienceBand::ALL[i % 4],
                languages: if i % 5 == 0 {
                    vec!["en".into(), "es".into()]
                } else {
                    vec!["en".into()]
                },
                lived_experience: i % 3 == 0,
                training_current: i % 11 != 0,
                active: i % 13 != 0,
                time_zone: zones[i % zones.len()],
                availability: windows,
                open_cases: (i % 4) as u32,
                caseload_cap: 3,
                minutes_this_month: (i % 700) as i64,
                monthly_hours_cap: 10,
                last_assigned_at: None,
                involved_in_event: i % 97 == 0,
            }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let candidates = supporters(10_000);
    let now = NaiveDate::from_ymd_opt(2026, 11, 25)
        .unwrap()
        .and_hms_opt(15, 0, 0)
        .unwrap();
    let criteria = Criteria {
        requester_person_id: Some(Uuid::from_u128(42)),
        requester_profession: Some(Profession::Nurse),
        requester_specialty: Some("ICU".into()),
        requester_department: Some("ICU".into()),
        requester_experience: ExperienceBand::UnderFive,
        urgency: Urgency::Routine,
        peer_profession: None,
        specialty_preference: SpecialtyPreference::Same,
        language: Some("es".into()),
        language_required: false,
        exclude_department: true,
        excluded: HashSet::new(),
    };
    let eligible = rank(&criteria, &candidates, now).len();
    println!(
        "eligible after hard filters: {eligible} of {}",
        candidates.len()
    );
    c.bench_function("rank 1 request against 10,000 supporters", |b| {
        b.iter(|| rank(black_box(&criteria), black_box(&candidates), black_box(now)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
