//! Training: courses, sessions, and completion records that keep a peer supporter's "trained"
//! status current (with reminders before expiry, from `notify::reminders`); and the trainer
//! directory, which lists a trainer only with their consent and only the fields they published.

use chrono::{Months, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use crate::access::{Operation, Principal, authorize};
use crate::db::{Db, DbConnection, Id};
use crate::deid::{self, Inspect, Shareable};
use crate::error::CoreError;
use crate::feed::{self, FeedKind};
use crate::ids::new_id;
use crate::schema::{
    peer_supporters, people, trainers, training_completions, training_courses, training_sessions,
};
use crate::stored::{from_json, to_json};
use crate::vocab::CourseKind;
use crate::{time, validate};

#[derive(Debug, Clone, Serialize)]
pub struct Course {
    pub id: Uuid,
    pub kind: CourseKind,
    pub title: String,
    /// Months a completion stays valid; 0 means it does not expire.
    pub validity_months: i32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Completion {
    pub id: Uuid,
    pub person_id: Uuid,
    pub course_id: Uuid,
    pub completed_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
}

pub async fn create_course(
    db: &Db,
    who: &Principal,
    kind: CourseKind,
    title: String,
    validity_months: i32,
) -> Result<Course, CoreError> {
    authorize(who, Operation::ManageSupporters)?;
    let title = validate::line("title", &title, 160)?;
    if !(0..=120).contains(&validity_months) {
        return Err(CoreError::bad_input(
            "validityMonths",
            "must be 0 (no expiry) to 120",
        ));
    }
    db.transaction(move |conn| {
        let id = new_id();
        diesel::insert_into(training_courses::table)
            .values((
                training_courses::id.eq(Id(id)),
                training_courses::kind.eq(kind),
                training_courses::title.eq(&title),
                training_courses::validity_months.eq(validity_months),
                training_courses::created_at.eq(time::now()),
            ))
            .execute(conn)?;
        Ok(Course {
            id,
            kind,
            title,
            validity_months,
        })
    })
    .await
}

pub async fn courses(db: &Db, who: &Principal) -> Result<Vec<Course>, CoreError> {
    authorize(who, Operation::ViewResources)?;
    db.run(|conn| {
        let rows: Vec<(Uuid, CourseKind, String, i32)> = training_courses::table
            .order(training_courses::id.asc())
            .select((
                training_courses::id,
                training_courses::kind,
                training_courses::title,
                training_courses::validity_months,
            ))
            .load(conn)?;
        rows.into_iter()
            .map(|(id, kind, title, validity_months)| {
                Ok(Course {
                    id,
                    kind,
                    title,
                    validity_months,
                })
            })
            .collect()
    })
    .await
}

pub async fn schedule_session(
    db: &Db,
    who: &Principal,
    course: Uuid,
    starts_on: NaiveDate,
    format: String,
) -> Result<Uuid, CoreError> {
    authorize(who, Operation::ManageSupporters)?;
    let format = validate::line("format", &format, 80)?;
    db.transaction(move |conn| {
        let exists: i64 = training_courses::table
            .filter(training_courses::id.eq(Id(course)))
            .count()
            .get_result(conn)?;
        if exists == 0 {
            return Err(CoreError::bad_input("courseId", "no such course"));
        }
        let id = new_id();
        diesel::insert_into(training_sessions::table)
            .values((
                training_sessions::id.eq(Id(id)),
                training_sessions::course_id.eq(Id(course)),
                training_sessions::starts_on.eq(starts_on),
                training_sessions::format.eq(&format),
                training_sessions::created_at.eq(time::now()),
            ))
            .execute(conn)?;
        Ok(id)
    })
    .await
}

/// A scheduled session of a course.
#[derive(Debug, Clone, Serialize)]
pub struct Session {
    pub id: Uuid,
    pub course_id: Uuid,
    pub starts_on: NaiveDate,
    pub format: String,
}

/// Sessions from `since` on, soonest first: what the console lists as coming up.
pub async fn sessions(
    db: &Db,
    who: &Principal,
    since: NaiveDate,
) -> Result<Vec<Session>, CoreError> {
    authorize(who, Operation::ManageSupporters)?;
    db.run(move |conn| {
        let rows: Vec<(Uuid, Uuid, NaiveDate, String)> = training_sessions::table
            .filter(training_sessions::starts_on.ge(since))
            .order((
                training_sessions::starts_on.asc(),
                training_sessions::id.asc(),
            ))
            .select((
                training_sessions::id,
                training_sessions::course_id,
                training_sessions::starts_on,
                training_sessions::format,
            ))
            .limit(100)
            .load(conn)?;
        rows.into_iter()
            .map(|(id, course, starts_on, format)| {
                Ok(Session {
                    id,
                    course_id: course,
                    starts_on,
                    format,
                })
            })
            .collect()
    })
    .await
}

/// The latest completions recorded, newest first, at most `limit`.
pub async fn recent_completions(
    db: &Db,
    who: &Principal,
    limit: i64,
) -> Result<Vec<Completion>, CoreError> {
    authorize(who, Operation::ManageSupporters)?;
    db.run(move |conn| {
        let rows: Vec<(Uuid, Uuid, Uuid, NaiveDate, Option<NaiveDate>)> =
            training_completions::table
                .order((
                    training_completions::completed_on.desc(),
                    training_completions::id.desc(),
                ))
                .select((
                    training_completions::id,
                    training_completions::person_id,
                    training_completions::course_id,
                    training_completions::completed_on,
                    training_completions::expires_on,
                ))
                .limit(limit.clamp(1, 200))
                .load(conn)?;
        rows.into_iter()
            .map(|(id, person, course, completed_on, expires_on)| {
                Ok(Completion {
                    id,
                    person_id: person,
                    course_id: course,
                    completed_on,
                    expires_on,
                })
            })
            .collect()
    })
    .await
}

/// Records that a person completed a course. A peer support course or refresher keeps their
/// supporter profile's training dates current, which matching and reminders read.
pub async fn record_completion(
    db: &Db,
    who: &Principal,
    person: Uuid,
    course: Uuid,
    completed_on: NaiveDate,
) -> Result<Completion, CoreError> {
    authorize(who, Operation::ManageSupporters)?;
    if completed_on > time::now().date() {
        return Err(CoreError::bad_input("completedOn", "is in the future"));
    }
    db.transaction(move |conn| {
        let found: Option<(CourseKind, i32)> = training_courses::table
            .filter(training_courses::id.eq(Id(course)))
            .select((training_courses::kind, training_courses::validity_months))
            .first(conn)
            .optional()?;
        let (kind, months) =
            found.ok_or_else(|| CoreError::bad_input("courseId", "no such course"))?;
        let exists: i64 = people::table
            .filter(people::id.eq(Id(person)))
            .count()
            .get_result(conn)?;
        if exists == 0 {
            return Err(CoreError::bad_input("personId", "no such person"));
        }
        let expires_on = if months > 0 {
            completed_on.checked_add_months(Months::new(months.unsigned_abs()))
        } else {
            None
        };
        let id = new_id();
        diesel::insert_into(training_completions::table)
            .values((
                training_completions::id.eq(Id(id)),
                training_completions::person_id.eq(Id(person)),
                training_completions::course_id.eq(Id(course)),
                training_completions::completed_on.eq(completed_on),
                training_completions::expires_on.eq(expires_on),
                training_completions::created_at.eq(time::now()),
            ))
            .execute(conn)?;
        if matches!(kind, CourseKind::PeerSupport | CourseKind::Refresher) {
            let current: Option<(Option<NaiveDate>, Option<NaiveDate>)> = peer_supporters::table
                .filter(peer_supporters::person_id.eq(Id(person)))
                .select((
                    peer_supporters::trained_on,
                    peer_supporters::training_expires_on,
                ))
                .first(conn)
                .optional()?;
            // Only ever extends: an older record entered late does not shorten current training.
            if let Some((trained_on, _)) = current
                && trained_on.is_none_or(|t| t <= completed_on)
            {
                diesel::update(
                    peer_supporters::table.filter(peer_supporters::person_id.eq(Id(person))),
                )
                .set((
                    peer_supporters::trained_on.eq(Some(completed_on)),
                    peer_supporters::training_expires_on.eq(expires_on),
                    peer_supporters::training_reminder_for.eq(None::<NaiveDate>),
                    peer_supporters::updated_at.eq(time::now()),
                ))
                .execute(conn)?;
            }
        }
        Ok(Completion {
            id,
            person_id: person,
            course_id: course,
            completed_on,
            expires_on,
        })
    })
    .await
}

/// Which fields a trainer may publish.
pub const PUBLISHABLE: [&str; 6] = [
    "credentials",
    "organization",
    "topics",
    "formats",
    "regions",
    "contact",
];

#[derive(Debug, Clone)]
pub struct TrainerInput {
    pub display_name: String,
    pub credentials: Option<String>,
    pub organization: Option<String>,
    pub topics: Vec<String>,
    pub formats: Vec<String>,
    pub regions: Vec<String>,
    pub contact: Option<String>,
    /// The fields the trainer chose to publish (from [`PUBLISHABLE`]); the name is always shown.
    pub published_fields: Vec<String>,
    /// The trainer agreed to be listed. Without it, they are not listed at all.
    pub consented: bool,
}

/// A directory entry as the public sees it: unpublished fields are absent.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct TrainerListing {
    pub id: Uuid,
    pub display_name: String,
    pub credentials: Option<String>,
    pub organization: Option<String>,
    pub topics: Option<Vec<String>>,
    pub formats: Option<Vec<String>>,
    pub regions: Option<Vec<String>>,
    pub contact: Option<String>,
}

fn list_field(field: &str, values: &[String]) -> Result<Vec<String>, CoreError> {
    if values.len() > 20 {
        return Err(CoreError::bad_input(field, "at most 20 entries"));
    }
    values
        .iter()
        .map(|v| validate::line(field, v, 80))
        .collect()
}

pub async fn upsert_trainer(
    db: &Db,
    who: &Principal,
    id: Option<Uuid>,
    t: TrainerInput,
) -> Result<Uuid, CoreError> {
    authorize(who, Operation::ManageSupporters)?;
    let name = validate::line("displayName", &t.display_name, 120)?;
    let credentials = validate::optional_line("credentials", t.credentials.as_deref(), 200)?;
    let organization = validate::optional_line("organization", t.organization.as_deref(), 200)?;
    let contact = validate::optional_line("contact", t.contact.as_deref(), 200)?;
    if let Some(bad) = t
        .published_fields
        .iter()
        .find(|f| !PUBLISHABLE.contains(&f.as_str()))
    {
        return Err(CoreError::bad_input(
            "publishedFields",
            format!(
                "{bad:?} is not a field; choose from {}",
                PUBLISHABLE.join(", ")
            ),
        ));
    }
    let (topics, formats, regions) = (
        list_field("topics", &t.topics)?,
        list_field("formats", &t.formats)?,
        list_field("regions", &t.regions)?,
    );
    db.transaction(move |conn| {
        let now = time::now();
        let values = (
            trainers::display_name.eq(&name),
            trainers::credentials.eq(&credentials),
            trainers::organization.eq(&organization),
            trainers::topics.eq(to_json(&topics)?),
            trainers::formats.eq(to_json(&formats)?),
            trainers::regions.eq(to_json(&regions)?),
            trainers::contact.eq(&contact),
            trainers::published_fields.eq(to_json(&t.published_fields)?),
            trainers::consented.eq(t.consented),
            trainers::updated_at.eq(now),
        );
        match id {
            Some(id) => {
                let changed = diesel::update(trainers::table.filter(trainers::id.eq(Id(id))))
                    .set(values)
                    .execute(conn)?;
                if changed == 0 {
                    return Err(CoreError::NotFound("trainer"));
                }
                trainer_to_feed(conn, id)?;
                Ok(id)
            }
            None => {
                let id = new_id();
                diesel::insert_into(trainers::table)
                    .values((
                        trainers::id.eq(Id(id)),
                        trainers::created_at.eq(now),
                        values,
                    ))
                    .execute(conn)?;
                trainer_to_feed(conn, id)?;
                Ok(id)
            }
        }
    })
    .await
}

type TrainerRow = (
    Uuid,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    Option<String>,
    String,
    bool,
    NaiveDateTime,
    NaiveDateTime,
);

/// The public directory: consented trainers only, published fields only.
pub async fn directory(db: &Db, who: &Principal) -> Result<Vec<TrainerListing>, CoreError> {
    authorize(who, Operation::ViewResources)?;
    db.run(|conn| {
        let rows: Vec<TrainerRow> = trainers::table
            .filter(trainers::consented.eq(true))
            .order(trainers::display_name.asc())
            .load(conn)?;
        rows.into_iter().map(listing).collect()
    })
    .await
}

/// A trainer's entry with only the fields they chose to publish.
fn listing(r: TrainerRow) -> Result<TrainerListing, CoreError> {
    let published: Vec<String> = from_json(&r.8)?;
    let show = |f: &str| published.iter().any(|p| p == f);
    let list = |json: &str, field: &str| -> Result<Option<Vec<String>>, CoreError> {
        if show(field) {
            Ok(Some(from_json(json)?))
        } else {
            Ok(None)
        }
    };
    Ok(TrainerListing {
        id: r.0,
        display_name: r.1,
        credentials: r.2.filter(|_| show("credentials")),
        organization: r.3.filter(|_| show("organization")),
        topics: list(&r.4, "topics")?,
        formats: list(&r.5, "formats")?,
        regions: list(&r.6, "regions")?,
        contact: r.7.filter(|_| show("contact")),
    })
}

/// Publishes a consented trainer's entry to the federation feed, or withdraws it.
fn trainer_to_feed(conn: &mut DbConnection, id: Uuid) -> Result<(), CoreError> {
    let row: TrainerRow = trainers::table
        .filter(trainers::id.eq(Id(id)))
        .first(conn)?;
    if row.9 {
        let entry = Shareable::new(listing(row)?).map_err(|f| deid::refusal(&f))?;
        feed::publish(conn, FeedKind::Trainer, id, &entry)
    } else {
        feed::withdraw(conn, FeedKind::Trainer, id)
    }
}

/// The name and the contact are what the trainer consented to publish in a directory; the gate
/// inspects everything else.
impl Inspect for TrainerListing {
    fn texts(&self) -> Vec<(&'static str, &str)> {
        let mut t = Vec::new();
        if let Some(c) = &self.credentials {
            t.push(("credentials", c.as_str()));
        }
        if let Some(o) = &self.organization {
            t.push(("organization", o.as_str()));
        }
        for (field, values) in [
            ("topics", &self.topics),
            ("formats", &self.formats),
            ("regions", &self.regions),
        ] {
            t.extend(values.iter().flatten().map(|v| (field, v.as_str())));
        }
        t
    }
}
