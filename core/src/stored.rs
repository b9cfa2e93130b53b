//! Lists kept in a text column as JSON (languages, availability, audiences): both backends store
//! them alike and the domain reads them whole.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::CoreError;

pub(crate) fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, CoreError> {
    serde_json::to_string(value).map_err(|e| CoreError::internal(format!("encoding: {e}")))
}

pub(crate) fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, CoreError> {
    serde_json::from_str(text).map_err(|e| CoreError::internal(format!("stored JSON: {e}")))
}
