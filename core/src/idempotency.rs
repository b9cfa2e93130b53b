//! `Idempotency-Key` handling: the same key with the same body returns what the first request
//! created; the same key with another body is a conflict. Keys are scoped per caller.

use diesel::prelude::*;
use uuid::Uuid;

use crate::db::{DbConnection, Id};
use crate::error::CoreError;
use crate::schema::idempotency_keys;
use crate::{time, validate};

#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub scope: String,
    pub key: String,
    /// A digest of the request body.
    pub request_hash: String,
}

impl IdempotencyKey {
    pub fn new(scope: String, key: &str, request_hash: String) -> Result<Self, CoreError> {
        let key = validate::line("Idempotency-Key", key, 200)?;
        Ok(Self {
            scope,
            key,
            request_hash,
        })
    }
}

/// The resource an earlier request with this key created, if any; a conflict if the body differs.
pub fn lookup(conn: &mut DbConnection, key: &IdempotencyKey) -> Result<Option<Uuid>, CoreError> {
    let found: Option<(String, Uuid)> = idempotency_keys::table
        .filter(idempotency_keys::scope.eq(&key.scope))
        .filter(idempotency_keys::idem_key.eq(&key.key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::resource_id,
        ))
        .first(conn)
        .optional()?;
    match found {
        None => Ok(None),
        Some((hash, id)) if hash == key.request_hash => Ok(Some(id)),
        Some(_) => Err(CoreError::Conflict(
            "this Idempotency-Key was already used with a different request body; use a new key"
                .into(),
        )),
    }
}

/// Records the key in the same transaction that created `resource`.
pub fn record(
    conn: &mut DbConnection,
    key: &IdempotencyKey,
    resource: Uuid,
) -> Result<(), CoreError> {
    diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::scope.eq(&key.scope),
            idempotency_keys::idem_key.eq(&key.key),
            idempotency_keys::request_hash.eq(&key.request_hash),
            idempotency_keys::resource_id.eq(Id(resource)),
            idempotency_keys::created_at.eq(time::now()),
        ))
        .execute(conn)
        .map_err(|e| match CoreError::from(e) {
            // A concurrent request with the same key won the race.
            CoreError::Conflict(_) => CoreError::Conflict(
                "a request with this Idempotency-Key is already being processed; retry".into(),
            ),
            other => other,
        })?;
    Ok(())
}
