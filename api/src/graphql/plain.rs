//! Lists of plain objects resolved in one pass.
//!
//! async-graphql resolves every field of every object as a boxed future of its own, joined
//! through a map hashed with SipHash: for a page of twenty supporters and their people, some
//! three hundred allocations and as many polls for values already in memory (#22: half of the
//! node's instructions for `peerSupporters(first: 20)`). A connection wrapped in
//! [`PlainConnection`] first tries to build its whole answer directly from what it holds; the
//! moment the selection asks for anything that is not a plain value (a fragment, a directive, an
//! argument, a field read through a DataLoader, a field this module does not know), it hands the
//! whole connection to async-graphql's resolver, which answers as before. The schema is
//! async-graphql's own: the wrapper registers the connection it wraps.
//!
//! The values come from the same conversions async-graphql uses (`InputType::to_value` for
//! scalars and enums), and a test (`tests/e2e/domain.rs`) asks for every plain field both ways
//! and compares the answers.

use std::borrow::Cow;
use std::marker::PhantomData;
use std::sync::Mutex;

use async_graphql::connection::{Connection, CursorType, DefaultEdgeName, Edge, EmptyFields};
use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::{
    ContextSelectionSet, Name, OutputType, Positioned, ServerError, ServerResult, Value,
};

use super::ids::IdCursor;

/// An object some of whose fields are values it holds.
pub trait Plain: OutputType {
    /// The value of `field` (which has no arguments and no directives), or `None` when only the
    /// full resolver can answer it.
    fn plain_field(&self, field: &Field) -> Option<Value>;
}

/// `set` answered for `item`, or `None` if any part of it needs the full resolver.
pub fn object<T: Plain + ?Sized>(item: &T, set: &SelectionSet) -> Option<Value> {
    fields(set, |field| match field.name.node.as_str() {
        "__typename" => Some(Value::String(item.introspection_type_name().into_owned())),
        _ => item.plain_field(field),
    })
}

/// The plain fields of `set`, each answered by `answer`, in the order asked, the first of two
/// with the same response key kept (as async-graphql does); an empty selection (all skipped) is
/// null, as async-graphql answers it.
pub fn fields(
    set: &SelectionSet,
    mut answer: impl FnMut(&Field) -> Option<Value>,
) -> Option<Value> {
    let mut map: IndexMap<Name, Value> = IndexMap::with_capacity(set.items.len());
    for selection in &set.items {
        let Selection::Field(field) = &selection.node else {
            return None;
        };
        let field = &field.node;
        if !field.directives.is_empty() || !field.arguments.is_empty() {
            return None;
        }
        let value = answer(field)?;
        map.entry(field.response_key().node.clone())
            .or_insert(value);
    }
    Some(if map.is_empty() {
        Value::Null
    } else {
        Value::Object(map)
    })
}

/// A Relay connection of plain objects, with cursors as strings, or its answer already made
/// from a narrower read ([`Listing`]). It is, to the schema and to clients, exactly the
/// connection it wraps.
pub enum PlainConnection<T: Plain> {
    Objects(Connection<IdCursor, T>),
    /// Taken by the one resolution of this field.
    Answered(Mutex<Option<Value>>),
}

impl<T: Plain> PlainConnection<T> {
    pub fn answered(value: Value) -> Self {
        Self::Answered(Mutex::new(Some(value)))
    }
}

type Inner<T> = Connection<IdCursor, T>;
type InnerEdge<T> = Edge<IdCursor, T, EmptyFields, DefaultEdgeName>;

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
            Self::Answered(value) => {
                let taken = value.lock().ok().and_then(|mut v| v.take());
                return taken.ok_or_else(|| {
                    ServerError::new("a list's answer was asked for twice", Some(field.pos))
                });
            }
        };
        // The schema has no extensions (`build_schema`): one that watched each field resolve
        // would not see the fields answered here.
        let listing: Listing<'_, T, _> =
            Listing::new(&conn.edges, conn.has_previous_page, conn.has_next_page);
        if let Some(value) = listing.answer(&ctx.item.node, |e| (&e.cursor, &e.node), object) {
            return Ok(value);
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

impl<'a, T: Plain, E> Listing<'a, T, E> {
    pub fn new(edges: &'a [E], has_previous_page: bool, has_next_page: bool) -> Self {
        Self {
            edges,
            has_previous_page,
            has_next_page,
            of: PhantomData,
        }
    }

    /// `set`, asked of the connection of `T`, answered from the edges (each split by `parts`
    /// into its cursor and its item, whose fields `node` answers), or `None` if any part of it
    /// needs more.
    pub fn answer<N: 'a>(
        &self,
        set: &SelectionSet,
        parts: impl Fn(&'a E) -> (&'a IdCursor, &'a N),
        node: impl Fn(&'a N, &SelectionSet) -> Option<Value>,
    ) -> Option<Value> {
        let cursor =
            |e: Option<&'a E>| e.map_or(Value::Null, |e| Value::String(parts(e).0.encode_cursor()));
        fields(set, |field| {
            let below = &field.selection_set.node;
            match field.name.node.as_str() {
                "__typename" => Some(Value::String(Inner::<T>::type_name().into_owned())),
                "edges" => list(self.edges.iter().map(|e| {
                    let (at, item) = parts(e);
                    fields(below, |field| match field.name.node.as_str() {
                        "__typename" => {
                            Some(Value::String(InnerEdge::<T>::type_name().into_owned()))
                        }
                        "cursor" => Some(Value::String(at.encode_cursor())),
                        "node" => node(item, &field.selection_set.node),
                        _ => None,
                    })
                })),
                "nodes" => list(self.edges.iter().map(|e| node(parts(e).1, below))),
                "pageInfo" => fields(below, |field| match field.name.node.as_str() {
                    "__typename" => Some(Value::String("PageInfo".to_owned())),
                    "hasPreviousPage" => Some(Value::Boolean(self.has_previous_page)),
                    "hasNextPage" => Some(Value::Boolean(self.has_next_page)),
                    "startCursor" => Some(cursor(self.edges.first())),
                    "endCursor" => Some(cursor(self.edges.last())),
                    _ => None,
                }),
                _ => None,
            }
        })
    }
}

fn list(items: impl Iterator<Item = Option<Value>>) -> Option<Value> {
    items.collect::<Option<Vec<_>>>().map(Value::List)
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::SimpleObject;
    use async_graphql::parser::types::DocumentOperations;

    #[derive(SimpleObject)]
    struct Thing {
        n: i32,
    }

    impl Plain for Thing {
        fn plain_field(&self, field: &Field) -> Option<Value> {
            (field.name.node == "n").then(|| Value::from(self.n))
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
    fn connection(conn: &Inner<Thing>, set: &SelectionSet) -> Option<Value> {
        let listing: Listing<'_, Thing, _> =
            Listing::new(&conn.edges, conn.has_previous_page, conn.has_next_page);
        listing.answer(set, |e| (&e.cursor, &e.node), object)
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
            "{ things { edges { cursor node { n m: n n } } nodes { __typename n } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }",
        );
        let value = connection(&things(), &set).expect("answered in one pass");
        let (a, b) = (cursor(1).encode_cursor(), cursor(2).encode_cursor());
        assert_eq!(
            value.into_json().unwrap(),
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
        ] {
            assert!(
                connection(&things(), &selection(query)).is_none(),
                "{query}"
            );
        }
    }
}
