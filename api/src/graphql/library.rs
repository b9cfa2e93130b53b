//! The resource library over GraphQL.

use alongside_core::resources::{self, Resource as CoreResource, ResourceInput};
use async_graphql::parser::types::Field;
use async_graphql::{Context, Enum, ID, InputObject, Object, Result};
use chrono::{DateTime, Utc};

use super::enums::Profession;
use super::errors::GqlResult;
use super::ids;
use super::plain::{self, Plain, PlainConnection};
use super::query::{caller, page_cost, page_request, words_for};
use super::types::plain_connection;

const RESOURCE: &str = "Resource";

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "alongside_core::vocab::ResourceKind")]
pub enum ResourceKind {
    Toolkit,
    GuidanceCard,
    PolicyTemplate,
    Article,
    VideoLink,
    TrainingMaterial,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "alongside_core::vocab::Sharing")]
pub enum Sharing {
    Local,
    Federation,
}

pub struct Resource(pub CoreResource);

/// A toolkit, guidance card, policy template, article, video link or training material.
#[Object]
impl Resource {
    async fn id(&self) -> ID {
        ids::encode(RESOURCE, self.0.id)
    }
    async fn kind(&self) -> ResourceKind {
        self.0.kind.into()
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn summary(&self) -> &str {
        &self.0.summary
    }
    async fn body(&self) -> Option<&str> {
        self.0.body.as_deref()
    }
    async fn link(&self) -> Option<&str> {
        self.0.link.as_deref()
    }
    async fn tags(&self) -> &[String] {
        &self.0.tags
    }
    /// Professions it is written for; empty means everyone.
    async fn audience(&self) -> Vec<Profession> {
        self.0.audience.iter().map(|p| (*p).into()).collect()
    }
    async fn jurisdiction(&self) -> Option<&str> {
        self.0.jurisdiction.as_deref()
    }
    async fn licence(&self) -> &str {
        &self.0.licence
    }
    /// LOCAL, or FEDERATION (passed the de-identification gate).
    async fn sharing(&self) -> Sharing {
        self.0.sharing.into()
    }
    /// Ships with Alongside; cannot be edited or deleted.
    async fn built_in(&self) -> bool {
        self.0.built_in.is_some()
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at.and_utc()
    }
}

// Every field above is a value the resource holds, so a list of them is answered in one pass
// (`plain`); a test (tests/e2e/library.rs) asks for each both ways.
impl Plain for Resource {
    fn plain_field(&self, field: &Field, out: &mut Vec<u8>) -> Option<()> {
        let r = &self.0;
        match field.name.node.as_str() {
            "id" => {
                ids::write_json(RESOURCE, r.id, out);
                Some(())
            }
            "kind" => plain::enum_name(out, ResourceKind::from(r.kind)),
            "title" => plain::json(out, &r.title),
            "summary" => plain::json(out, &r.summary),
            "body" => plain::json(out, &r.body),
            "link" => plain::json(out, &r.link),
            "tags" => plain::json(out, &r.tags),
            "audience" => plain::enum_names(out, r.audience.iter().map(|p| Profession::from(*p))),
            "jurisdiction" => plain::json(out, &r.jurisdiction),
            "licence" => plain::json(out, &r.licence),
            "sharing" => plain::enum_name(out, Sharing::from(r.sharing)),
            "builtIn" => plain::json(out, &r.built_in.is_some()),
            "updatedAt" => plain::scalar(out, &r.updated_at.and_utc()),
            _ => None,
        }
    }
}

#[derive(InputObject)]
pub struct ResourceInputGql {
    pub kind: ResourceKind,
    pub title: String,
    pub summary: String,
    pub body: Option<String>,
    pub link: Option<String>,
    #[graphql(default)]
    pub tags: Vec<String>,
    #[graphql(default)]
    pub audience: Vec<Profession>,
    pub jurisdiction: Option<String>,
    pub licence: String,
    /// FEDERATION shares it with other institutions, once it passes the de-identification gate.
    #[graphql(default_with = "Sharing::Local")]
    pub sharing: Sharing,
}

impl From<ResourceInputGql> for ResourceInput {
    fn from(i: ResourceInputGql) -> Self {
        Self {
            kind: i.kind.into(),
            title: i.title,
            summary: i.summary,
            body: i.body,
            link: i.link,
            tags: i.tags,
            audience: i.audience.into_iter().map(Into::into).collect(),
            jurisdiction: i.jurisdiction,
            licence: i.licence,
            sharing: i.sharing.into(),
        }
    }
}

#[derive(Default)]
pub struct LibraryQuery;

#[Object]
impl LibraryQuery {
    /// The readiness self-assessment's domains and questions, in the caller's language (their
    /// profile's, then `Accept-Language`, then the node's default).
    async fn readiness_questions(
        &self,
        ctx: &Context<'_>,
    ) -> Result<async_graphql::Json<Vec<alongside_core::readiness::DomainText>>> {
        let (words, locale) = words_for(ctx).await?;
        Ok(async_graphql::Json(alongside_core::readiness::domains_in(
            words, locale,
        )))
    }

    /// Past readiness assessments, newest first, their titles and next steps in the caller's
    /// language. Coordinators, admins, analysts.
    async fn readiness_history(
        &self,
        ctx: &Context<'_>,
    ) -> Result<async_graphql::Json<Vec<alongside_core::readiness::Assessment>>> {
        let (db, who) = caller(ctx)?;
        let (words, locale) = words_for(ctx).await?;
        alongside_core::readiness::history(db, who, words, locale)
            .await
            .map(async_graphql::Json)
            .gql()
    }

    /// The resource library: search by text and tags (all must match). Readable without signing
    /// in. The built-in guidance cards read in the caller's language (profile, then
    /// `Accept-Language`, then the node's default), and text search matches them in it.
    #[graphql(complexity = "page_cost(first, None, child_complexity)")]
    async fn resources(
        &self,
        ctx: &Context<'_>,
        text: Option<String>,
        #[graphql(default)] tags: Vec<String>,
        after: Option<String>,
        first: Option<i32>,
    ) -> Result<PlainConnection<Resource>> {
        let (db, who) = caller(ctx)?;
        let page = page_request(RESOURCE, after, None, first, None).gql()?;
        let (words, locale) = words_for(ctx).await?;
        let page = resources::search(db, who, text, tags, page, words, locale)
            .await
            .gql()?;
        Ok(plain_connection(page, RESOURCE, |r| r.id, Resource))
    }

    /// One resource; a built-in guidance card in the caller's language.
    async fn resource(&self, ctx: &Context<'_>, id: ID) -> Result<Resource> {
        let (db, who) = caller(ctx)?;
        let uuid = ids::decode(RESOURCE, "id", &id).gql()?;
        let (words, locale) = words_for(ctx).await?;
        resources::get(db, who, uuid, words, locale)
            .await
            .map(Resource)
            .gql()
    }
}

#[derive(Default)]
pub struct LibraryMutation;

#[Object]
impl LibraryMutation {
    /// Records a readiness self-assessment: every question answered 0 (not in place), 1 (partly)
    /// or 2 (fully). Returns scores per domain and next steps. Coordinators and admins.
    async fn submit_readiness_assessment(
        &self,
        ctx: &Context<'_>,
        answers: async_graphql::Json<std::collections::BTreeMap<String, u8>>,
        #[graphql(default)] share_with_steward: bool,
    ) -> Result<async_graphql::Json<alongside_core::readiness::Assessment>> {
        let (db, who) = caller(ctx)?;
        let (words, locale) = words_for(ctx).await?;
        alongside_core::readiness::submit(db, who, answers.0, share_with_steward, words, locale)
            .await
            .map(async_graphql::Json)
            .gql()
    }

    /// Coordinators and admins.
    async fn create_resource(
        &self,
        ctx: &Context<'_>,
        input: ResourceInputGql,
    ) -> Result<Resource> {
        let (db, who) = caller(ctx)?;
        resources::create(db, who, input.into())
            .await
            .map(Resource)
            .gql()
    }

    /// Coordinators and admins; built-in cards cannot be edited.
    async fn update_resource(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ResourceInputGql,
    ) -> Result<Resource> {
        let (db, who) = caller(ctx)?;
        let uuid = ids::decode(RESOURCE, "id", &id).gql()?;
        resources::update(db, who, uuid, input.into())
            .await
            .map(Resource)
            .gql()
    }

    /// Coordinators and admins; built-in cards cannot be deleted.
    async fn delete_resource(&self, ctx: &Context<'_>, id: ID) -> Result<bool> {
        let (db, who) = caller(ctx)?;
        let uuid = ids::decode(RESOURCE, "id", &id).gql()?;
        resources::delete(db, who, uuid).await.gql()?;
        Ok(true)
    }
}
