//! A tracing span for each use case a GraphQL request runs (each root field), so a trace shows
//! which operation a slow or failing request was doing. Nested fields get none: they are many
//! and cheap, and their database calls have spans of their own.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo,
};
use async_graphql::{ServerResult, Value};
use tracing::Instrument;

pub struct UseCaseSpans;

impl ExtensionFactory for UseCaseSpans {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(UseCaseSpan)
    }
}

struct UseCaseSpan;

#[async_trait::async_trait]
impl Extension for UseCaseSpan {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        if info.path_node.parent.is_some() || info.is_for_introspection {
            return next.run(ctx, info).await;
        }
        let span = tracing::info_span!(
            "use case",
            operation = %format_args!("{}.{}", info.parent_type, info.name)
        );
        next.run(ctx, info).instrument(span).await
    }
}
