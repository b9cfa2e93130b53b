//! The operator's commands, one per file: `main.rs` parses the command line and calls them.

pub mod audit;
pub mod backup;
pub mod create_client;
pub mod create_user;
pub mod federation;
pub mod import_staff;
pub mod outbox;
pub mod purge;
