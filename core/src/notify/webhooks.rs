//! Webhooks for partner apps: admins register an endpoint and the event types it wants; each
//! matching change queues one delivery per endpoint in the same transaction. Payloads carry ids,
//! never personal data. Each delivery is signed with HMAC-SHA256 over `"{timestamp}.{body}"`.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::json;
use sha2::Sha256;
use uuid::Uuid;

use super::destinations::Destinations;
use super::outbox::{Channel, enqueue};
use crate::access::{Operation, Principal, authorize};
use crate::db::{Db, DbConnection, Id, Json};
use crate::error::CoreError;
use crate::ids::new_id;
use crate::schema::{webhook_deliveries, webhook_endpoints};
use crate::stored::to_json;
use crate::{secrets, time, validate};

/// The event types an endpoint can subscribe to.
pub const EVENT_TYPES: [&str; 5] = [
    "event.created",
    "outreach.created",
    "support_request.created",
    "support_request.state_changed",
    HANDOFF_CREATED,
];

/// A hand-off to a tier-3 program: sent only to that program's own intake endpoint, and the
/// one webhook that carries personal data — what the person agreed to share with the program.
/// Erased from the outbox once delivered.
pub const HANDOFF_CREATED: &str = "handoff.created";

/// The signature header: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub const SIGNATURE_HEADER: &str = "Alongside-Signature";
/// The delivery's idempotency key, the same on every retry.
pub const DELIVERY_HEADER: &str = "Alongside-Delivery";

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints)]
pub struct Endpoint {
    pub id: Uuid,
    pub url: String,
    #[diesel(deserialize_as = Json<Vec<String>>)]
    pub event_types: Vec<String>,
    pub active: bool,
    pub disabled_reason: Option<String>,
    pub created_at: NaiveDateTime,
}

/// Registers an endpoint; returns it with its signing secret, shown once. The URL must reach a
/// destination webhooks may go to (see `destinations`).
pub async fn register(
    db: &Db,
    who: &Principal,
    destinations: &Destinations,
    url: String,
    event_types: Vec<String>,
) -> Result<(Endpoint, String), CoreError> {
    authorize(who, Operation::ManageAccounts)?;
    let url = validate::line("url", &url, 500)?;
    destinations.check_url("url", &url)?;
    if event_types.is_empty() {
        return Err(CoreError::bad_input(
            "eventTypes",
            format!("choose at least one of {}", EVENT_TYPES.join(", ")),
        ));
    }
    if let Some(bad) = event_types
        .iter()
        .find(|t| !EVENT_TYPES.contains(&t.as_str()))
    {
        return Err(CoreError::bad_input(
            "eventTypes",
            format!(
                "unknown event type {bad:?}; known: {}",
                EVENT_TYPES.join(", ")
            ),
        ));
    }
    let secret = format!("whsec_{}", secrets::random_token()?);
    let stored_secret = secret.clone();
    let endpoint = db
        .transaction(move |conn| {
            let id = new_id();
            forget_endpoints();
            diesel::insert_into(webhook_endpoints::table)
                .values((
                    webhook_endpoints::id.eq(Id(id)),
                    webhook_endpoints::url.eq(&url),
                    webhook_endpoints::secret.eq(&stored_secret),
                    webhook_endpoints::event_types.eq(to_json(&event_types)?),
                    webhook_endpoints::active.eq(true),
                    webhook_endpoints::created_at.eq(time::now()),
                ))
                .execute(conn)?;
            load(conn, id)
        })
        .await?;
    Ok((endpoint, secret))
}

fn load(conn: &mut DbConnection, id: Uuid) -> Result<Endpoint, CoreError> {
    webhook_endpoints::table
        .filter(webhook_endpoints::id.eq(Id(id)))
        .select(Endpoint::as_select())
        .first(conn)
        .optional()?
        .ok_or(CoreError::NotFound("webhook endpoint"))
}

pub async fn list(db: &Db, who: &Principal) -> Result<Vec<Endpoint>, CoreError> {
    authorize(who, Operation::ManageAccounts)?;
    db.run(|conn| {
        webhook_endpoints::table
            .order(webhook_endpoints::id.asc())
            .select(Endpoint::as_select())
            .load(conn)
            .map_err(Into::into)
    })
    .await
}

/// The endpoint's URL and secret, for the delivery worker.
pub fn target(
    conn: &mut DbConnection,
    id: Uuid,
) -> Result<Option<(String, String, bool)>, CoreError> {
    Ok(webhook_endpoints::table
        .filter(webhook_endpoints::id.eq(Id(id)))
        .select((
            webhook_endpoints::url,
            webhook_endpoints::secret,
            webhook_endpoints::active,
        ))
        .first(conn)
        .optional()?)
}

/// Stops deliveries to an endpoint (410 Gone from the receiver, or an admin's decision).
pub fn disable(conn: &mut DbConnection, id: Uuid, reason: &str) -> Result<(), CoreError> {
    forget_endpoints();
    diesel::update(webhook_endpoints::table.filter(webhook_endpoints::id.eq(Id(id))))
        .set((
            webhook_endpoints::active.eq(false),
            webhook_endpoints::disabled_reason.eq(Some(reason)),
        ))
        .execute(conn)?;
    Ok(())
}

pub async fn set_active(
    db: &Db,
    who: &Principal,
    id: Uuid,
    active: bool,
) -> Result<Endpoint, CoreError> {
    authorize(who, Operation::ManageAccounts)?;
    db.transaction(move |conn| {
        load(conn, id)?;
        forget_endpoints();
        diesel::update(webhook_endpoints::table.filter(webhook_endpoints::id.eq(Id(id))))
            .set((
                webhook_endpoints::active.eq(active),
                webhook_endpoints::disabled_reason.eq(if active {
                    None
                } else {
                    Some("disabled by an admin")
                }),
            ))
            .execute(conn)?;
        load(conn, id)
    })
    .await
}

/// One attempt, for the per-endpoint delivery log.
pub fn log_attempt(
    conn: &mut DbConnection,
    endpoint: Uuid,
    outbox_id: Uuid,
    attempt: i32,
    status: Option<i32>,
    error: Option<&str>,
) -> Result<(), CoreError> {
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::id.eq(Id(new_id())),
            webhook_deliveries::endpoint_id.eq(Id(endpoint)),
            webhook_deliveries::outbox_id.eq(Id(outbox_id)),
            webhook_deliveries::attempt.eq(attempt),
            webhook_deliveries::status_code.eq(status),
            webhook_deliveries::error.eq(error.map(|e| e.chars().take(300).collect::<String>())),
            webhook_deliveries::at.eq(time::now()),
        ))
        .execute(conn)?;
    Ok(())
}

type AttemptRow = (Uuid, i32, Option<i32>, Option<String>, NaiveDateTime);

#[derive(Debug, Clone)]
pub struct Attempt {
    pub outbox_id: Uuid,
    pub attempt: i32,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub at: NaiveDateTime,
}

pub async fn deliveries(
    db: &Db,
    who: &Principal,
    endpoint: Uuid,
) -> Result<Vec<Attempt>, CoreError> {
    authorize(who, Operation::ManageAccounts)?;
    db.run(move |conn| {
        let rows: Vec<AttemptRow> = webhook_deliveries::table
            .filter(webhook_deliveries::endpoint_id.eq(Id(endpoint)))
            .order(webhook_deliveries::at.desc())
            .limit(200)
            .select((
                webhook_deliveries::outbox_id,
                webhook_deliveries::attempt,
                webhook_deliveries::status_code,
                webhook_deliveries::error,
                webhook_deliveries::at,
            ))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .map(|(outbox_id, attempt, status_code, error, at)| Attempt {
                outbox_id,
                attempt,
                status_code,
                error,
                at,
            })
            .collect())
    })
    .await
}

#[derive(Serialize)]
struct Envelope<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    created_at: String,
    data: serde_json::Value,
}

/// Queues `kind` with `data` (ids only) for every active endpoint subscribed to it.
pub fn publish(
    conn: &mut DbConnection,
    kind: &str,
    data: serde_json::Value,
) -> Result<(), CoreError> {
    let remembered = ENDPOINTS.with(|m| match &*m.borrow() {
        Memo::Read(endpoints) => Some(subscribed(endpoints, kind)),
        _ => None,
    });
    let to = match remembered {
        Some(to) => to,
        None => {
            let endpoints = crate::db::memo::remembered(ENDPOINTS_MEMO, || {
                Ok(webhook_endpoints::table
                    .filter(webhook_endpoints::active.eq(true))
                    .select((webhook_endpoints::id, webhook_endpoints::event_types))
                    .load::<(Uuid, Json<Vec<String>>)>(conn)?
                    .into_iter()
                    .map(|(id, Json(types))| (id, types))
                    .collect::<Vec<(Uuid, Vec<String>)>>())
            })?;
            let to = subscribed(&endpoints, kind);
            ENDPOINTS.with(|m| {
                let mut m = m.borrow_mut();
                if matches!(*m, Memo::Unread) {
                    *m = Memo::Read(endpoints);
                }
            });
            to
        }
    };
    for endpoint in to {
        send_to(
            conn,
            endpoint,
            kind,
            data.clone(),
            super::outbox::Erase::Never,
        )?;
    }
    Ok(())
}

fn subscribed(endpoints: &[(Uuid, Vec<String>)], kind: &str) -> Vec<Uuid> {
    endpoints
        .iter()
        .filter(|(_, types)| types.iter().any(|t| t == kind))
        .map(|(id, _)| *id)
        .collect()
}

/// The active endpoints as one transaction read them.
enum Memo {
    /// Outside [`remembering`]: read on every publish.
    Off,
    Unread,
    Read(Vec<(Uuid, Vec<String>)>),
}

thread_local! {
    /// For the transaction running on this (blocking) thread: a write that moves a request
    /// twice publishes twice, and the endpoints are read once.
    static ENDPOINTS: std::cell::RefCell<Memo> = const { std::cell::RefCell::new(Memo::Off) };
}

/// Stops remembering when dropped, also on a panic.
struct Remembering;

impl Drop for Remembering {
    fn drop(&mut self) {
        ENDPOINTS.with(|m| *m.borrow_mut() = Memo::Off);
    }
}

/// Runs `work` (one transaction) reading the active endpoints at most once. Nested calls are
/// part of the outer one.
pub(crate) fn remembering<T>(work: impl FnOnce() -> T) -> T {
    if ENDPOINTS.with(|m| !matches!(*m.borrow(), Memo::Off)) {
        return work();
    }
    ENDPOINTS.with(|m| *m.borrow_mut() = Memo::Unread);
    let _guard = Remembering;
    work()
}

/// The active endpoints, as the database threads remember them (`db::memo`): a new one, or one
/// stopped, on another replica is seen within `db::memo::FRESH_FOR`.
const ENDPOINTS_MEMO: &str = "webhook endpoints";

/// A change to the endpoints: what this transaction, and the database threads, read of them is
/// stale.
fn forget_endpoints() {
    crate::db::memo::forget(ENDPOINTS_MEMO);
    ENDPOINTS.with(|m| {
        let mut m = m.borrow_mut();
        if matches!(*m, Memo::Read(_)) {
            *m = Memo::Unread;
        }
    });
}

/// Queues `kind` with `data` for one endpoint (a program's intake), whatever it subscribed to;
/// `erase` says what the outbox keeps of it once sent.
pub fn send_to(
    conn: &mut DbConnection,
    endpoint: Uuid,
    kind: &str,
    data: serde_json::Value,
    erase: super::outbox::Erase,
) -> Result<(), CoreError> {
    let delivery = new_id().to_string();
    let body = serde_json::to_string(&Envelope {
        id: &delivery,
        kind,
        created_at: time::now()
            .and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        data,
    })
    .map_err(CoreError::internal)?;
    enqueue(
        conn,
        Channel::Webhook,
        kind,
        &endpoint.to_string(),
        &format!("webhook:{delivery}"),
        &body,
        erase,
    )
}

/// The signature header value for `body` at `timestamp`.
pub fn sign(secret: &str, timestamp: i64, body: &str) -> Result<String, CoreError> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(CoreError::internal)?;
    mac.update(format!("{timestamp}.{body}").as_bytes());
    let digest = mac.finalize().into_bytes();
    Ok(format!(
        "t={timestamp},v1={}",
        digest
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    ))
}

/// What a receiver does: checks the signature and that the timestamp is within `tolerance`
/// seconds of `now`. Kept here so the documented check is the tested one.
pub fn verify(
    secret: &str,
    header: &str,
    body: &str,
    now: i64,
    tolerance: i64,
) -> Result<(), &'static str> {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1 = Some(v),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return Err("malformed signature header");
    };
    if (now - t).abs() > tolerance {
        return Err("timestamp outside tolerance (replay?)");
    }
    let expected = sign(secret, t, body).map_err(|_| "bad secret")?;
    let expected_v1 = expected.rsplit_once("v1=").map(|(_, v)| v).unwrap_or("");
    if secrets::constant_time_eq(expected_v1, v1) {
        Ok(())
    } else {
        Err("signature mismatch")
    }
}

/// Payload helpers: ids only.
pub fn ids(pairs: &[(&str, String)]) -> serde_json::Value {
    let mut map = serde_json::Map::new();
    for (k, v) in pairs {
        map.insert((*k).to_owned(), json!(v));
    }
    serde_json::Value::Object(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_and_reject_tampering_and_replays() {
        let header = sign("whsec_x", 1_000, "{\"a\":1}").unwrap();
        assert!(verify("whsec_x", &header, "{\"a\":1}", 1_010, 300).is_ok());
        assert_eq!(
            verify("whsec_x", &header, "{\"a\":2}", 1_010, 300),
            Err("signature mismatch")
        );
        assert_eq!(
            verify("whsec_y", &header, "{\"a\":1}", 1_010, 300),
            Err("signature mismatch")
        );
        assert_eq!(
            verify("whsec_x", &header, "{\"a\":1}", 2_000, 300),
            Err("timestamp outside tolerance (replay?)")
        );
        assert_eq!(
            verify("whsec_x", "nonsense", "{}", 1_000, 300),
            Err("malformed signature header")
        );
    }
}
