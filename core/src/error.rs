//! The one error type of every use case. Each variant maps to a stable code that GraphQL puts in
//! `extensions.code` and REST puts in its problem document, so clients can branch on it.

use std::fmt;

use crate::i18n::{Catalogue, Locale};

/// How long a caller turned away by a busy node is asked to wait before trying again.
pub const BUSY_RETRY_AFTER_SECS: u64 = 1;

#[derive(Debug, Clone, thiserror::Error)]
pub enum CoreError {
    /// No credentials, or credentials that do not verify.
    #[error("{0}")]
    Unauthenticated(String),
    /// Authenticated, but this principal may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The thing does not exist, or the principal may not know that it exists.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// Input that fails validation; `field` names the input field to fix.
    #[error("{field}: {message}")]
    BadInput { field: String, message: String },
    /// The request conflicts with the current state (a duplicate, an illegal transition).
    #[error("{0}")]
    Conflict(String),
    /// The request is over a configured limit; the message names the limit.
    #[error("{0}")]
    LimitExceeded(String),
    /// Too many requests or attempts: try again after `retry_after_secs`.
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    /// The database cannot be reached or answered on a broken connection: nothing was done,
    /// and the same request may succeed after `retry_after_secs`. `detail` is for the logs.
    #[error("database unavailable: {detail}")]
    Unavailable {
        detail: String,
        retry_after_secs: u64,
    },
    /// The node has more work than it can answer in time: this request (or its database call)
    /// was turned away before it started, so nothing was done. Shedding it leaves the node to
    /// the work it can still answer promptly. `detail` (which limit) is for the logs.
    #[error("busy: {detail}")]
    Busy { detail: String },
    /// Something failed on our side. The APIs log the detail and never show it to callers;
    /// the command line shows it to the operator.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Stable, documented error codes. Never rename one: clients branch on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    NotFound,
    BadUserInput,
    Conflict,
    LimitExceeded,
    RateLimited,
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::Conflict => "CONFLICT",
            Self::LimitExceeded => "LIMIT_EXCEEDED",
            Self::RateLimited => "RATE_LIMITED",
            Self::Unavailable => "UNAVAILABLE",
            Self::Internal => "INTERNAL",
        }
    }

    /// The HTTP status REST answers with for this code.
    pub fn http_status(self) -> u16 {
        match self {
            Self::Unauthenticated => 401,
            Self::Forbidden => 403,
            Self::NotFound => 404,
            Self::BadUserInput => 400,
            Self::Conflict => 409,
            Self::LimitExceeded => 413,
            Self::RateLimited => 429,
            Self::Unavailable => 503,
            Self::Internal => 500,
        }
    }
}

impl ErrorCode {
    /// The code from its name, e.g. `BAD_USER_INPUT`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// The code's name in catalogue keys: `BAD_USER_INPUT` → `bad-user-input`.
    fn key_part(self) -> String {
        self.as_str().to_ascii_lowercase().replace('_', "-")
    }

    /// A short summary of this kind of problem, in `locale` (`api.ftl`).
    pub fn title(self, words: &Catalogue, locale: Locale) -> String {
        words.text(locale, &format!("api-title-{}", self.key_part()))
    }

    /// What a person reads about this kind of problem in `locale`, naming the input field at
    /// fault when there is one (`api.ftl`). The code itself stays English for programs.
    pub fn human_message(self, words: &Catalogue, locale: Locale, field: Option<&str>) -> String {
        match (self, field) {
            (Self::BadUserInput, Some(field)) => words.text_with(
                locale,
                "api-error-bad-user-input-field",
                &[("field", field.into())],
            ),
            _ => words.text(locale, &format!("api-error-{}", self.key_part())),
        }
    }

    pub const ALL: [ErrorCode; 9] = [
        Self::Unauthenticated,
        Self::Forbidden,
        Self::NotFound,
        Self::BadUserInput,
        Self::Conflict,
        Self::LimitExceeded,
        Self::RateLimited,
        Self::Unavailable,
        Self::Internal,
    ];
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl CoreError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Self::Forbidden(_) => ErrorCode::Forbidden,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::BadInput { .. } => ErrorCode::BadUserInput,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::LimitExceeded(_) => ErrorCode::LimitExceeded,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::Unavailable { .. } | Self::Busy { .. } => ErrorCode::Unavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadInput {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn internal(detail: impl fmt::Display) -> Self {
        Self::Internal(detail.to_string())
    }

    /// The message an API caller may see: everything but an internal error's detail.
    pub fn public_message(&self) -> String {
        match self {
            Self::Internal(_) => {
                "internal error; the node's operators can find the detail in its logs".into()
            }
            Self::Unavailable {
                retry_after_secs, ..
            } => format!("the node's database is not answering; try again in {retry_after_secs} s"),
            Self::Busy { .. } => format!(
                "the node is too busy to answer this now; try again in {BUSY_RETRY_AFTER_SECS} s"
            ),
            other => other.to_string(),
        }
    }

    /// A database outage, to be retried after a second.
    pub fn unavailable(detail: impl fmt::Display) -> Self {
        Self::Unavailable {
            detail: detail.to_string(),
            retry_after_secs: 1,
        }
    }

    /// Seconds to wait before trying again, for a rate-limited request, a database outage or a
    /// busy node.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::RateLimited {
                retry_after_secs, ..
            }
            | Self::Unavailable {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
            Self::Busy { .. } => Some(BUSY_RETRY_AFTER_SECS),
            _ => None,
        }
    }

    /// The input field at fault, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::BadInput { field, .. } => Some(field),
            _ => None,
        }
    }
}

impl From<diesel::result::Error> for CoreError {
    fn from(err: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match err {
            Error::NotFound => Self::NotFound("record"),
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
                Self::Conflict("a record with the same unique value already exists".into())
            }
            Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _) => {
                Self::Conflict("the record refers to something that does not exist".into())
            }
            Error::DatabaseError(kind, info) if connection_lost(&kind, info.message()) => {
                Self::unavailable(format!("connection lost: {}", info.message()))
            }
            other => Self::Internal(format!("database: {other}")),
        }
    }
}

/// Whether a database error says the connection itself is gone (the server restarted or shut
/// down), rather than that the statement was wrong. libpq reports some of these only in words.
fn connection_lost(kind: &diesel::result::DatabaseErrorKind, message: &str) -> bool {
    use diesel::result::DatabaseErrorKind;
    matches!(
        kind,
        DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand
    ) || [
        "terminating connection",
        "server closed the connection",
        "no connection to the server",
        "could not receive data from server",
        "could not send data to server",
        "the database system is shutting down",
        "the database system is starting up",
    ]
    .iter()
    .any(|needle| message.contains(needle))
}

/// The pool gives up only when it cannot open a connection within its timeout.
impl From<r2d2::Error> for CoreError {
    fn from(err: r2d2::Error) -> Self {
        Self::unavailable(format!("no database connection: {err}"))
    }
}

pub type CoreResult<T> = Result<T, CoreError>;
