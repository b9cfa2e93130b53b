//! Form posts: `application/x-www-form-urlencoded` fields, read in full so repeated fields
//! (check boxes) are kept, and what a person typed can be put back into a re-shown form.

use actix_web::web::Bytes;

/// The fields of a posted form, in order.
#[derive(Debug, Clone, Default)]
pub struct Form {
    fields: Vec<(String, String)>,
}

impl Form {
    pub fn parse(body: &Bytes) -> Self {
        Self {
            fields: serde_urlencoded::from_bytes(body).unwrap_or_default(),
        }
    }

    /// A form filled in by the page itself (a record's current values to change).
    pub fn from_fields(fields: Vec<(String, String)>) -> Self {
        Self { fields }
    }

    /// The first value of a field, trimmed; empty counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The value, or an empty string, for putting back into a form.
    pub fn value(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_owned()
    }

    pub fn has(&self, name: &str, value: &str) -> bool {
        self.fields.iter().any(|(k, v)| k == name && v == value)
    }

    /// The `answer` of an accept-or-decline pair of buttons: true for accept.
    pub fn accepts(&self) -> Result<bool, alongside_core::CoreError> {
        match self.get("answer") {
            Some("accept") => Ok(true),
            Some("decline") => Ok(false),
            _ => Err(alongside_core::CoreError::bad_input(
                "answer",
                "accept or decline",
            )),
        }
    }
}

/// Percent-encodes a value for a query string.
pub fn encode(value: &str) -> String {
    serde_urlencoded::to_string([("v", value)])
        .map(|s| s.trim_start_matches("v=").to_owned())
        .unwrap_or_default()
}
