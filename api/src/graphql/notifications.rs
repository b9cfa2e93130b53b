//! Admin operations on notifications: dead letters and re-queueing, webhook endpoints and their
//! delivery logs.

use alongside_core::notify::destinations::Destinations;
use alongside_core::notify::outbox::{self, OutboxRow};
use alongside_core::notify::webhooks::{self, Endpoint};
use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};

use super::errors::GqlResult;
use super::ids;
use super::query::caller;

const OUTBOX: &str = "OutboxMessage";
pub(super) const WEBHOOK: &str = "WebhookEndpoint";

/// A queued notification. The recipient is not shown.
#[derive(SimpleObject)]
pub struct OutboxMessage {
    pub id: ID,
    /// "email" or "webhook".
    pub channel: String,
    pub topic: String,
    /// pending, delivering, done or dead.
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

fn message(row: OutboxRow) -> Result<OutboxMessage> {
    let id = row.id;
    Ok(OutboxMessage {
        id: ids::encode(OUTBOX, id),
        channel: row.channel,
        topic: row.topic,
        state: row.state,
        attempts: row.attempts,
        last_error: row.last_error,
        created_at: row.created_at.and_utc(),
    })
}

#[derive(SimpleObject)]
pub struct WebhookEndpoint {
    pub id: ID,
    pub url: String,
    pub event_types: Vec<String>,
    pub active: bool,
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<Endpoint> for WebhookEndpoint {
    fn from(e: Endpoint) -> Self {
        Self {
            id: ids::encode(WEBHOOK, e.id),
            url: e.url,
            event_types: e.event_types,
            active: e.active,
            disabled_reason: e.disabled_reason,
            created_at: e.created_at.and_utc(),
        }
    }
}

/// A new endpoint and its signing secret, shown once.
#[derive(SimpleObject)]
pub struct RegisteredWebhook {
    pub endpoint: WebhookEndpoint,
    /// Verify each delivery's `Alongside-Signature` with this. Shown once.
    pub secret: String,
}

#[derive(SimpleObject)]
pub struct WebhookAttempt {
    pub attempt: i32,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Default)]
pub struct NotificationsQuery;

#[Object]
impl NotificationsQuery {
    /// Messages that failed every attempt. Admins.
    async fn outbox_dead_letters(&self, ctx: &Context<'_>) -> Result<Vec<OutboxMessage>> {
        let (db, who) = caller(ctx)?;
        outbox::dead_letters(db, who)
            .await
            .gql()?
            .into_iter()
            .map(message)
            .collect()
    }

    /// Registered webhook endpoints. Admins.
    async fn webhook_endpoints(&self, ctx: &Context<'_>) -> Result<Vec<WebhookEndpoint>> {
        let (db, who) = caller(ctx)?;
        Ok(webhooks::list(db, who)
            .await
            .gql()?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// The latest delivery attempts to an endpoint. Admins.
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        endpoint_id: ID,
    ) -> Result<Vec<WebhookAttempt>> {
        let (db, who) = caller(ctx)?;
        let id = ids::decode(WEBHOOK, "endpointId", &endpoint_id).gql()?;
        Ok(webhooks::deliveries(db, who, id)
            .await
            .gql()?
            .into_iter()
            .map(|a| WebhookAttempt {
                attempt: a.attempt,
                status_code: a.status_code,
                error: a.error,
                at: a.at.and_utc(),
            })
            .collect())
    }
}

#[derive(Default)]
pub struct NotificationsMutation;

#[Object]
impl NotificationsMutation {
    /// Puts a dead-lettered message back in the queue. Admins.
    async fn requeue_outbox_message(&self, ctx: &Context<'_>, id: ID) -> Result<OutboxMessage> {
        let (db, who) = caller(ctx)?;
        let uuid = ids::decode(OUTBOX, "id", &id).gql()?;
        message(outbox::requeue(db, who, uuid).await.gql()?)
    }

    /// Registers a webhook endpoint for some event types: event.created, outreach.created,
    /// support_request.created, support_request.state_changed. Admins.
    async fn register_webhook(
        &self,
        ctx: &Context<'_>,
        url: String,
        event_types: Vec<String>,
    ) -> Result<RegisteredWebhook> {
        let (db, who) = caller(ctx)?;
        let config = ctx.data::<crate::config::Config>()?;
        let destinations = Destinations::new(&config.outbox.webhook_allowed_networks).gql()?;
        let (endpoint, secret) = webhooks::register(db, who, &destinations, url, event_types)
            .await
            .gql()?;
        Ok(RegisteredWebhook {
            endpoint: endpoint.into(),
            secret,
        })
    }

    /// Turns deliveries to an endpoint off or back on. Admins.
    async fn set_webhook_active(
        &self,
        ctx: &Context<'_>,
        id: ID,
        active: bool,
    ) -> Result<WebhookEndpoint> {
        let (db, who) = caller(ctx)?;
        let uuid = ids::decode(WEBHOOK, "id", &id).gql()?;
        webhooks::set_active(db, who, uuid, active)
            .await
            .map(Into::into)
            .gql()
    }
}
