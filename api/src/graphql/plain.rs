//! Lists of plain objects answered in one pass, written straight as JSON.
//!
//! async-graphql resolves every field of every object as a boxed future of its own, joined
//! through a map hashed with SipHash: for a page of twenty supporters and their people, some
//! three hundred allocations and as many polls for values already in memory (#22: half of the
//! node's instructions for `peerSupporters(first: 20)`). A connection wrapped in
//! [`PlainConnection`] first tries to write its whole answer as JSON from what it holds; the
//! moment the selection asks for anything that is not a plain value (a fragment, a directive, an
//! argument, a response key given twice, a field read through a DataLoader, a field this module
//! does not know), it hands the whole connection to async-graphql's resolver, which answers as
//! before. The schema is async-graphql's own: the wrapper registers the connection it wraps.
//!
//! The answer is written as JSON text, not built as async-graphql `Value`s (an `IndexMap` with
//! a SipHash key for each field, a fifth of a PostgreSQL read's instructions): it stands in the
//! response as a marker ([`Written`]) that the response's writer replaces with the text. Leaves
//! are written as async-graphql writes them (serde_json for strings, numbers, lists and null;
//! an enum by its GraphQL name; other scalars through their `Value`), and tests
//! (`tests/e2e/domain.rs` for supporters, people and programs, `tests/e2e/library.rs` for
//! resources) ask for every plain field both ways and compare the answers.

use std::borrow::Cow;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, OnceLock};

use async_graphql::connection::{Connection, DefaultEdgeName, Edge, EmptyFields};
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::resolver_utils::EnumType;
use async_graphql::{
    ContextSelectionSet, OutputType, Pos, Positioned, ServerError, ServerResult, Value,
};
use serde::Serialize;

use super::ids::{self, IdCursor};

/// An object some of whose fields are values it holds.
pub trait Plain: OutputType {
    /// Writes the value of `field` (which has no arguments and no directives) into `out` as
    /// JSON, or gives `None` when only the full resolver can answer it.
    fn plain_field(&self, field: &Field, out: &mut Vec<u8>) -> Option<()>;
}

/// `value` written into `out` as JSON, as async-graphql writes its `Value` of it.
pub fn json<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) -> Option<()> {
    serde_json::to_writer(out, value).ok()
}

/// A GraphQL enum written by its name, without the `Value` (and the name's allocation) that
/// async-graphql makes of it.
pub fn enum_name<T: EnumType>(out: &mut Vec<u8>, value: T) -> Option<()> {
    let item = T::items().iter().find(|item| item.value == value)?;
    json(out, item.name)
}

/// GraphQL enums written as a list of their names.
pub fn enum_names<T: EnumType>(out: &mut Vec<u8>, values: impl Iterator<Item = T>) -> Option<()> {
    list(out, values, |value, out| enum_name(out, value))
}

/// A scalar written through its async-graphql `Value` (dates and times: rare in lists).
pub fn scalar<T: async_graphql::InputType>(out: &mut Vec<u8>, value: &T) -> Option<()> {
    json(out, &value.to_value())
}

/// `set` answered for `item` into `out`, or `None` if any part of it needs the full resolver.
pub fn object<T: Plain + ?Sized>(item: &T, set: &SelectionSet, out: &mut Vec<u8>) -> Option<()> {
    fields(set, out, |field, out| match field.name.node.as_str() {
        "__typename" => json(out, item.introspection_type_name().as_ref()),
        _ => item.plain_field(field, out),
    })
}

/// The plain fields of `set`, each written by `answer`, in the order asked, as a JSON object;
/// an empty selection (all skipped) is null, as async-graphql answers it. A response key given
/// twice is left to async-graphql, which merges the two selections.
pub fn fields(
    set: &SelectionSet,
    out: &mut Vec<u8>,
    mut answer: impl FnMut(&Field, &mut Vec<u8>) -> Option<()>,
) -> Option<()> {
    let start = out.len();
    out.push(b'{');
    for (at, selection) in set.items.iter().enumerate() {
        let Selection::Field(field) = &selection.node else {
            return None;
        };
        let field = &field.node;
        if !field.directives.is_empty() || !field.arguments.is_empty() {
            return None;
        }
        let key = field.response_key().node.as_str();
        let again = set.items[..at].iter().any(|earlier| match &earlier.node {
            Selection::Field(earlier) => earlier.node.response_key().node.as_str() == key,
            _ => false,
        });
        if again {
            return None;
        }
        if at > 0 {
            out.push(b',');
        }
        // A response key is a GraphQL name: letters, digits and `_`, nothing to escape.
        out.push(b'"');
        out.extend_from_slice(key.as_bytes());
        out.extend_from_slice(b"\":");
        answer(field, out)?;
    }
    if set.items.is_empty() {
        out.truncate(start);
        out.extend_from_slice(b"null");
    } else {
        out.push(b'}');
    }
    Some(())
}

/// Each of `items` written by `item` as a JSON list.
fn list<I>(
    out: &mut Vec<u8>,
    items: impl Iterator<Item = I>,
    mut item: impl FnMut(I, &mut Vec<u8>) -> Option<()>,
) -> Option<()> {
    out.push(b'[');
    for (at, each) in items.enumerate() {
        if at > 0 {
            out.push(b',');
        }
        item(each, out)?;
    }
    out.push(b']');
    Some(())
}

/// The answers a request's lists wrote as JSON, each standing in the response as a marker
/// string until the response is written ([`Written::write_response`]). One for each request
/// (`graphql::execute`).
#[derive(Clone, Default)]
pub struct Written {
    answers: Arc<Mutex<Vec<Vec<u8>>>>,
}

/// Markers begin with a key drawn once per process and never sent: no text a person stored can
/// be taken for one.
fn marker_key() -> &'static str {
    static KEY: OnceLock<String> = OnceLock::new();
    KEY.get_or_init(|| format!("alongside-written-{}", uuid::Uuid::new_v4().simple()))
}

fn marker(index: usize) -> String {
    format!("{}-{index}", marker_key())
}

impl Written {
    /// Keeps `json`, and gives the value that stands for it in the response.
    fn keep(&self, json: Vec<u8>) -> Option<Value> {
        let mut answers = self.answers.lock().ok()?;
        answers.push(json);
        Some(Value::String(marker(answers.len() - 1)))
    }

    /// `response` written as JSON into `body`, each marker replaced by the answer it stands for;
    /// the answers are moved out, so a second call would leave its markers.
    pub fn write_response(
        &self,
        response: &async_graphql::Response,
        body: &mut Vec<u8>,
    ) -> serde_json::Result<()> {
        let mut answers: Vec<Option<Vec<u8>>> = match self.answers.lock() {
            Ok(mut answers) => answers.drain(..).map(Some).collect(),
            Err(_) => Vec::new(),
        };
        if answers.is_empty() {
            return serde_json::to_writer(&mut *body, response);
        }
        // The response around the markers is short (the lists are the bulk of it): written
        // aside, then copied once with each marker's answer in its place.
        let mut around = Vec::with_capacity(256);
        serde_json::to_writer(&mut around, response)?;
        body.reserve(around.len() + answers.iter().flatten().map(Vec::len).sum::<usize>());
        let opening = format!("\"{}-", marker_key());
        let mut rest = around.as_slice();
        while let Some(at) = find(rest, opening.as_bytes()) {
            let after = &rest[at + opening.len()..];
            let digits = after.iter().take_while(|b| b.is_ascii_digit()).count();
            let index = std::str::from_utf8(&after[..digits])
                .ok()
                .and_then(|d| d.parse::<usize>().ok());
            let answer = match (index, after.get(digits)) {
                (Some(i), Some(b'"')) => answers.get_mut(i).and_then(Option::take),
                _ => None,
            };
            match answer {
                Some(answer) => {
                    body.extend_from_slice(&rest[..at]);
                    body.extend_from_slice(&answer);
                    rest = &after[digits + 1..];
                }
                // Not a whole marker of ours, or one already replaced: left as it is.
                None => {
                    body.extend_from_slice(&rest[..at + opening.len()]);
                    rest = after;
                }
            }
        }
        body.extend_from_slice(rest);
        Ok(())
    }
}

/// Where `needle` first starts in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A Relay connection of plain objects, with cursors as strings, or its answer already written
/// from a narrower read ([`Listing`]). It is, to the schema and to clients, exactly the
/// connection it wraps.
pub enum PlainConnection<T: Plain> {
    Objects(Connection<IdCursor, T>),
    /// Taken by the one resolution of this field.
    Answered(Mutex<Option<Vec<u8>>>),
}

impl<T: Plain> PlainConnection<T> {
    pub fn answered(json: Vec<u8>) -> Self {
        Self::Answered(Mutex::new(Some(json)))
    }
}

type Inner<T> = Connection<IdCursor, T>;
type InnerEdge<T> = Edge<IdCursor, T, EmptyFields, DefaultEdgeName>;

/// `json`, an answer written for `field`, as the value the response carries.
fn as_value(ctx: &ContextSelectionSet<'_>, json: Vec<u8>, pos: Pos) -> ServerResult<Value> {
    let failed = |what: &str| ServerError::new(format!("a list's answer {what}"), Some(pos));
    match ctx.data_opt::<Written>() {
        Some(written) => written
            .keep(json)
            .ok_or_else(|| failed("could not be kept")),
        // Run outside `graphql::execute` (no writer to splice it in): read back as a value.
        None => serde_json::from_slice(&json).map_err(|_| failed("is not JSON")),
    }
}

impl<T: Plain + Sync> OutputType for PlainConnection<T> {
    fn type_name() -> Cow<'static, str> {
        Inner::<T>::type_name()
    }

    fn qualified_type_name() -> String {
        Inner::<T>::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        Inner::<T>::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        Inner::<T>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let conn = match self {
            Self::Objects(conn) => conn,
            Self::Answered(json) => {
                let taken = json.lock().ok().and_then(|mut v| v.take());
                let Some(json) = taken else {
                    return Err(ServerError::new(
                        "a list's answer was asked for twice",
                        Some(field.pos),
                    ));
                };
                return as_value(ctx, json, field.pos);
            }
        };
        // The schema has no extensions (`build_schema`): one that watched each field resolve
        // would not see the fields answered here.
        let listing: Listing<'_, T, _> =
            Listing::new(&conn.edges, conn.has_previous_page, conn.has_next_page);
        if let Some(json) = listing.answer(&ctx.item.node, |e| (&e.cursor, &e.node), object) {
            return as_value(ctx, json, field.pos);
        }
        conn.resolve(ctx, field).await
    }
}

/// A page as the connection of `T` answers it, from items of any form: `T` itself, or a
/// narrower read of it that answers a selection of `T`'s plain fields.
pub struct Listing<'a, T, E> {
    edges: &'a [E],
    has_previous_page: bool,
    has_next_page: bool,
    of: PhantomData<T>,
}

/// Room for a typical answer's JSON per item, so a page is written without growing its buffer
/// more than once or twice.
const BYTES_PER_ITEM: usize = 256;

impl<'a, T: Plain, E> Listing<'a, T, E> {
    pub fn new(edges: &'a [E], has_previous_page: bool, has_next_page: bool) -> Self {
        Self {
            edges,
            has_previous_page,
            has_next_page,
            of: PhantomData,
        }
    }

    /// `set`, asked of the connection of `T`, written as JSON from the edges (each split by
    /// `parts` into its cursor and its item, whose fields `node` writes), or `None` if any part
    /// of it needs more.
    pub fn answer<N: 'a>(
        &self,
        set: &SelectionSet,
        parts: impl Fn(&'a E) -> (&'a IdCursor, &'a N),
        node: impl Fn(&'a N, &SelectionSet, &mut Vec<u8>) -> Option<()>,
    ) -> Option<Vec<u8>> {
        let cursor = |e: Option<&'a E>, out: &mut Vec<u8>| {
            match e {
                Some(e) => {
                    let at = parts(e).0;
                    ids::write_json(&at.kind, at.id, out);
                }
                None => out.extend_from_slice(b"null"),
            }
            Some(())
        };
        let mut out = Vec::with_capacity(64 + BYTES_PER_ITEM * self.edges.len());
        fields(set, &mut out, |field, out| {
            let below = &field.selection_set.node;
            match field.name.node.as_str() {
                "__typename" => json(out, Inner::<T>::type_name().as_ref()),
                "edges" => list(out, self.edges.iter(), |e, out| {
                    let (at, item) = parts(e);
                    fields(below, out, |field, out| match field.name.node.as_str() {
                        "__typename" => json(out, InnerEdge::<T>::type_name().as_ref()),
                        "cursor" => {
                            ids::write_json(&at.kind, at.id, out);
                            Some(())
                        }
                        "node" => node(item, &field.selection_set.node, out),
                        _ => None,
                    })
                }),
                "nodes" => list(out, self.edges.iter(), |e, out| {
                    node(parts(e).1, below, out)
                }),
                "pageInfo" => fields(below, out, |field, out| match field.name.node.as_str() {
                    "__typename" => json(out, "PageInfo"),
                    "hasPreviousPage" => json(out, &self.has_previous_page),
                    "hasNextPage" => json(out, &self.has_next_page),
                    "startCursor" => cursor(self.edges.first(), out),
                    "endCursor" => cursor(self.edges.last(), out),
                    _ => None,
                }),
                _ => None,
            }
        })?;
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::SimpleObject;
    use async_graphql::connection::CursorType;
    use async_graphql::parser::types::DocumentOperations;

    #[derive(SimpleObject)]
    struct Thing {
        n: i32,
    }

    impl Plain for Thing {
        fn plain_field(&self, field: &Field, out: &mut Vec<u8>) -> Option<()> {
            (field.name.node == "n").then(|| json(out, &self.n))?
        }
    }

    /// The selection of the first field of `query`'s only operation.
    fn selection(query: &str) -> SelectionSet {
        let doc = async_graphql::parser::parse_query(query).unwrap();
        let DocumentOperations::Single(op) = doc.operations else {
            panic!("one operation")
        };
        let Selection::Field(field) = &op.node.selection_set.node.items[0].node else {
            panic!("a field")
        };
        field.node.selection_set.node.clone()
    }

    fn cursor(n: u128) -> IdCursor {
        IdCursor {
            kind: "Thing".into(),
            id: uuid::Uuid::from_u128(n),
        }
    }

    /// As `PlainConnection` answers before it falls back.
    fn connection(conn: &Inner<Thing>, set: &SelectionSet) -> Option<serde_json::Value> {
        let listing: Listing<'_, Thing, _> =
            Listing::new(&conn.edges, conn.has_previous_page, conn.has_next_page);
        let json = listing.answer(set, |e| (&e.cursor, &e.node), object)?;
        Some(serde_json::from_slice(&json).expect("valid JSON"))
    }

    fn things() -> Inner<Thing> {
        let mut conn = Connection::new(false, true);
        conn.edges.push(Edge::new(cursor(1), Thing { n: 1 }));
        conn.edges.push(Edge::new(cursor(2), Thing { n: 2 }));
        conn
    }

    #[test]
    fn a_plain_selection_is_answered_in_one_pass() {
        let set = selection(
            "{ things { edges { cursor node { n m: n } } nodes { __typename n } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }",
        );
        let value = connection(&things(), &set).expect("answered in one pass");
        let (a, b) = (cursor(1).encode_cursor(), cursor(2).encode_cursor());
        assert_eq!(
            value,
            serde_json::json!({
                "edges": [
                    { "cursor": a, "node": { "n": 1, "m": 1 } },
                    { "cursor": b, "node": { "n": 2, "m": 2 } },
                ],
                "nodes": [{ "__typename": "Thing", "n": 1 }, { "__typename": "Thing", "n": 2 }],
                "pageInfo": {
                    "hasNextPage": true,
                    "hasPreviousPage": false,
                    "startCursor": a,
                    "endCursor": b,
                },
            })
        );
    }

    #[test]
    fn anything_else_goes_to_the_full_resolver() {
        for query in [
            "{ things { edges { node { ... on Thing { n } } } } }",
            "{ things { ... on ThingConnection { edges { cursor } } } }",
            "{ things { edges { node { other } } } }",
            "{ things { edges { node { n @custom } } } }",
            "{ things { edges { node { n(x: 1) } } } }",
            "{ things { totalCount } }",
            // async-graphql merges the two selections of one key.
            "{ things { edges { node { n n } } } }",
            "{ things { edges { node { n } } edges { cursor } } }",
        ] {
            assert!(
                connection(&things(), &selection(query)).is_none(),
                "{query}"
            );
        }
    }

    #[test]
    fn written_answers_take_their_markers_places() {
        let written = Written::default();
        let first = written.keep(br#"{"edges":[{"n":1}]}"#.to_vec()).unwrap();
        let second = written.keep(b"[]".to_vec()).unwrap();
        let dropped = written.keep(b"{}".to_vec()).unwrap();
        let Value::String(marker) = &dropped else {
            panic!("a string")
        };
        assert!(marker.starts_with("alongside-written-"));
        let mut data = async_graphql::indexmap::IndexMap::new();
        // In the response in another order than kept.
        data.insert(async_graphql::Name::new("other"), second);
        data.insert(async_graphql::Name::new("things"), first);
        // A marker of this process's with no answer kept stays as it is.
        data.insert(
            async_graphql::Name::new("unknown"),
            Value::String(super::marker(99)),
        );
        // A text like a marker, but without the process's key, stays as it is.
        data.insert(
            async_graphql::Name::new("name"),
            Value::String("alongside-written-0-0".into()),
        );
        let response = async_graphql::Response::new(Value::Object(data));
        let mut body = b"x".to_vec();
        written.write_response(&response, &mut body).unwrap();
        assert_eq!(body[0], b'x', "written after what the buffer held");
        let answer: serde_json::Value = serde_json::from_slice(&body[1..]).unwrap();
        assert_eq!(
            answer,
            serde_json::json!({ "data": {
                "other": [],
                "things": { "edges": [{ "n": 1 }] },
                "unknown": super::marker(99),
                "name": "alongside-written-0-0",
            } })
        );
    }
}
