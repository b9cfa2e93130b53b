//! Record identifiers: UUIDv7, so they sort by creation time and serve as stable page cursors.

use uuid::Uuid;

use crate::error::CoreError;

pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

pub fn parse_id(field: &str, text: &str) -> Result<Uuid, CoreError> {
    Uuid::parse_str(text).map_err(|_| CoreError::bad_input(field, "not a valid id"))
}
