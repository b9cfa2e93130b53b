//! Alongside's federation: node identity and descriptors, signed node-to-node calls, membership
//! under a steward's signed manifest, directory sync, cross-institution matching with
//! introductions, and network metrics. It knows HTTP as a client (reqwest) but nothing of
//! GraphQL or of the server; `api` routes requests here.

pub mod call;
pub mod descriptor;
pub mod directory;
pub mod error;
pub mod introductions;
pub mod manifest;
pub mod matching;
pub mod metrics;
pub mod replay;
pub mod service;
pub mod store;

pub use call::{CallClaims, CallError, Caller, KeyLookup, Request, sign_call, verify_call};
pub use error::FedError;
pub use replay::ReplayCache;
pub use service::{Federation, FederationSettings};
