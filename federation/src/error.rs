//! Federation errors, each with a stable code for answers and logs.

use alongside_core::CoreError;

use crate::call::CallError;
use crate::manifest::ManifestError;

#[derive(Debug, thiserror::Error)]
pub enum FedError {
    #[error(transparent)]
    Call(#[from] CallError),
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(
        "this node is not set up for this federation operation (see `alongside federation status`)"
    )]
    NotConfigured,
    #[error("{0} did not answer in time")]
    TimedOut(String),
    #[error("cannot reach {0}")]
    Unreachable(String),
    #[error("{node} refused the call ({status} {code})")]
    Refused {
        node: String,
        status: u16,
        code: String,
    },
    #[error("an answer could not be read: {0}")]
    Garbage(String),
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl FedError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::Call(e) => e.code(),
            Self::Manifest(e) => e.code(),
            Self::NotConfigured => "FEDERATION_NOT_CONFIGURED",
            Self::TimedOut(_) => "FEDERATION_TIMEOUT",
            Self::Unreachable(_) => "FEDERATION_UNREACHABLE",
            Self::Refused { .. } => "FEDERATION_REFUSED",
            Self::Garbage(_) => "FEDERATION_BAD_ANSWER",
            Self::Core(e) => e.code().as_str(),
        }
    }
}
