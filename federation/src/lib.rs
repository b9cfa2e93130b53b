//! Alongside's federation: node identity and descriptors, signed node-to-node calls, membership
//! under a steward's signed manifest, directory sync, cross-institution matching with
//! introductions, and network metrics. `Federation` is its one door: the rest of the node
//! reaches the network and the federation's stored state only through its methods. It knows
//! HTTP as a client (reqwest) but nothing of GraphQL or of the server; `api` routes requests
//! here.

pub mod call;
pub mod descriptor;
pub mod directory;
pub mod error;
pub mod health;
pub mod introductions;
pub mod manifest;
pub mod matching;
mod member;
pub mod metrics;
pub mod replay;
mod service;
mod steward;
mod store;
mod transport;
mod trust;

pub use call::{CallClaims, CallError, Caller, KeyLookup, Request, sign_call, verify_call};
pub use error::FedError;
pub use replay::ReplayCache;
pub use service::{Federation, FederationSettings, Peer, Status};
pub use store::{Health, MemberRecord, StoredManifest, SyncState};
pub use transport::{CALL_HEADER, TRACEPARENT, child_traceparent, new_traceparent};
pub use trust::Trust;
