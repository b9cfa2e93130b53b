//! Relay global IDs: opaque, and they say which type they name, so `node(id:)` can find anything
//! and a program id passed where a person id belongs is refused clearly.

use alongside_core::CoreError;
use async_graphql::ID;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

pub const PERSON: &str = "Person";
pub const PROGRAM: &str = "Program";
pub const PEER_SUPPORTER: &str = "PeerSupporter";
pub const ACCOUNT: &str = "Account";
pub const EVENT: &str = "Event";
pub const OUTREACH: &str = "Outreach";
pub const SUPPORT_REQUEST: &str = "SupportRequest";
pub const FOLLOW_UP: &str = "FollowUp";
pub const MILESTONE: &str = "Milestone";

pub fn encode(kind: &str, id: Uuid) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{kind}:{id}")))
}

/// Splits a global id into its type name and record id.
pub fn decode_any(field: &str, id: &ID) -> Result<(String, Uuid), CoreError> {
    let bad = || CoreError::bad_input(field, "is not an id this node issued");
    let bytes = URL_SAFE_NO_PAD.decode(id.as_str()).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    let (kind, raw) = text.split_once(':').ok_or_else(bad)?;
    let uuid = Uuid::parse_str(raw).map_err(|_| bad())?;
    Ok((kind.to_owned(), uuid))
}

/// Decodes a global id that must name a `kind`.
pub fn decode(kind: &str, field: &str, id: &ID) -> Result<Uuid, CoreError> {
    let (found, uuid) = decode_any(field, id)?;
    if found == kind {
        Ok(uuid)
    } else {
        Err(CoreError::bad_input(
            field,
            format!("is the id of a {found}, not of a {kind}"),
        ))
    }
}
