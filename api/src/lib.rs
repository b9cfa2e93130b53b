//! The `alongside` node: HTTP server, GraphQL and REST APIs, authentication, and the CLI's
//! building blocks. Decisions live in `alongside-core`; this crate translates.

pub mod auth;
pub mod cli;
pub mod config;
pub mod delivery;
pub mod demo;
pub mod files;
pub mod graphql;
pub mod http;
pub mod maintenance;
pub mod node;
pub mod observe;
pub mod pages;
pub mod sso;
pub mod telemetry;
