//! The GraphQL API: schema, limits, and the mapping of every error to a stable code.

mod documents;
mod enums;
pub mod errors;
mod federation;
pub mod ids;
mod library;
mod loaders;
mod mutation;
mod notifications;
mod oncall;
mod plain;
mod query;
mod scalars;
mod spans;
mod support;
mod training;
mod types;

use std::sync::Arc;

use alongside_core::ErrorCode;
use alongside_core::access::Principal;
use alongside_core::db::Db;
use alongside_core::tokens::TokenService;
use async_graphql::dataloader::DataLoader;
use async_graphql::{EmptySubscription, Request, Response, Schema, ServerError};

use crate::config::Limits;
use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct QueryRoot(
    query::NodeQuery,
    support::SupportQuery,
    notifications::NotificationsQuery,
    library::LibraryQuery,
    training::TrainingQuery,
    federation::FederationQuery,
    oncall::OnCallQuery,
);

#[derive(MergedObject, Default)]
pub struct MutationRoot(
    mutation::NodeMutation,
    support::SupportMutation,
    notifications::NotificationsMutation,
    library::LibraryMutation,
    training::TrainingMutation,
    federation::FederationMutation,
    oncall::OnCallMutation,
);

pub type AppSchema = Schema<QueryRoot, MutationRoot, EmptySubscription>;

/// Builds the schema with explicit limits. `db` and `tokens` are absent only when printing the
/// SDL.
pub fn build_schema(
    limits: &Limits,
    development: bool,
    db: Option<Db>,
    tokens: Option<Arc<TokenService>>,
    config: Option<crate::config::Config>,
    federation: Option<Arc<alongside_federation::Federation>>,
) -> AppSchema {
    let mut builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        EmptySubscription,
    )
    .limit_depth(limits.graphql_depth)
    .limit_complexity(limits.graphql_complexity)
    .limit_recursive_depth(limits.graphql_recursive_depth)
    .limit_directives(limits.graphql_directives);
    // No extensions: `plain` answers lists of plain objects without resolving field by field,
    // which an extension watching each field would miss.
    if !development {
        builder = builder.disable_suggestions();
        if !limits.graphql_introspection {
            builder = builder.disable_introspection();
        }
    }
    if let Some(db) = db {
        builder = builder.data(db);
    }
    if let Some(tokens) = tokens {
        builder = builder.data(tokens);
    }
    if let Some(config) = config {
        builder = builder.data(config);
    }
    if let Some(federation) = federation {
        builder = builder.data(federation);
    }
    builder.finish()
}

/// The SDL, as `alongside schema` prints it and `docs/schema.graphql` keeps it.
pub fn sdl() -> String {
    build_schema(&Limits::default(), false, None, None, None, None).sdl()
}

/// A request's response, with the lists it wrote straight as JSON (`plain`): write it with
/// [`Answer::write_json`], which puts them in their places.
pub struct Answer {
    pub response: Response,
    written: plain::Written,
}

impl Answer {
    /// The whole response as JSON, appended to `body`. Once: the lists' texts move into it.
    pub fn write_json(&self, body: &mut Vec<u8>) -> serde_json::Result<()> {
        self.written.write_response(&self.response, body)
    }

    /// The response's data as a JSON value (instead of [`Answer::write_json`]).
    pub fn data_json(&self) -> serde_json::Result<serde_json::Value> {
        let mut body = Vec::new();
        self.write_json(&mut body)?;
        let mut whole: serde_json::Value = serde_json::from_slice(&body)?;
        Ok(whole
            .get_mut("data")
            .map(serde_json::Value::take)
            .unwrap_or_default())
    }
}

/// Runs one request as `principal`, with per-request DataLoaders.
pub async fn execute(
    schema: &AppSchema,
    db: &Db,
    limits: &Limits,
    principal: Principal,
    request: Request,
) -> Answer {
    let people = DataLoader::new(
        loaders::PersonLoader {
            db: db.clone(),
            principal: principal.clone(),
        },
        tokio::spawn,
    );
    let supporters = DataLoader::new(
        loaders::SupporterLoader {
            db: db.clone(),
            principal: principal.clone(),
        },
        tokio::spawn,
    );
    let written = plain::Written::default();
    let mut request = request
        .data(principal)
        .data(people)
        .data(supporters)
        .data(written.clone());
    documents::prepare(&mut request);
    let mut response = match spans::use_case(&mut request) {
        Some(operation) => {
            use tracing::Instrument;
            let span = tracing::info_span!("use case", operation = %operation);
            schema.execute(request).instrument(span).await
        }
        None => schema.execute(request).await,
    };
    for error in &mut response.errors {
        classify(error, limits);
    }
    Answer { response, written }
}

/// Gives every error a code. Resolver errors already carry one; what is left comes from parsing
/// and validation, which are either a limit (named in the message) or bad input.
fn classify(error: &mut ServerError, limits: &Limits) {
    let has_code = error
        .extensions
        .as_ref()
        .is_some_and(|e| e.get("code").is_some());
    if has_code {
        return;
    }
    let limit = if error.message.contains("too complex") {
        Some(format!(
            "The query is too complex: its cost is over the limit of {} (limits.graphql_complexity). \
             Ask for fewer items (first/last) or fewer fields.",
            limits.graphql_complexity
        ))
    } else if error.message.contains("nested too deep") {
        Some(format!(
            "The query is nested too deep: at most {} levels (limits.graphql_depth).",
            limits.graphql_depth
        ))
    } else if error.message.contains("recursion depth") {
        Some(format!(
            "The query is nested too deep: recursion depth over {} (limits.graphql_recursive_depth).",
            limits.graphql_recursive_depth
        ))
    } else if error.message.contains("directives") {
        Some(format!(
            "Too many directives on one field: at most {} (limits.graphql_directives).",
            limits.graphql_directives
        ))
    } else {
        None
    };
    let code = match limit {
        Some(message) => {
            error.message = message;
            ErrorCode::LimitExceeded
        }
        None => ErrorCode::BadUserInput,
    };
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code.as_str());
}
