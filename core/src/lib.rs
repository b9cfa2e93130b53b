//! Alongside's domain: what a hospital's clinician-support program knows and does, and who may
//! do it. No HTTP here: the API crate translates requests into these use cases.

pub mod access;
pub mod accounts;
pub mod audit;
pub mod business_case;
pub mod clients;
pub mod db;
pub mod deid;
pub mod error;
pub mod events;
pub mod feed;
pub mod health;
pub mod i18n;
pub mod idempotency;
pub mod ids;
pub mod institution;
pub mod keyring;
pub mod matching;
pub mod metrics;
pub mod notify;
pub mod oidc;
pub mod oncall;
pub mod page;
pub mod people;
pub mod programs;
pub mod readiness;
pub mod requests;
pub mod resources;
pub mod retention;
pub mod roster;
pub mod schema;
pub mod scim;
pub mod secrets;
pub mod sessions;
pub mod staff_import;
pub mod standing;
mod stored;
pub mod supporters;
pub mod surveys;
pub mod time;
pub mod token_cache;
pub mod tokens;
pub mod training;
pub mod validate;
pub mod vocab;

pub use error::{CoreError, CoreResult, ErrorCode};
