//! POST /graphql with `application/json` only. async-graphql's own actix integration would also
//! run `text/plain` POSTs (which browsers send cross-site without a preflight) and mutations
//! over GET, and would not cap the body; this handler does none of that.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::ErrorCode;
use alongside_core::i18n::{Catalogue, Locale};
use async_graphql::http::GraphiQLSource;
use serde_json::{Value, json};

use super::body;
use super::language::{Caller, Language};
use super::problem::Problem;
use crate::graphql;
use crate::node::AppState;

/// An error before execution, shaped as a GraphQL response so clients parse one format.
fn request_error(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> HttpResponse {
    HttpResponse::build(status).json(json!({
        "errors": [{ "message": message.into(), "extensions": { "code": code.as_str() } }]
    }))
}

/// What a GraphQL sign-in mutation checks before trying a password or token.
pub struct SignInGate {
    guard: std::sync::Arc<super::guard::Guard>,
    address: String,
}

impl SignInGate {
    pub fn check(&self) -> Result<(), alongside_core::CoreError> {
        self.guard.sign_in_attempt(&self.address)
    }
}

/// Reads a persisted-query allow-list, refusing a file whose hashes do not match their texts.
pub fn load_allow_list(
    path: &std::path::Path,
) -> anyhow::Result<std::collections::HashMap<String, String>> {
    use anyhow::Context as _;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read limits.persisted_queries {}", path.display()))?;
    let list: std::collections::HashMap<String, String> = serde_json::from_str(&text)
        .with_context(|| {
            format!(
                "{} must be a JSON object mapping SHA-256 hex to query text",
                path.display()
            )
        })?;
    if let Some((hash, _)) = list
        .iter()
        .find(|(h, q)| **h != alongside_core::secrets::sha256_hex(q))
    {
        anyhow::bail!(
            "{}: {hash} is not the SHA-256 of its query text",
            path.display()
        );
    }
    Ok(list)
}

/// Applies the allow-list: fills in the text of a hash-only request; anything else gets the
/// refusal returned.
fn refused_by_allow_list(
    value: &mut Value,
    list: &std::collections::HashMap<String, String>,
) -> Option<HttpResponse> {
    let sent_hash = value
        .pointer("/extensions/persistedQuery/sha256Hash")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let query = value
        .get("query")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let hash = match (&query, &sent_hash) {
        (Some(q), _) => alongside_core::secrets::sha256_hex(q),
        (None, Some(h)) => h.clone(),
        (None, None) => String::new(),
    };
    let allowed = list.get(&hash).is_some() && sent_hash.as_ref().is_none_or(|h| *h == hash);
    if !allowed {
        return Some(HttpResponse::BadRequest().json(json!({
            "errors": [{
                "message": "this node runs only the queries on its allow-list (limits.persisted_queries); send a listed document or its extensions.persistedQuery.sha256Hash",
                "extensions": { "code": "QUERY_NOT_ALLOWED" }
            }]
        })));
    }
    if query.is_none()
        && let (Some(obj), Some(text)) = (value.as_object_mut(), list.get(&hash))
    {
        obj.insert("query".into(), Value::String(text.clone()));
    }
    None
}

/// A refusal from the shared HTTP layer (body, content type, credentials), with its own code
/// and, when it is temporary (database down, node busy), the time to retry.
pub(crate) fn from_problem(problem: Problem) -> HttpResponse {
    use actix_web::ResponseError;
    let mut extensions = json!({ "code": problem.code().as_str() });
    if let Some(secs) = problem.retry_after() {
        extensions["retryAfter"] = json!(secs);
    }
    if let Some(english) = problem.english_detail() {
        extensions["englishDetail"] = json!(english);
    }
    let mut answer = HttpResponse::build(problem.status_code());
    if let Some(secs) = problem.retry_after() {
        answer.insert_header(("Retry-After", secs.max(1).to_string()));
    }
    answer.json(json!({
        "errors": [{ "message": problem.detail(), "extensions": extensions }]
    }))
}

/// An error of the executed request in the caller's language (`language`): the message a person
/// reads, from the catalogue for its code (and field), with the English message kept in
/// `extensions.englishDetail`. The code stays as it is.
fn in_language(error: &mut async_graphql::ServerError, words: &Catalogue, locale: Locale) {
    let extensions = error.extensions.get_or_insert_with(Default::default);
    let text = |name: &str| match extensions.get(name) {
        Some(async_graphql::Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    let Some(code) = text("code").as_deref().and_then(ErrorCode::parse) else {
        return;
    };
    let human = code.human_message(words, locale, text("field").as_deref());
    let english = std::mem::replace(&mut error.message, human);
    extensions.set("englishDetail", english);
}

pub async fn post(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> HttpResponse {
    if !body::has_content_type(&req, "application/json") {
        return from_problem(body::wrong_content_type("application/json"));
    }
    let bytes = match body::read(&req, payload, state.config.limits.body_bytes).await {
        Ok(b) => b,
        Err(p) => return from_problem(p),
    };
    let mut value: Value = match serde_json::from_slice(&bytes) {
        Ok(v) => v,
        Err(e) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                format!("the body is not valid JSON: {e}"),
            );
        }
    };
    if let Some(list) = &state.persisted
        && !value.is_array()
        && let Some(refused) = refused_by_allow_list(&mut value, list)
    {
        return refused;
    }
    if !value.is_array() && !value.get("query").is_some_and(Value::is_string) {
        return request_error(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "the body is not a GraphQL request: send {\"query\": \"...\", \"variables\": {...}}",
        );
    }
    if value.is_array() {
        return request_error(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadUserInput,
            "batched requests are not accepted; send one operation per request",
        );
    }
    let request: async_graphql::Request = match serde_json::from_value(value) {
        Ok(r) => r,
        Err(e) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                ErrorCode::BadUserInput,
                format!(
                    "the body is not a GraphQL request ({{\"query\": ..., \"variables\": ...}}): {e}"
                ),
            );
        }
    };
    if let Some(over) = too_many_fields(&request.query, state.config.limits.graphql_fields) {
        return request_error(
            StatusCode::OK,
            ErrorCode::LimitExceeded,
            format!(
                "the document selects more than {} fields, aliases and __typename included (limits.graphql_fields); it has at least {over}",
                state.config.limits.graphql_fields
            ),
        );
    }
    let language = Language::of(req.headers(), state.catalogue);
    let principal = match super::principal_of(&req, &state).await {
        Ok(p) => p,
        Err(p) => return from_problem(p.in_language(language.words, language.accepted())),
    };
    let caller = Caller::of(&principal);
    // Sign-in mutations count against the same per-address allowance as the REST routes.
    let request = request.data(language).data(SignInGate {
        guard: state.guard.clone(),
        address: state.guard.address_of(req.headers(), req.peer_addr()),
    });
    // The caller's trace context, carried on to any federation call this request makes.
    let request = match req
        .headers()
        .get("traceparent")
        .and_then(|v| v.to_str().ok())
    {
        Some(t) => request.data(super::TraceParent(t.to_owned())),
        None => request,
    };
    let operation = request.operation_name.clone().or_else(|| {
        if is_anonymous(&request.query) {
            return None;
        }
        // The name written in the document, when the client did not send one separately.
        async_graphql::parser::parse_query(&request.query)
            .ok()
            .and_then(|doc| match doc.operations {
                async_graphql::parser::types::DocumentOperations::Single(_) => None,
                async_graphql::parser::types::DocumentOperations::Multiple(ops) => {
                    ops.keys().next().map(|n| n.to_string())
                }
            })
    });
    state.metrics.graphql_operation(operation.as_deref());
    let mut answer = graphql::execute(
        &state.schema,
        &state.db,
        &state.config.limits,
        principal,
        request,
    )
    .await;
    let response = &mut answer.response;
    // A message may quote what the caller sent (a bad value, a piece of the query): never
    // more than a line of it.
    for e in &mut response.errors {
        clip(&mut e.message);
    }
    if !response.errors.is_empty()
        && let Some(locale) = language.known_for(&state.db, caller).await
        && locale != Locale::En
    {
        for e in &mut response.errors {
            in_language(e, language.words, locale);
        }
    }
    let mut retry_after: Option<u64> = None;
    for e in &response.errors {
        let code = e
            .extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .map(|c| c.to_string().trim_matches('"').to_owned())
            .unwrap_or_else(|| "UNKNOWN".into());
        state.metrics.graphql_error(&code);
        if let Some(async_graphql::Value::Number(n)) =
            e.extensions.as_ref().and_then(|x| x.get("retryAfter"))
        {
            retry_after = retry_after.max(n.as_u64());
        }
    }
    // GraphQL answers 200 with the errors in the body; the header tells clients and proxies
    // that only read headers when to try again (rate limited, database down, node busy).
    let mut ok = HttpResponse::Ok();
    if let Some(secs) = retry_after {
        ok.insert_header(("Retry-After", secs.max(1).to_string()));
    }
    // Written into a buffer sized for a typical page, rather than grown from empty.
    let mut body = Vec::with_capacity(4096);
    match answer.write_json(&mut body) {
        Ok(()) => ok.content_type("application/json").body(body),
        Err(e) => request_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            format!("the answer could not be written as JSON: {e}"),
        ),
    }
}

/// The longest error message sent back, in characters.
const MESSAGE_CHARS: usize = 300;

fn clip(message: &mut String) {
    if let Some((cut, _)) = message.char_indices().nth(MESSAGE_CHARS) {
        message.truncate(cut);
        message.push('…');
    }
}

/// How many fields a document selects, if more than `max`: every field, alias and `__typename`,
/// a fragment's fields each time it is spread. Without fragments, a document shorter than two
/// characters a field cannot hold that many, so most are not parsed here at all.
fn too_many_fields(query: &str, max: usize) -> Option<usize> {
    use async_graphql::parser::types::{
        DocumentOperations, ExecutableDocument, Selection, SelectionSet,
    };
    if query.len() <= 2 * max && !query.contains("...") {
        return None;
    }
    // Unparsable documents are left to the executor, which names the syntax error.
    let doc = async_graphql::parser::parse_query(query).ok()?;
    fn walk(
        doc: &ExecutableDocument,
        set: &SelectionSet,
        depth: usize,
        count: &mut usize,
        max: usize,
    ) {
        // Deep enough: fragment cycles are refused by validation later; here they only stop.
        if depth > 64 || *count > max {
            return;
        }
        for item in &set.items {
            match &item.node {
                Selection::Field(f) => {
                    *count += 1;
                    walk(doc, &f.node.selection_set.node, depth + 1, count, max);
                }
                Selection::InlineFragment(f) => {
                    walk(doc, &f.node.selection_set.node, depth + 1, count, max);
                }
                Selection::FragmentSpread(s) => {
                    if let Some(fragment) = doc.fragments.get(&s.node.fragment_name.node) {
                        walk(
                            doc,
                            &fragment.node.selection_set.node,
                            depth + 1,
                            count,
                            max,
                        );
                    }
                }
            }
        }
    }
    let mut count = 0;
    let operations: Vec<_> = match &doc.operations {
        DocumentOperations::Single(op) => vec![op],
        DocumentOperations::Multiple(ops) => ops.values().collect(),
    };
    for op in operations {
        walk(&doc, &op.node.selection_set.node, 0, &mut count, max);
    }
    (count > max).then_some(count)
}

/// Whether the document plainly starts with an unnamed operation (`{ ... }`, `query { ... }`,
/// `mutation($x: ...) { ... }`): then there is no name to find, and no need to parse the
/// document a second time to find that out.
fn is_anonymous(query: &str) -> bool {
    let text = query.trim_start();
    if text.starts_with('{') {
        return true;
    }
    ["query", "mutation", "subscription"]
        .iter()
        .filter_map(|keyword| text.strip_prefix(keyword))
        .any(|rest| rest.trim_start().starts_with(['{', '(']))
}

pub async fn wrong_method() -> HttpResponse {
    HttpResponse::MethodNotAllowed()
        .insert_header(("Allow", "POST"))
        .json(json!({
            "errors": [{
                "message": "use POST with Content-Type: application/json for GraphQL",
                "extensions": { "code": ErrorCode::BadUserInput.as_str() }
            }]
        }))
}

pub async fn graphiql() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(GraphiQLSource::build().endpoint("/graphql").finish())
}

#[cfg(test)]
mod tests {
    #[test]
    fn unnamed_operations_are_told_without_parsing() {
        for q in [
            "{ programs { id } }",
            "  query { a }",
            "mutation($id: ID!) { a(id: $id) }",
            "subscription{ a }",
        ] {
            assert!(super::is_anonymous(q), "{q}");
        }
        for q in [
            "query Programs { a }",
            "mutation Save($id: ID!) { a }",
            "# a comment\n{ a }",
            "queryX { a }",
        ] {
            assert!(!super::is_anonymous(q), "{q}");
        }
    }
}
