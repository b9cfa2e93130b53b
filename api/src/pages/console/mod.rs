//! The coordinator's console: the queue with its clocks, a request's page with suggestions and
//! the hand actions, events with the outreach to everyone involved. Every decision (who may see
//! what, which request a coordinator may know of) is core's; these pages translate.

pub mod audit;
mod chart;
pub mod events;
pub mod metrics;
pub mod notifications;
pub mod queue;
pub mod roster;

use alongside_core::metrics::suppression::Cell;
use alongside_core::requests::RequestView;
use chrono::NaiveDateTime;

use super::Text;
use super::view::minutes_until;

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
