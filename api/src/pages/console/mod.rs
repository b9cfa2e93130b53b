//! The coordinator's console: the queue with its clocks, a request's page with suggestions and
//! the hand actions, events with the outreach to everyone involved. Every decision (who may see
//! what, which request a coordinator may know of) is core's; these pages translate.

/// `error_on(field)` and `error_text()`, which a console form's template asks, for a page with
/// an `error: Option<FieldError>`.
macro_rules! field_errors {
    ($page:ident) => {
        impl $page<'_> {
            fn error_on(&self, field: &str) -> bool {
                crate::pages::view::is_on(&self.error, field)
            }

            fn error_text(&self) -> String {
                self.error
                    .as_ref()
                    .map(|e| e.message.clone())
                    .unwrap_or_default()
            }
        }
    };
}
pub(crate) use field_errors;

/// For a page of several forms, with `sent` (which form came back), `form` and `error`:
/// `error_on(part, field)`, `error_text()`, `chosen(part, field, value)` and `kept(part, field)`
/// (what was typed), each only for the form that was sent.
macro_rules! sent_form_errors {
    ($page:ident, $part:ty) => {
        impl $page<'_> {
            fn error_on(&self, part: $part, field: &str) -> bool {
                self.sent == part && crate::pages::view::is_on(&self.error, field)
            }

            fn error_text(&self) -> String {
                self.error
                    .as_ref()
                    .map(|e| e.message.clone())
                    .unwrap_or_default()
            }

            fn chosen(&self, part: $part, field: &str, value: &str) -> bool {
                self.sent == part && self.form.has(field, value)
            }

            fn kept(&self, part: $part, field: &str) -> Option<String> {
                (self.sent == part).then(|| self.form.value(field))
            }
        }
    };
}
pub(crate) use sent_form_errors;

/// The "saved" notice after a form's redirect (`?done=saved`), in the page's own words.
pub fn saved_notice(ctx: &Ctx, done: Option<&str>, key: &str) -> Option<String> {
    done.filter(|d| *d == "saved").map(|_| ctx.t(key))
}

pub mod audit;
pub mod business_case;
mod chart;
pub mod events;
pub mod metrics;
pub mod network;
pub mod notifications;
pub mod programs;
pub mod queue;
pub mod readiness;
pub mod roster;
pub mod settings;
pub mod training;

use alongside_core::CoreError;
use alongside_core::metrics::suppression::Cell;
use alongside_core::requests::RequestView;
use chrono::NaiveDateTime;

use super::view::{FieldError, minutes_until};
use super::{Ctx, Text};

/// One of a request's clocks, as a person reads it: met, running, or overdue.
pub struct Clock {
    pub text: String,
    /// Overdue: the page says so in words, not colour alone.
    pub late: bool,
}

impl Clock {
    fn of(
        t: Text,
        name: &str,
        done: Option<NaiveDateTime>,
        due: NaiveDateTime,
        breached: bool,
        now: NaiveDateTime,
    ) -> Clock {
        match done {
            Some(at) => Clock {
                text: t.t1(&format!("console-clock-{name}-met"), "when", t.when(at)),
                late: false,
            },
            None if breached || due < now => Clock {
                text: t.t1(&format!("console-clock-{name}-late"), "when", t.when(due)),
                late: true,
            },
            None => Clock {
                text: t.catalogue.text_with(
                    t.locale,
                    &format!("console-clock-{name}-due"),
                    &[
                        ("when", t.when(due).into()),
                        ("left", left(t, due, now).into()),
                    ],
                ),
                late: false,
            },
        }
    }

    /// Time to acknowledge and time to first contact.
    pub fn both(t: Text, r: &RequestView, now: NaiveDateTime) -> (Clock, Clock) {
        (
            Clock::of(
                t,
                "ack",
                r.acknowledged_at,
                r.ack_due_at,
                r.ack_breached,
                now,
            ),
            Clock::of(
                t,
                "contact",
                r.first_contact_at,
                r.contact_due_at,
                r.contact_breached,
                now,
            ),
        )
    }
}

/// Time left as a person reads it at a glance: minutes under two hours, then whole hours.
fn left(t: Text, due: NaiveDateTime, now: NaiveDateTime) -> String {
    let minutes = minutes_until(due, now);
    if minutes < 120 {
        t.t1("console-left-minutes", "n", minutes)
    } else {
        t.t1("console-left-hours", "n", minutes / 60)
    }
}

/// A count as the pages show it: the number; "fewer than k" for a small count; "n or more"
/// for a sum with hidden parts; "not shown" for one hidden to protect another. Never a 0 that
/// is not one.
pub fn shown(t: Text, c: Cell, k: u64) -> String {
    match c {
        Cell::Count(n) => n.to_string(),
        Cell::Suppressed => t.t1("console-fewer-than", "k", k as i64),
        Cell::AtLeast(n) => t.t1("console-at-least", "n", n as i64),
        Cell::Withheld => t.t("console-withheld"),
    }
}

/// Core's refusal of a console form's input as the form shows it: core names fields as the API
/// does (`caseloadCap`), the forms as `caseload_cap`; the console's catalogue words the fix
/// (`console-field-caseload-cap`) where it has them, else core's message stands.
pub fn field_error(ctx: &Ctx, e: &CoreError, fallback: &str) -> FieldError {
    let mut error = FieldError::from_core(ctx.text, e)
        .unwrap_or_else(|| FieldError::new(fallback, ctx.t("error-bad-input-body")));
    error.field = snake(&error.field);
    let key = format!("console-field-{}", error.field.replace('_', "-"));
    if ctx.text.catalogue.has(ctx.text.locale, &key) {
        error.message = ctx.t(&key);
    }
    error
}

/// `firstContactTargetHours` → `first_contact_target_hours`.
fn snake(field: &str) -> String {
    let mut out = String::with_capacity(field.len() + 4);
    for c in field.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A whole number from a form field, or `None` when left empty.
pub fn whole(form: &super::form::Form, field: &str) -> Result<Option<i32>, CoreError> {
    form.get(field)
        .map(|n| {
            n.parse::<i32>()
                .map_err(|_| CoreError::bad_input(field, "enter a whole number"))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    #[test]
    fn api_field_names_become_form_field_names() {
        assert_eq!(
            super::snake("firstContactTargetHours"),
            "first_contact_target_hours"
        );
        assert_eq!(super::snake("person"), "person");
        assert_eq!(super::snake("trained_on"), "trained_on");
    }
}
