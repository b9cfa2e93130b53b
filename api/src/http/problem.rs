//! REST errors as `application/problem+json` (RFC 9457), carrying the same stable `code` as
//! GraphQL's `extensions.code`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use alongside_core::i18n::{Catalogue, Locale, catalogue};
use alongside_core::{CoreError, ErrorCode};
use serde::Serialize;
use utoipa::ToSchema;

/// An error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemDoc {
    /// A URI naming the kind of problem: `urn:alongside:problem:<code>`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind of problem.
    pub title: String,
    pub status: u16,
    /// What went wrong in this request, and what to fix.
    pub detail: String,
    /// Stable code: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, BAD_USER_INPUT, CONFLICT,
    /// LIMIT_EXCEEDED, RATE_LIMITED, UNAVAILABLE or INTERNAL.
    pub code: String,
    /// The input field at fault, for BAD_USER_INPUT.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The request's own detail in English, when `title` and `detail` are in the caller's
    /// language (their profile's, else `Accept-Language`) and that is not English.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub english_detail: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Problem {
    code: ErrorCode,
    detail: String,
    field: Option<String>,
    status: Option<StatusCode>,
    retry_after: Option<u64>,
    /// The title and detail in another language than English, with the English detail kept.
    translated: Option<(String, String)>,
}

impl Problem {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            field: None,
            status: None,
            retry_after: None,
            translated: None,
        }
    }

    /// The problem as a person reading `locale` reads it: title and detail from the catalogue,
    /// the request's own English detail kept beside them. English (or no known language)
    /// keeps the detail as it is.
    pub fn in_language(mut self, words: &Catalogue, locale: Option<Locale>) -> Self {
        if let Some(locale) = locale.filter(|l| *l != Locale::En) {
            let title = self.code.title(words, locale);
            let human = self
                .code
                .human_message(words, locale, self.field.as_deref());
            self.translated = Some((title, std::mem::replace(&mut self.detail, human)));
        }
        self
    }

    /// A 429 with `Retry-After`.
    pub fn rate_limited(detail: impl Into<String>, retry_after_secs: u64) -> Self {
        Self {
            retry_after: Some(retry_after_secs),
            ..Self::new(ErrorCode::RateLimited, detail)
        }
    }

    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// What went wrong, in the caller's language once `in_language` has been applied.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The request's own detail in English, when `detail` is in another language.
    pub fn english_detail(&self) -> Option<&str> {
        self.translated.as_ref().map(|(_, en)| en.as_str())
    }

    /// Seconds after which the same request may succeed, when the refusal is temporary.
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }

    /// Overrides the status the code implies (415 for a wrong content type, 405, 503).
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = Some(status);
        self
    }
}

impl From<CoreError> for Problem {
    fn from(err: CoreError) -> Self {
        crate::observe::log_failure(&err, "rest");
        Self {
            code: err.code(),
            detail: err.public_message(),
            field: err.field().map(str::to_owned),
            status: None,
            retry_after: err.retry_after(),
            translated: None,
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        self.status.unwrap_or_else(|| {
            StatusCode::from_u16(self.code.http_status())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        })
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let doc = ProblemDoc {
            kind: format!(
                "urn:alongside:problem:{}",
                self.code.as_str().to_lowercase()
            ),
            title: match &self.translated {
                Some((title, _)) => title.clone(),
                None => self.code.title(catalogue(), Locale::En),
            },
            status: status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.as_str().into(),
            field: self.field.clone(),
            english_detail: self.translated.as_ref().map(|(_, en)| en.clone()),
        };
        let mut response = HttpResponse::build(status);
        response.content_type("application/problem+json");
        if self.code == ErrorCode::Unauthenticated {
            response.insert_header(("WWW-Authenticate", "Bearer"));
        }
        if let Some(secs) = self.retry_after {
            response.insert_header(("Retry-After", secs.max(1).to_string()));
        }
        response.body(serde_json::to_string(&doc).unwrap_or_default())
    }
}
