//! The one error type of every use case. Each variant maps to a stable code that GraphQL puts in
//! `extensions.code` and REST puts in its problem document, so clients can branch on it.

use std::fmt;

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
            Self::Internal => 500,
        }
    }
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
            other => other.to_string(),
        }
    }

    /// Seconds to wait before trying again, for a rate-limited request.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::RateLimited {
                retry_after_secs, ..
            } => Some(*retry_after_secs),
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
            other => Self::Internal(format!("database: {other}")),
        }
    }
}

impl From<r2d2::Error> for CoreError {
    fn from(err: r2d2::Error) -> Self {
        Self::Internal(format!("database pool: {err}"))
    }
}

pub type CoreResult<T> = Result<T, CoreError>;
