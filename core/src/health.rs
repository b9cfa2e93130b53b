//! Whether the node can reach the people it must reach: never a silent drop. A node that
//! cannot deliver what it promises stays ready (it still serves requests) but is *degraded*,
//! with a stable code and a sentence per reason, for monitoring, the start-up log and staff.

use diesel::prelude::*;
use serde::Serialize;

use crate::access::{Operation, Principal, authorize};
use crate::db::{Db, DbConnection};
use crate::error::CoreError;
use crate::schema::people;

/// What the node's configuration can deliver (decided where the configuration lives).
#[derive(Debug, Clone, Copy)]
pub struct Delivery {
    /// Emails reach a mail server (not the development log).
    pub email: bool,
    /// A text-message gateway is configured.
    pub texts: bool,
}

/// One reason the node is degraded. No personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Degraded {
    /// Stable, for alerts: `NO_ON_CALL`, `EMAIL_NOT_DELIVERED`, `TEXT_GATEWAY_MISSING`.
    pub code: &'static str,
    pub detail: String,
}

/// Every reason the node cannot reach someone it must, now.
pub fn degraded(conn: &mut DbConnection, delivery: Delivery) -> Result<Vec<Degraded>, CoreError> {
    let mut out = Vec::new();
    if !crate::oncall::anyone_on_call(conn, crate::time::now())? {
        out.push(Degraded {
            code: "NO_ON_CALL",
            detail: "nobody is on call now and there is no on-call address: alerts go only to coordinators; set the on-call rota".into(),
        });
    }
    if !delivery.email {
        out.push(Degraded {
            code: "EMAIL_NOT_DELIVERED",
            detail:
                "emails are only logged (email.transport = \"log\"): set email.transport = \"smtp\""
                    .into(),
        });
    }
    if !delivery.texts {
        let waiting: i64 = people::table
            .filter(people::text_messages.eq(true))
            .count()
            .get_result(conn)?;
        if waiting > 0 {
            out.push(Degraded {
                code: "TEXT_GATEWAY_MISSING",
                detail: format!(
                    "{waiting} people chose text messages but no gateway is configured: set [text_messages] gateway"
                ),
            });
        }
    }
    Ok(out)
}

/// The same reasons, for the coordinators and admins who keep the rota and the program running:
/// they see what monitoring sees, where they work.
pub async fn for_staff(
    db: &Db,
    who: &Principal,
    delivery: Delivery,
) -> Result<Vec<Degraded>, CoreError> {
    authorize(who, Operation::ManageOnCall)?;
    db.run(move |conn| degraded(conn, delivery)).await
}
