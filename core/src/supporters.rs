//! Peer supporter profiles: training and its expiry, lived experience, weekly availability in
//! the supporter's own time zone, caseload cap, and consent to be matched across institutions.

use std::collections::HashMap;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::access::{Operation, Principal, Role, authorize};
use crate::db::{Db, DbConnection, Id, on_backend};
use crate::error::CoreError;
use crate::ids::new_id;
use crate::page::{Page, PageRequest, keyset};
use crate::schema::peer_supporters;
use crate::stored::to_json;
use crate::vocab::Weekday;
use crate::{accounts, people, time, validate};

pub const MAX_CASELOAD_CAP: i32 = 50;
pub const MAX_WINDOWS: usize = 42;
pub const MAX_MONTHLY_HOURS: i32 = 80;
pub const DEFAULT_MONTHLY_HOURS: i32 = 10;

/// A weekly window, in the supporter's time zone. An end earlier than the start runs past
/// midnight (a night-shift nurse available 22:00–02:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvailabilityWindow {
    pub weekday: Weekday,
    #[serde(deserialize_with = "clock_text::time")]
    pub start: NaiveTime,
    #[serde(deserialize_with = "clock_text::time")]
    pub end: NaiveTime,
}

/// Times of day read back from stored availability. Every new request reads every supporter's
/// week (fourteen times each), and chrono's general parser was the largest single piece of the
/// node's own work on a `requestSupport` (#22); the two forms stored and typed, `HH:MM:SS` and
/// `HH:MM`, are read here directly and anything else goes to chrono, so what is accepted and
/// what it means stay chrono's.
mod clock_text {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer};

    pub(super) fn time<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        match plain(&text) {
            Some(t) => Ok(t),
            None => text.parse().map_err(serde::de::Error::custom),
        }
    }

    /// `HH:MM:SS` or `HH:MM` in range, or `None` for chrono to decide.
    pub(super) fn plain(text: &str) -> Option<NaiveTime> {
        let b = text.as_bytes();
        let two = |i: usize| -> Option<u32> {
            let (h, l) = (*b.get(i)?, *b.get(i + 1)?);
            (h.is_ascii_digit() && l.is_ascii_digit())
                .then(|| u32::from(h - b'0') * 10 + u32::from(l - b'0'))
        };
        let seconds = match b.len() {
            5 => 0,
            8 if b[5] == b':' => two(6)?,
            _ => return None,
        };
        if b[2] != b':' {
            return None;
        }
        NaiveTime::from_hms_opt(two(0)?, two(3)?, seconds)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = peer_supporters)]
pub struct PeerSupporter {
    pub id: Uuid,
    pub person_id: Uuid,
    pub trained_on: Option<NaiveDate>,
    pub training_expires_on: Option<NaiveDate>,
    pub lived_experience: bool,
    pub time_zone: String,
    #[diesel(deserialize_as = Week)]
    pub availability: Vec<AvailabilityWindow>,
    pub caseload_cap: i32,
    pub outside_matching_opt_in: bool,
    /// A supporter can pause themselves without losing their profile.
    pub active: bool,
    #[diesel(deserialize_as = crate::db::Stamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::Stamp)]
    pub updated_at: NaiveDateTime,
    /// Hours of encounters a month before the supporter is not offered more.
    pub monthly_hours_cap: i32,
    /// When the supporter last took a request, for fair rotation among equals.
    pub last_assigned_at: Option<NaiveDateTime>,
}

/// A supporter's week read back from its stored JSON, each text parsed once per database
/// thread. Every new request reads every supporter's week, and parsing it was most of the
/// node's work in reading them: 15k instructions for a week of seven windows, against 2k to
/// find the same text already parsed (#22, docs/performance.md). The text is the key, so what
/// is read is always what `serde_json` reads from it.
#[derive(Debug, Clone, PartialEq, Eq, diesel::FromSqlRow)]
pub struct Week(pub Vec<AvailabilityWindow>);

impl From<Week> for Vec<AvailabilityWindow> {
    fn from(week: Week) -> Self {
        week.0
    }
}

impl<DB> diesel::deserialize::FromSql<diesel::sql_types::Text, DB> for Week
where
    DB: diesel::backend::Backend,
    String: diesel::deserialize::FromSql<diesel::sql_types::Text, DB>,
{
    fn from_sql(bytes: DB::RawValue<'_>) -> diesel::deserialize::Result<Self> {
        let text =
            <String as diesel::deserialize::FromSql<diesel::sql_types::Text, DB>>::from_sql(bytes)?;
        Ok(Week(parsed_weeks::read(text)?))
    }
}

mod parsed_weeks {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use super::AvailabilityWindow;

    /// At most this many texts kept by each thread; all are dropped when it is reached, so a
    /// node whose supporters keep more distinct weeks than this parses as it did before.
    pub(super) const KEPT: usize = 256;

    thread_local! {
        static PARSED: RefCell<HashMap<String, Vec<AvailabilityWindow>>> =
            RefCell::new(HashMap::new());
    }

    /// The week `text` holds: as parsed before on this thread, or parsed now and kept.
    pub(super) fn read(text: String) -> Result<Vec<AvailabilityWindow>, serde_json::Error> {
        if let Some(week) = PARSED.with(|p| p.borrow().get(&text).cloned()) {
            return Ok(week);
        }
        let week: Vec<AvailabilityWindow> = serde_json::from_str(&text)?;
        PARSED.with(|p| {
            let mut p = p.borrow_mut();
            if p.len() >= KEPT {
                p.clear();
            }
            p.insert(text, week.clone());
        });
        Ok(week)
    }

    #[cfg(test)]
    mod tests {
        #![allow(clippy::unwrap_used)]
        use super::*;

        fn kept() -> usize {
            PARSED.with(|p| p.borrow().len())
        }

        #[test]
        fn a_week_read_again_is_the_one_serde_reads_and_is_kept_once() {
            for text in [
                r#"[{"weekday":"mon","start":"00:00:00","end":"23:59:00"}]"#,
                r#"[{"weekday":"sat","start":"22:00","end":"02:00"},{"weekday":"sun","start":"09:05:07","end":"10:00"}]"#,
                "[]",
            ] {
                let direct: Vec<AvailabilityWindow> = serde_json::from_str(text).unwrap();
                let first = read(text.to_owned()).unwrap();
                assert!(PARSED.with(|p| p.borrow().contains_key(text)));
                let before = kept();
                let again = read(text.to_owned()).unwrap();
                assert_eq!(first, direct);
                assert_eq!(again, direct);
                assert_eq!(kept(), before, "the second read finds the first");
            }
        }

        #[test]
        fn a_text_that_is_not_a_week_is_refused_and_not_kept() {
            let before = kept();
            assert!(read(r#"[{"weekday":"mon"}]"#.to_owned()).is_err());
            assert!(read("not json".to_owned()).is_err());
            assert_eq!(kept(), before);
        }

        #[test]
        fn no_more_than_kept_texts_are_held() {
            for minute in 0..KEPT + 10 {
                let text = format!(
                    r#"[{{"weekday":"tue","start":"{:02}:{:02}","end":"23:59"}}]"#,
                    minute / 60,
                    minute % 60
                );
                let week = read(text).unwrap();
                assert_eq!(
                    week[0].start.format("%H:%M").to_string(),
                    format!("{:02}:{:02}", minute / 60, minute % 60)
                );
                assert!(kept() <= KEPT);
            }
        }
    }
}

#[cfg(test)]
mod clock_text_tests {
    #![allow(clippy::unwrap_used)]
    use super::AvailabilityWindow;
    use chrono::NaiveTime;

    #[test]
    fn times_read_directly_are_the_ones_chrono_reads() {
        for text in [
            "00:00:00", "23:59:59", "08:30", "22:00", "09:05:07", "00:00", "23:59",
        ] {
            let chrono: NaiveTime = text.parse().unwrap();
            assert_eq!(super::clock_text::plain(text), Some(chrono), "{text}");
        }
        // Left to chrono: a leap second, fractions, out of range, not a time at all.
        for text in [
            "23:59:60",
            "08:30:00.5",
            "24:00:00",
            "12:60",
            "8:30",
            "08-30",
            "",
            "ab:cd",
        ] {
            assert_eq!(super::clock_text::plain(text), None, "{text}");
        }
        let json =
            |start: &str| format!(r#"{{"weekday":"mon","start":"{start}","end":"17:00:00"}}"#);
        let leap: AvailabilityWindow = serde_json::from_str(&json("23:59:60")).unwrap();
        assert_eq!(Some(leap.start), "23:59:60".parse().ok());
        let fraction: AvailabilityWindow = serde_json::from_str(&json("08:30:00.5")).unwrap();
        assert_eq!(Some(fraction.start), "08:30:00.5".parse().ok());
        assert!(serde_json::from_str::<AvailabilityWindow>(&json("24:00:00")).is_err());
        assert!(serde_json::from_str::<AvailabilityWindow>(&json("nine")).is_err());
        let window = AvailabilityWindow {
            weekday: crate::vocab::Weekday::Mon,
            start: NaiveTime::from_hms_opt(22, 0, 0).unwrap(),
            end: NaiveTime::from_hms_opt(2, 0, 0).unwrap(),
        };
        let text = serde_json::to_string(&window).unwrap();
        assert_eq!(
            serde_json::from_str::<AvailabilityWindow>(&text).unwrap(),
            window
        );
    }
}

impl AvailabilityWindow {
    /// Monday is 0.
    pub fn weekday_index(&self) -> u8 {
        Weekday::ALL
            .iter()
            .position(|d| *d == self.weekday)
            .unwrap_or(0) as u8
    }
}

impl PeerSupporter {
    /// Trained, and the training has not expired on `today`.
    pub fn training_current(&self, today: NaiveDate) -> bool {
        training_current(self.trained_on, self.training_expires_on, today)
    }
}

fn training_current(
    trained_on: Option<NaiveDate>,
    expires: Option<NaiveDate>,
    today: NaiveDate,
) -> bool {
    trained_on.is_some() && expires.is_none_or(|exp| exp >= today)
}

/// What a list of supporters shows of each profile: no availability windows, no stamps. Read
/// with [`list_cards`]: with the person's card, 17 columns a row instead of 30, no timestamps and
/// one JSON text instead of two (#22: on PostgreSQL, the bytes to encode, encrypt and decode
/// were most of the list's cost).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = peer_supporters)]
pub struct SupporterCard {
    pub id: Uuid,
    pub trained_on: Option<NaiveDate>,
    pub training_expires_on: Option<NaiveDate>,
    pub lived_experience: bool,
    pub time_zone: String,
    pub caseload_cap: i32,
    pub outside_matching_opt_in: bool,
    pub active: bool,
    pub monthly_hours_cap: i32,
}

impl SupporterCard {
    /// As [`PeerSupporter::training_current`].
    pub fn training_current(&self, today: NaiveDate) -> bool {
        training_current(self.trained_on, self.training_expires_on, today)
    }
}

/// A whole profile, as a coordinator sets it.
#[derive(Debug, Clone)]
pub struct SupporterInput {
    pub person_id: Uuid,
    pub trained_on: Option<NaiveDate>,
    pub training_expires_on: Option<NaiveDate>,
    pub lived_experience: bool,
    pub time_zone: String,
    pub availability: Vec<AvailabilityWindow>,
    pub caseload_cap: i32,
    pub outside_matching_opt_in: bool,
    pub active: bool,
    pub monthly_hours_cap: i32,
}

/// What supporters change themselves.
#[derive(Debug, Clone, Default)]
pub struct OwnSupporterPatch {
    pub time_zone: Option<String>,
    pub availability: Option<Vec<AvailabilityWindow>>,
    pub caseload_cap: Option<i32>,
    pub outside_matching_opt_in: Option<bool>,
    pub active: Option<bool>,
    pub monthly_hours_cap: Option<i32>,
}

fn check(mut input: SupporterInput) -> Result<SupporterInput, CoreError> {
    input.time_zone = validate::time_zone("timeZone", &input.time_zone)?;
    if input.time_zone.parse::<chrono_tz::Tz>().is_err() {
        return Err(CoreError::bad_input(
            "timeZone",
            "is not a known IANA time zone like \"America/Chicago\"",
        ));
    }
    if !(1..=MAX_CASELOAD_CAP).contains(&input.caseload_cap) {
        return Err(CoreError::bad_input(
            "caseloadCap",
            format!("must be between 1 and {MAX_CASELOAD_CAP}"),
        ));
    }
    if !(1..=MAX_MONTHLY_HOURS).contains(&input.monthly_hours_cap) {
        return Err(CoreError::bad_input(
            "monthlyHoursCap",
            format!("must be between 1 and {MAX_MONTHLY_HOURS}"),
        ));
    }
    if input.availability.len() > MAX_WINDOWS {
        return Err(CoreError::bad_input(
            "availability",
            format!("at most {MAX_WINDOWS} windows"),
        ));
    }
    if let Some(w) = input.availability.iter().find(|w| w.start == w.end) {
        return Err(CoreError::bad_input(
            "availability",
            format!(
                "the {} window starts and ends at {}; give it a length",
                w.weekday,
                w.start.format("%H:%M")
            ),
        ));
    }
    let today = time::now().date();
    if input.trained_on.is_some_and(|trained| trained > today) {
        return Err(CoreError::bad_input("trainedOn", "is in the future"));
    }
    match (input.trained_on, input.training_expires_on) {
        (None, Some(_)) => {
            return Err(CoreError::bad_input(
                "trainingExpiresOn",
                "set trainedOn first",
            ));
        }
        (Some(t), Some(e)) if e <= t => {
            return Err(CoreError::bad_input(
                "trainingExpiresOn",
                "must be after trainedOn",
            ));
        }
        _ => {}
    }
    Ok(input)
}

/// Every profile, up to `limit`, for the roster.
pub(crate) fn load_all(
    conn: &mut DbConnection,
    limit: i64,
) -> Result<Vec<PeerSupporter>, CoreError> {
    peer_supporters::table
        .order(peer_supporters::id.asc())
        .limit(limit)
        .select(PeerSupporter::as_select())
        .load(conn)
        .map_err(Into::into)
}

pub(crate) fn load_for_person(
    conn: &mut DbConnection,
    person_id: Uuid,
) -> Result<Option<PeerSupporter>, CoreError> {
    // On the connection's own backend (`db::on_backend`): every supporter's action reads it.
    on_backend!(conn, |c| peer_supporters::table
        .filter(peer_supporters::person_id.eq(Id(person_id)))
        .select(PeerSupporter::as_select())
        .first(c))
    .optional()
    .map_err(Into::into)
}

fn write(conn: &mut DbConnection, input: SupporterInput) -> Result<PeerSupporter, CoreError> {
    let now = time::now();
    let availability = to_json(&input.availability)?;
    let person = Id(input.person_id);
    match load_for_person(conn, input.person_id)? {
        Some(existing) => {
            diesel::update(peer_supporters::table.filter(peer_supporters::id.eq(Id(existing.id))))
                .set((
                    peer_supporters::trained_on.eq(input.trained_on),
                    peer_supporters::training_expires_on.eq(input.training_expires_on),
                    peer_supporters::lived_experience.eq(input.lived_experience),
                    peer_supporters::time_zone.eq(input.time_zone),
                    peer_supporters::availability.eq(availability),
                    peer_supporters::caseload_cap.eq(input.caseload_cap),
                    peer_supporters::outside_matching_opt_in.eq(input.outside_matching_opt_in),
                    peer_supporters::active.eq(input.active),
                    peer_supporters::monthly_hours_cap.eq(input.monthly_hours_cap),
                    peer_supporters::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        None => {
            diesel::insert_into(peer_supporters::table)
                .values((
                    peer_supporters::id.eq(Id(new_id())),
                    peer_supporters::person_id.eq(person),
                    peer_supporters::trained_on.eq(input.trained_on),
                    peer_supporters::training_expires_on.eq(input.training_expires_on),
                    peer_supporters::lived_experience.eq(input.lived_experience),
                    peer_supporters::time_zone.eq(input.time_zone),
                    peer_supporters::availability.eq(availability),
                    peer_supporters::caseload_cap.eq(input.caseload_cap),
                    peer_supporters::outside_matching_opt_in.eq(input.outside_matching_opt_in),
                    peer_supporters::active.eq(input.active),
                    peer_supporters::monthly_hours_cap.eq(input.monthly_hours_cap),
                    peer_supporters::created_at.eq(now),
                    peer_supporters::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
    }
    load_for_person(conn, input.person_id)?.ok_or(CoreError::NotFound("peer supporter"))
}

/// Creates or replaces a person's supporter profile, and makes their account a
/// `peer_supporter`.
pub async fn upsert(
    db: &Db,
    who: &Principal,
    input: SupporterInput,
) -> Result<PeerSupporter, CoreError> {
    authorize(who, Operation::ManageSupporters)?;
    let input = check(input)?;
    db.transaction(move |conn| {
        people::load(conn, input.person_id)?;
        let person_id = input.person_id;
        let saved = write(conn, input)?;
        accounts::grant_role(conn, person_id, Role::PeerSupporter)?;
        // A newly trained or newly available supporter may take a request that is waiting.
        crate::requests::matchmaking::rematch(
            conn,
            time::now(),
            crate::requests::matchmaking::REMATCH_ACTOR,
            Some(saved.id),
        )?;
        Ok(saved)
    })
    .await
}

/// A supporter changes their own availability, time zone, cap, consent or pause.
pub async fn update_own(
    db: &Db,
    who: &Principal,
    patch: OwnSupporterPatch,
) -> Result<PeerSupporter, CoreError> {
    authorize(who, Operation::UpdateOwnSupporterProfile)?;
    let person_id = who.require_user()?.person_id;
    db.transaction(move |conn| {
        let cur = load_for_person(conn, person_id)?
            .ok_or(CoreError::NotFound("peer supporter profile"))?;
        let input = check(SupporterInput {
            person_id,
            trained_on: cur.trained_on,
            training_expires_on: cur.training_expires_on,
            lived_experience: cur.lived_experience,
            time_zone: patch.time_zone.unwrap_or(cur.time_zone),
            availability: patch.availability.unwrap_or(cur.availability),
            caseload_cap: patch.caseload_cap.unwrap_or(cur.caseload_cap),
            outside_matching_opt_in: patch
                .outside_matching_opt_in
                .unwrap_or(cur.outside_matching_opt_in),
            active: patch.active.unwrap_or(cur.active),
            monthly_hours_cap: patch.monthly_hours_cap.unwrap_or(cur.monthly_hours_cap),
        })?;
        let saved = write(conn, input)?;
        // Resuming, or opening hours, may let them take a request that is waiting now.
        crate::requests::matchmaking::rematch(
            conn,
            time::now(),
            crate::requests::matchmaking::REMATCH_ACTOR,
            Some(saved.id),
        )?;
        Ok(saved)
    })
    .await
}

pub async fn for_person(
    db: &Db,
    who: &Principal,
    person_id: Uuid,
) -> Result<Option<PeerSupporter>, CoreError> {
    authorize(who, Operation::ViewSupporter { person_id })?;
    db.run(move |conn| load_for_person(conn, person_id)).await
}

/// A profile by its own id.
pub async fn get(db: &Db, who: &Principal, id: Uuid) -> Result<PeerSupporter, CoreError> {
    if matches!(who, Principal::Anonymous) {
        authorize(who, Operation::ListSupporters)?;
    }
    let found: PeerSupporter = db
        .run(move |conn| {
            peer_supporters::table
                .filter(peer_supporters::id.eq(Id(id)))
                .select(PeerSupporter::as_select())
                .first(conn)
                .optional()?
                .ok_or(CoreError::NotFound("peer supporter"))
        })
        .await?;
    authorize(
        who,
        Operation::ViewSupporter {
            person_id: found.person_id,
        },
    )?;
    Ok(found)
}

/// Profiles of several people at once (for DataLoaders), leaving out those the caller may not
/// see.
pub async fn for_people(
    db: &Db,
    who: &Principal,
    ids: Vec<Uuid>,
) -> Result<HashMap<Uuid, PeerSupporter>, CoreError> {
    let visible: Vec<Id> = ids
        .into_iter()
        .filter(|id| authorize(who, Operation::ViewSupporter { person_id: *id }).is_ok())
        .map(Id)
        .collect();
    if visible.is_empty() {
        return Ok(HashMap::new());
    }
    db.run(move |conn| {
        Ok(peer_supporters::table
            .filter(peer_supporters::person_id.eq_any(visible))
            .select(PeerSupporter::as_select())
            .load(conn)?
            .into_iter()
            .map(|s| (s.person_id, s))
            .collect())
    })
    .await
}

pub async fn list(
    db: &Db,
    who: &Principal,
    page: PageRequest,
) -> Result<Page<PeerSupporter>, CoreError> {
    authorize(who, Operation::ListSupporters)?;
    let plan = page.plan()?;
    db.run(move |conn| {
        let rows = on_backend!(conn, |c| keyset!(
            peer_supporters::table,
            peer_supporters::id,
            plan,
            |q| q.select(PeerSupporter::as_select()).load(c)?
        ));
        Ok(Page::from_rows(rows, plan))
    })
    .await
}

/// A supporter's row joined with their person's, `$select` of both, a page of them: the
/// one query behind [`list_with_people`] and [`list_cards`].
macro_rules! page_with_people {
    ($db:expr, $plan:expr, $select:expr) => {
        $db.run(move |conn| {
            Ok(on_backend!(conn, |c| keyset!(
                peer_supporters::table.inner_join(crate::schema::people::table),
                peer_supporters::id,
                $plan,
                |q| q.select($select).load(c)?
            )))
        })
    };
}

/// Each row's person kept only where `who` may see them.
fn people_visible_to<S, P>(
    who: &Principal,
    rows: Vec<(S, P)>,
    person_id: impl Fn(&P) -> Uuid,
) -> Vec<(S, Option<P>)> {
    rows.into_iter()
        .map(|(s, p)| {
            let visible = authorize(
                who,
                Operation::ViewPerson {
                    person_id: person_id(&p),
                },
            )
            .is_ok();
            (s, visible.then_some(p))
        })
        .collect()
}

/// Like [`list_with_people`], reading only what a list shows: each supporter's card and their
/// person's card (no contact details, which a list does not show and so does not read).
pub async fn list_cards(
    db: &Db,
    who: &Principal,
    page: PageRequest,
) -> Result<Page<(SupporterCard, Option<people::PersonCard>)>, CoreError> {
    authorize(who, Operation::ListSupporters)?;
    let plan = page.plan()?;
    let rows: Vec<(SupporterCard, people::PersonCard)> = page_with_people!(
        db,
        plan,
        (SupporterCard::as_select(), people::PersonCard::as_select())
    )
    .await?;
    Ok(Page::from_rows(
        people_visible_to(who, rows, |p| p.id),
        plan,
    ))
}

/// Like [`list`], with each supporter's person (where the caller may see them) read in the
/// same query: one database call for a page that shows names and professions, not two.
pub async fn list_with_people(
    db: &Db,
    who: &Principal,
    page: PageRequest,
) -> Result<Page<(PeerSupporter, Option<people::Person>)>, CoreError> {
    use crate::schema::people as people_t;
    authorize(who, Operation::ListSupporters)?;
    let plan = page.plan()?;
    let rows: Vec<(PeerSupporter, people::Person)> = page_with_people!(
        db,
        plan,
        (PeerSupporter::as_select(), people_t::all_columns)
    )
    .await?;
    Ok(Page::from_rows(
        people_visible_to(who, rows, |p| p.id),
        plan,
    ))
}
