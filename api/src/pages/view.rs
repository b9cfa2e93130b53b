//! Small pieces the pages share: the field at fault in a form, times as a person reads them.

use alongside_core::CoreError;
use chrono::NaiveDateTime;

use super::Text;

/// The field a form must fix, and what to do.
#[derive(Debug, Clone)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, message: String) -> Self {
        Self {
            field: field.to_owned(),
            message,
        }
    }

    /// Core's refusal of an input, in the reader's language where the catalogue has words for
    /// that field (`field-error-FIELD`), else core's own message.
    pub fn from_core(text: Text, e: &CoreError) -> Option<Self> {
        match e {
            CoreError::BadInput { field, message } => {
                let key = format!("field-error-{field}");
                let localized = text.t(&key);
                Some(Self {
                    field: field.clone(),
                    message: if localized == key {
                        message.clone()
                    } else {
                        localized
                    },
                })
            }
            _ => None,
        }
    }
}

/// Whether `error` names `field` (templates call it through their own `error_on`).
pub fn is_on(error: &Option<FieldError>, field: &str) -> bool {
    error.as_ref().is_some_and(|e| e.field == field)
}

/// A date and time in UTC, as the pages show it (ISO-like, unambiguous in every language).
pub fn when(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Minutes from `now` until `t`, at least 0.
pub fn minutes_until(t: NaiveDateTime, now: NaiveDateTime) -> i64 {
    ((t - now).num_seconds().max(0) + 59) / 60
}

/// The first word of a display name: what a supporter is called on the requester's page.
pub fn first_name(display_name: &str) -> String {
    display_name
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// HTML escaping for the one page built without a template.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
