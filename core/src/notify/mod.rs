//! Notifications that are never lost. Every state change that must tell someone writes an
//! outbox row in the same transaction; delivery workers (in the API crate, which owns SMTP and
//! HTTP) claim rows, deliver, and record the outcome here, with retries, backoff and a
//! dead-letter state. Message content is decided here too, so no channel can leak case details.

pub mod destinations;
pub mod health;
pub mod leases;
pub mod outbox;
pub mod reminders;
pub mod templates;
pub mod webhooks;

pub use outbox::{Channel, Claimed, OutboxRow, OutboxState};
pub use templates::Topic;
