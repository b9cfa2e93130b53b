//! Record identifiers: UUIDv7, so they sort by creation time and serve as stable page cursors.

use uuid::Uuid;

use crate::error::CoreError;

pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

pub fn parse_id(field: &str, text: &str) -> Result<Uuid, CoreError> {
    Uuid::parse_str(text).map_err(|_| CoreError::bad_input(field, "not a valid id"))
}

/// Reads an id the database gave back; a malformed one means the data was tampered with.
pub(crate) fn stored_id(text: &str) -> Result<Uuid, CoreError> {
    Uuid::parse_str(text).map_err(|e| CoreError::internal(format!("stored id {text:?}: {e}")))
}
