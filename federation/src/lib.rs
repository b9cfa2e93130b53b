//! Alongside's federation. This first part holds the signed node-to-node call: what a calling
//! node signs, and everything a receiving node checks — in the order that matters — before it
//! does anything else. Membership, directory sync and matching build on it.

pub mod call;
pub mod replay;

pub use call::{CallClaims, CallError, Caller, KeyLookup, Request, sign_call, verify_call};
pub use replay::ReplayCache;
