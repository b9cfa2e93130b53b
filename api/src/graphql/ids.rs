//! Relay global IDs: opaque, and they say which type they name, so `node(id:)` can find anything
//! and a program id passed where a person id belongs is refused clearly.

use std::borrow::Cow;

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
    encoded(kind, id, |text| ID(text.to_owned()))
}

/// The global id of `kind` `id` written into `out` as a JSON string (its alphabet needs no
/// escaping), for answers written straight as JSON (`plain`).
pub fn write_json(kind: &str, id: Uuid, out: &mut Vec<u8>) {
    encoded(kind, id, |text| {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    })
}

/// The global id of `kind` `id`, given to `with`.
fn encoded<R>(kind: &str, id: Uuid, with: impl FnOnce(&str) -> R) -> R {
    // Written into a buffer on the stack and encoded by hand rather than through `format!` and
    // the base64 crate's general engine: a page of twenty supporters encodes twenty to sixty.
    let mut raw = [0u8; 64];
    let uuid_at = kind.len() + 1;
    let Some(text) = raw.get_mut(..uuid_at + uuid::fmt::Hyphenated::LENGTH) else {
        return with(&URL_SAFE_NO_PAD.encode(format!("{kind}:{id}")));
    };
    text[..kind.len()].copy_from_slice(kind.as_bytes());
    text[kind.len()] = b':';
    id.hyphenated().encode_lower(&mut text[uuid_at..]);
    url_safe_no_pad(text, with)
}

/// Base64 with the URL-safe alphabet and no padding (RFC 4648 §5), as `URL_SAFE_NO_PAD`; for
/// the short texts of ids, written into a buffer on the stack and given to `with`.
fn url_safe_no_pad<R>(bytes: &[u8], with: impl FnOnce(&str) -> R) -> R {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = [0u8; 88];
    let len = (bytes.len() * 4).div_ceil(3);
    if len > out.len() {
        return with(&URL_SAFE_NO_PAD.encode(bytes));
    }
    let sextet = |n: u32, k: u32| ALPHABET[((n >> (18 - 6 * k)) & 63) as usize];
    // Whole groups of three bytes as four characters each, without a bound checked per byte.
    let whole = bytes.chunks_exact(3);
    let rest = whole.remainder();
    let mut slots = out.chunks_exact_mut(4);
    for (chunk, slot) in whole.zip(&mut slots) {
        let n = u32::from(chunk[0]) << 16 | u32::from(chunk[1]) << 8 | u32::from(chunk[2]);
        slot[0] = sextet(n, 0);
        slot[1] = sextet(n, 1);
        slot[2] = sextet(n, 2);
        slot[3] = sextet(n, 3);
    }
    if let Some(slot) = slots.next().filter(|_| !rest.is_empty()) {
        let byte = |i: usize| u32::from(rest.get(i).copied().unwrap_or(0));
        let n = byte(0) << 16 | byte(1) << 8;
        // One byte left makes two characters, two make three.
        for (k, c) in slot.iter_mut().take(rest.len() + 1).enumerate() {
            *c = sextet(n, k as u32);
        }
    }
    // Only the alphabet's ASCII was written.
    with(std::str::from_utf8(&out[..len]).unwrap_or_default())
}

/// A Relay cursor: the global id of the record at an edge, written only when asked for.
pub struct IdCursor {
    pub kind: Cow<'static, str>,
    pub id: Uuid,
}

impl async_graphql::connection::CursorType for IdCursor {
    type Error = CoreError;

    fn decode_cursor(s: &str) -> Result<Self, CoreError> {
        let (kind, id) = decode_any("cursor", &ID(s.to_owned()))?;
        Ok(IdCursor {
            kind: Cow::Owned(kind),
            id,
        })
    }

    fn encode_cursor(&self) -> String {
        encode(&self.kind, self.id).0
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::connection::CursorType;

    #[test]
    fn written_by_hand_as_the_base64_crate_writes_it() {
        let bytes: Vec<u8> = (0..=255u8).rev().chain(0..=255).collect();
        for len in 0..=70 {
            for start in [0, 1, 2, 100, 250] {
                let slice = &bytes[start..start + len];
                assert_eq!(
                    url_safe_no_pad(slice, str::to_owned),
                    URL_SAFE_NO_PAD.encode(slice),
                    "{slice:?}"
                );
            }
        }
    }

    #[test]
    fn ids_and_cursors_read_back() {
        let id = Uuid::new_v4();
        let global = encode(PEER_SUPPORTER, id);
        assert_eq!(
            global.0,
            URL_SAFE_NO_PAD.encode(format!("{PEER_SUPPORTER}:{id}"))
        );
        assert_eq!(decode(PEER_SUPPORTER, "id", &global).unwrap(), id);
        let long_kind = "K".repeat(40);
        assert_eq!(
            decode_any("id", &encode(&long_kind, id)).unwrap(),
            (long_kind, id)
        );
        let cursor = IdCursor {
            kind: Cow::Borrowed(PERSON),
            id,
        };
        let read = IdCursor::decode_cursor(&cursor.encode_cursor()).unwrap();
        assert_eq!((read.kind.as_ref(), read.id), (PERSON, id));
        let mut json = Vec::new();
        write_json(PEER_SUPPORTER, id, &mut json);
        assert_eq!(
            serde_json::from_slice::<String>(&json).unwrap(),
            global.0,
            "written as a JSON string"
        );
    }
}
