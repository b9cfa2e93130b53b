//! A tracing span for the use case a GraphQL request runs (its root fields), so a trace shows
//! which operation a slow or failing request was doing. Nested fields get none: they are many
//! and cheap, and their database calls have spans of their own.
//!
//! The span is made once per request, from the document async-graphql parses anyway (parsed
//! here and handed on), not by a schema extension: any extension sends every field of every
//! answer through async-graphql's boxed extension chain instead of its direct path, which cost
//! about a tenth of the node's CPU time on a 20-row list (docs/performance.md).

use async_graphql::Request;
use async_graphql::parser::types::{DocumentOperations, OperationType, Selection};

/// `QueryRoot.peerSupporters`, `MutationRoot.findOutsidePeers`: the operation's type and its
/// root fields (comma-separated when several; introspection fields left out). `None` when the
/// document does not parse (the executor then names the error) or names no such operation.
pub fn use_case(request: &mut Request) -> Option<String> {
    let wanted = request.operation_name.clone();
    let doc = request.parsed_query().ok()?;
    let operation = match (&doc.operations, wanted.as_deref()) {
        (DocumentOperations::Single(op), _) => op,
        (DocumentOperations::Multiple(ops), Some(name)) => ops
            .iter()
            .find(|(n, _)| n.as_str() == name)
            .map(|(_, op)| op)?,
        (DocumentOperations::Multiple(ops), None) => ops.values().next()?,
    };
    let root = match operation.node.ty {
        OperationType::Query => "QueryRoot",
        OperationType::Mutation => "MutationRoot",
        OperationType::Subscription => "SubscriptionRoot",
    };
    let fields: Vec<&str> = operation
        .node
        .selection_set
        .node
        .items
        .iter()
        .filter_map(|item| match &item.node {
            Selection::Field(f) => Some(f.node.name.node.as_str()),
            _ => None,
        })
        .filter(|name| !name.starts_with("__"))
        .collect();
    if fields.is_empty() {
        return None;
    }
    Some(format!("{root}.{}", fields.join(",")))
}
