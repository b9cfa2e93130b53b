//! SCIM's errors (RFC 7644 §3.12): an HTTP status and, for bad requests, a `scimType` a
//! provisioning client understands.

use crate::error::CoreError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct ScimError {
    pub status: u16,
    /// `invalidFilter`, `invalidPath`, `noTarget`, `invalidValue`, `invalidSyntax`,
    /// `uniqueness`, `mutability`, `tooMany`.
    pub scim_type: Option<&'static str>,
    pub detail: String,
    /// Seconds to wait before retrying (rate limits, an unreachable database).
    pub retry_after: Option<u64>,
}

impl ScimError {
    fn new(status: u16, scim_type: Option<&'static str>, detail: impl Into<String>) -> Self {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
            retry_after: None,
        }
    }
    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidFilter"), detail)
    }
    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidPath"), detail)
    }
    pub fn no_target(detail: impl Into<String>) -> Self {
        Self::new(400, Some("noTarget"), detail)
    }
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidValue"), detail)
    }
    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::new(400, Some("invalidSyntax"), detail)
    }
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self::new(409, Some("uniqueness"), detail)
    }
    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::new(400, Some("mutability"), detail)
    }
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, None, detail)
    }
    pub fn not_implemented(detail: impl Into<String>) -> Self {
        Self::new(501, None, detail)
    }
}

impl From<CoreError> for ScimError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Unauthenticated(m) => Self::new(401, None, m),
            CoreError::Forbidden(m) => Self::new(403, None, m),
            CoreError::NotFound(what) => Self::not_found(format!("{what} not found")),
            CoreError::BadInput { field, message } => {
                Self::invalid_value(format!("{field}: {message}"))
            }
            CoreError::Conflict(m) => Self::uniqueness(m),
            CoreError::LimitExceeded(m) => Self::new(400, Some("tooMany"), m),
            CoreError::RateLimited {
                message,
                retry_after_secs,
            } => ScimError {
                retry_after: Some(retry_after_secs),
                ..Self::new(429, None, message)
            },
            CoreError::Unavailable {
                retry_after_secs, ..
            } => ScimError {
                retry_after: Some(retry_after_secs),
                ..Self::new(503, None, "the database is unavailable; try again")
            },
            CoreError::Busy { .. } => ScimError {
                retry_after: Some(1),
                ..Self::new(503, None, "the node is busy; try again")
            },
            other => {
                tracing::error!(error = %other, "SCIM request failed");
                Self::new(500, None, "the node could not do this; its log says why")
            }
        }
    }
}
