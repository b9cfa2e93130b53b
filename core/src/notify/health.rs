//! How the node's messages are doing, for admins: the outbox by state, the messages that gave
//! up (to re-queue once the cause is fixed), and each webhook endpoint's last delivery.

use chrono::NaiveDateTime;
use uuid::Uuid;

use super::outbox;
use super::webhooks::{self, Attempt, Endpoint};
use crate::access::{Operation, Principal, authorize};
use crate::db::Db;
use crate::error::CoreError;

/// A message that gave up: what kind, how often it was tried, why it failed. Never its
/// contents or recipient.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub id: Uuid,
    pub channel: String,
    pub topic: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone)]
pub struct Health {
    /// Messages per state (pending, delivering, done, dead).
    pub by_state: Vec<(String, i64)>,
    pub dead: Vec<DeadLetter>,
    /// Each endpoint with its latest delivery attempt, if any.
    pub endpoints: Vec<(Endpoint, Option<Attempt>)>,
}

pub async fn health(db: &Db, who: &Principal) -> Result<Health, CoreError> {
    authorize(who, Operation::ManageAccounts)?;
    let by_state = db.run(outbox::counts).await?;
    let dead = outbox::dead_letters(db, who)
        .await?
        .into_iter()
        .map(|row| {
            Ok(DeadLetter {
                id: row.id,
                channel: row.channel,
                topic: row.topic,
                attempts: row.attempts,
                last_error: row.last_error,
                created_at: row.created_at,
            })
        })
        .collect::<Result<Vec<_>, CoreError>>()?;
    let mut endpoints = vec![];
    for e in webhooks::list(db, who).await? {
        let last = webhooks::deliveries(db, who, e.id)
            .await?
            .into_iter()
            .next();
        endpoints.push((e, last));
    }
    Ok(Health {
        by_state,
        dead,
        endpoints,
    })
}
