//! Reading request bodies ourselves, so every endpoint enforces the same size cap and content
//! type and answers with the same clear errors.

use actix_web::http::StatusCode;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{HttpRequest, web};
use alongside_core::ErrorCode;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;

use super::problem::Problem;

/// Whether the request's content type is `expected` (parameters such as charset allowed).
pub fn has_content_type(req: &HttpRequest, expected: &str) -> bool {
    req.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case(expected))
}

pub fn wrong_content_type(expected: &str) -> Problem {
    Problem::new(
        ErrorCode::BadUserInput,
        format!("send the body with Content-Type: {expected}"),
    )
    .with_status(StatusCode::UNSUPPORTED_MEDIA_TYPE)
}

pub fn too_large(limit: usize) -> Problem {
    Problem::new(
        ErrorCode::LimitExceeded,
        format!("the request body is over the limit of {limit} bytes (limits.body_bytes)"),
    )
}

/// Reads the whole body, refusing it as soon as it passes `limit` bytes.
pub async fn read(
    req: &HttpRequest,
    mut payload: web::Payload,
    limit: usize,
) -> Result<web::BytesMut, Problem> {
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    collect(&mut payload, declared.unwrap_or(0), limit).await
}

/// Reads a body's chunks until its end, refusing it as soon as it passes `limit` bytes.
async fn collect<S>(
    payload: &mut S,
    expected: usize,
    limit: usize,
) -> Result<web::BytesMut, Problem>
where
    S: futures_util::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>> + Unpin,
{
    let mut body = web::BytesMut::with_capacity(expected.min(limit));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| {
            Problem::new(
                ErrorCode::BadUserInput,
                format!("could not read the body: {e}"),
            )
        })?;
        if body.len() + chunk.len() > limit {
            return Err(too_large(limit));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Reads a request's whole body in front of the routes, before it takes a place among the
/// requests in flight: a client that sends its body slowly holds a socket, never a place, and a
/// body that has not arrived within `deadline` is refused (`LIMIT_EXCEEDED`, 408), so a trickle
/// cannot hold even the socket for long. The body is put back for the route to read as before.
pub async fn buffer(
    req: &mut actix_web::dev::ServiceRequest,
    limit: usize,
    deadline: std::time::Duration,
) -> Result<(), Problem> {
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    let chunked = req
        .headers()
        .contains_key(actix_web::http::header::TRANSFER_ENCODING);
    if declared.unwrap_or(0) == 0 && !chunked {
        return Ok(());
    }
    if declared.is_some_and(|n| n > limit) {
        return Err(too_large(limit));
    }
    let mut payload = actix_web::HttpMessage::take_payload(req);
    let read = collect(&mut payload, declared.unwrap_or(0), limit);
    let body = tokio::time::timeout(deadline, read).await.map_err(|_| {
        Problem::new(
            ErrorCode::LimitExceeded,
            format!(
                "the request body did not arrive within {} ms (limits.body_deadline_ms); send it \
                 in one go",
                deadline.as_millis()
            ),
        )
        .with_status(StatusCode::REQUEST_TIMEOUT)
    })??;
    req.set_payload(actix_web::dev::Payload::from(body.freeze()));
    Ok(())
}

/// A JSON body of type `T`: content type, size and shape checked, with errors naming the problem.
pub async fn json<T: DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
    limit: usize,
) -> Result<T, Problem> {
    if !has_content_type(req, "application/json") {
        return Err(wrong_content_type("application/json"));
    }
    let body = read(req, payload, limit).await?;
    parse_json(&body)
}

/// Parses JSON, naming the offending field where serde can tell. An unknown field is refused:
/// a body carrying e.g. `narrative` or `patient_name` must not be silently accepted.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    serde_json::from_slice(body).map_err(|e| {
        let text = e.to_string();
        if let Some(rest) = text.strip_prefix("unknown field `")
            && let Some((field, _)) = rest.split_once('`')
        {
            return Problem::from(alongside_core::CoreError::bad_input(
                field,
                "is not accepted here. Alongside stores no narrative, case details or patient identifiers",
            ));
        }
        if let Some(rest) = text.strip_prefix("missing field `")
            && let Some((field, _)) = rest.split_once('`')
        {
            return Problem::from(alongside_core::CoreError::bad_input(field, "is required"));
        }
        Problem::new(ErrorCode::BadUserInput, format!("the body is not valid JSON for this endpoint: {text}"))
    })
}
