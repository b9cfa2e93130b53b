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
    #[error("{0}")]
    WrongSteward(String),
    #[error(
        "this node is {0} in its federation: nothing is asked of other members until the steward makes it active again"
    )]
    NotActive(&'static str),
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
            Self::NotActive(_) => "FEDERATION_NOT_ACTIVE",
            Self::WrongSteward(_) => "FEDERATION_WRONG_STEWARD",
            Self::Core(e) => e.code().as_str(),
        }
    }

    /// Why, as the code to record and count: the peer's own code when a peer refused (a
    /// suspension, a key problem and a clock problem each say so), this node's otherwise.
    pub fn reason(&self) -> &str {
        match self {
            Self::Refused { code, .. } => code,
            other => other.code(),
        }
    }
}
