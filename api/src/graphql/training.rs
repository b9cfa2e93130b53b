//! Training courses, completions and the trainer directory over GraphQL.

use alongside_core::training::{self, TrainerInput, TrainerListing};
use async_graphql::{Context, Enum, ID, InputObject, Object, Result};

use super::errors::GqlResult;
use super::ids;
use super::query::caller;
use super::scalars::Date;

const COURSE: &str = "TrainingCourse";
const TRAINER: &str = "Trainer";

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "alongside_core::vocab::CourseKind")]
pub enum CourseKind {
    PeerSupport,
    Simulation,
    DisclosureCoaching,
    LitigationSupport,
    Refresher,
}

pub struct TrainingCourse(pub training::Course);

#[Object]
impl TrainingCourse {
    async fn id(&self) -> ID {
        ids::encode(COURSE, self.0.id)
    }
    async fn kind(&self) -> CourseKind {
        self.0.kind.into()
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    /// Months a completion stays valid; 0 means it does not expire.
    async fn validity_months(&self) -> i32 {
        self.0.validity_months
    }
}

pub struct Trainer(pub TrainerListing);

/// A trainer in the directory: only the fields they chose to publish are ever shown.
#[Object]
impl Trainer {
    async fn id(&self) -> ID {
        ids::encode(TRAINER, self.0.id)
    }
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    async fn credentials(&self) -> Option<&str> {
        self.0.credentials.as_deref()
    }
    async fn organization(&self) -> Option<&str> {
        self.0.organization.as_deref()
    }
    async fn topics(&self) -> Option<&[String]> {
        self.0.topics.as_deref()
    }
    async fn formats(&self) -> Option<&[String]> {
        self.0.formats.as_deref()
    }
    async fn regions(&self) -> Option<&[String]> {
        self.0.regions.as_deref()
    }
    async fn contact(&self) -> Option<&str> {
        self.0.contact.as_deref()
    }
}

#[derive(InputObject)]
pub struct TrainerInputGql {
    pub display_name: String,
    pub credentials: Option<String>,
    pub organization: Option<String>,
    #[graphql(default)]
    pub topics: Vec<String>,
    #[graphql(default)]
    pub formats: Vec<String>,
    #[graphql(default)]
    pub regions: Vec<String>,
    pub contact: Option<String>,
    /// Which of credentials, organization, topics, formats, regions, contact to publish.
    #[graphql(default)]
    pub published_fields: Vec<String>,
    /// The trainer agreed to be listed.
    pub consented: bool,
}

#[derive(Default)]
pub struct TrainingQuery;

#[Object]
impl TrainingQuery {
    async fn training_courses(&self, ctx: &Context<'_>) -> Result<Vec<TrainingCourse>> {
        let (db, who) = caller(ctx)?;
        Ok(training::courses(db, who)
            .await
            .gql()?
            .into_iter()
            .map(TrainingCourse)
            .collect())
    }

    /// The trainer directory: trainers who consented, with the fields they published.
    async fn trainers(&self, ctx: &Context<'_>) -> Result<Vec<Trainer>> {
        let (db, who) = caller(ctx)?;
        Ok(training::directory(db, who)
            .await
            .gql()?
            .into_iter()
            .map(Trainer)
            .collect())
    }
}

#[derive(Default)]
pub struct TrainingMutation;

#[Object]
impl TrainingMutation {
    /// Coordinators and admins.
    async fn create_training_course(
        &self,
        ctx: &Context<'_>,
        kind: CourseKind,
        title: String,
        validity_months: i32,
    ) -> Result<TrainingCourse> {
        let (db, who) = caller(ctx)?;
        training::create_course(db, who, kind.into(), title, validity_months)
            .await
            .map(TrainingCourse)
            .gql()
    }

    /// Coordinators and admins. Returns the session's id.
    async fn schedule_training_session(
        &self,
        ctx: &Context<'_>,
        course_id: ID,
        starts_on: Date,
        format: String,
    ) -> Result<ID> {
        let (db, who) = caller(ctx)?;
        let course = ids::decode(COURSE, "courseId", &course_id).gql()?;
        let id = training::schedule_session(db, who, course, starts_on.0, format)
            .await
            .gql()?;
        Ok(ids::encode("TrainingSession", id))
    }

    /// Records a completion; a peer support course or refresher keeps the person's supporter
    /// training dates current. Returns when it expires, if it does.
    async fn record_training_completion(
        &self,
        ctx: &Context<'_>,
        person_id: ID,
        course_id: ID,
        completed_on: Date,
    ) -> Result<Option<Date>> {
        let (db, who) = caller(ctx)?;
        let person = ids::decode(ids::PERSON, "personId", &person_id).gql()?;
        let course = ids::decode(COURSE, "courseId", &course_id).gql()?;
        let c = training::record_completion(db, who, person, course, completed_on.0)
            .await
            .gql()?;
        Ok(c.expires_on.map(Date))
    }

    /// Adds a trainer (no id) or replaces one. Coordinators and admins.
    async fn upsert_trainer(
        &self,
        ctx: &Context<'_>,
        id: Option<ID>,
        input: TrainerInputGql,
    ) -> Result<ID> {
        let (db, who) = caller(ctx)?;
        let id = id
            .map(|i| ids::decode(TRAINER, "id", &i))
            .transpose()
            .gql()?;
        let input = TrainerInput {
            display_name: input.display_name,
            credentials: input.credentials,
            organization: input.organization,
            topics: input.topics,
            formats: input.formats,
            regions: input.regions,
            contact: input.contact,
            published_fields: input.published_fields,
            consented: input.consented,
        };
        let id = training::upsert_trainer(db, who, id, input).await.gql()?;
        Ok(ids::encode(TRAINER, id))
    }
}
