//! Queries. Each resolver translates arguments and calls one core use case.

use alongside_core::access::Principal;
use alongside_core::db::Db;
use alongside_core::page::PageRequest;
use alongside_core::{CoreError, accounts, institution, people, programs, supporters};
use async_graphql::{Context, ID, Object, Result};

use super::errors::GqlResult;
use super::ids;
use super::plain::PlainConnection;
use super::types::{Institution, Node, PeerSupporter, Person, Program, Viewer, plain_connection};

pub(super) fn caller<'a>(ctx: &'a Context<'_>) -> Result<(&'a Db, &'a Principal)> {
    Ok((ctx.data::<Db>()?, ctx.data::<Principal>()?))
}

/// The words for the caller, in their language: their profile's, then the request's
/// `Accept-Language`, then the node's default language.
pub(super) async fn words_for(
    ctx: &Context<'_>,
) -> Result<(
    &'static alongside_core::i18n::Catalogue,
    alongside_core::i18n::Locale,
)> {
    use alongside_core::i18n::{Locale, catalogue};
    let (db, who) = caller(ctx)?;
    let default = ctx
        .data_opt::<crate::config::Config>()
        .and_then(|c| Locale::parse(&c.node.default_language))
        .unwrap_or(Locale::En);
    Ok(match ctx.data_opt::<crate::http::language::Language>() {
        Some(language) => {
            let caller = crate::http::language::Caller::of(who);
            let chosen = language.choose(db, caller, Some(default)).await;
            (language.words, chosen.unwrap_or(default))
        }
        None => (catalogue(), default),
    })
}

/// Relay paging arguments → a core page request. Cursors are global ids of `kind`.
pub(super) fn page_request(
    kind: &str,
    after: Option<String>,
    before: Option<String>,
    first: Option<i32>,
    last: Option<i32>,
) -> Result<PageRequest, CoreError> {
    let count = |name: &str, v: Option<i32>| -> Result<Option<usize>, CoreError> {
        match v {
            Some(n) if n < 0 => Err(CoreError::bad_input(name, "must not be negative")),
            Some(n) => Ok(Some(n as usize)),
            None => Ok(None),
        }
    };
    let cursor = |name: &str, c: Option<String>| -> Result<Option<uuid::Uuid>, CoreError> {
        c.map(|c| ids::decode(kind, name, &ID(c))).transpose()
    };
    Ok(PageRequest {
        after: cursor("after", after)?,
        before: cursor("before", before)?,
        first: count("first", first)?,
        last: count("last", last)?,
    })
}

/// The cost of a list field: the page size times the cost of each item.
pub(super) fn page_cost(first: Option<i32>, last: Option<i32>, child: usize) -> usize {
    let n = first
        .or(last)
        .unwrap_or(alongside_core::page::DEFAULT_PAGE_SIZE as i32)
        .max(1) as usize;
    n.saturating_mul(child.max(1))
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// The institution's public settings and crisis resources. No sign-in needed.
    async fn institution(&self, ctx: &Context<'_>) -> Result<Institution> {
        let (db, who) = caller(ctx)?;
        institution::get(db, who).await.map(Institution).gql()
    }

    /// The signed-in person, their account and roles.
    async fn viewer(&self, ctx: &Context<'_>) -> Result<Viewer> {
        let (db, who) = caller(ctx)?;
        let (account, person) = accounts::viewer(db, who).await.gql()?;
        Ok(Viewer { account, person })
    }

    /// Fetches any object by its global id.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Node>> {
        let (db, who) = caller(ctx)?;
        let (kind, uuid) = ids::decode_any("id", &id).gql()?;
        let node = match kind.as_str() {
            ids::PERSON => Node::Person(Person(people::get(db, who, uuid).await.gql()?)),
            ids::PROGRAM => Node::Program(Program(programs::get(db, who, uuid).await.gql()?)),
            ids::PEER_SUPPORTER => Node::PeerSupporter(PeerSupporter::new(
                supporters::get(db, who, uuid).await.gql()?,
            )),
            _ => return Err(CoreError::bad_input("id", "is not an id this node issued")).gql(),
        };
        Ok(Some(node))
    }

    async fn person(&self, ctx: &Context<'_>, id: ID) -> Result<Person> {
        let (db, who) = caller(ctx)?;
        let uuid = ids::decode(ids::PERSON, "id", &id).gql()?;
        people::get(db, who, uuid).await.map(Person).gql()
    }

    /// People known to the node, oldest first. Coordinators and admins.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn people(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<PlainConnection<Person>> {
        let (db, who) = caller(ctx)?;
        let page = page_request(ids::PERSON, after, before, first, last).gql()?;
        let page = people::list(db, who, page).await.gql()?;
        Ok(plain_connection(page, ids::PERSON, |p| p.id, Person))
    }

    async fn program(&self, ctx: &Context<'_>, id: ID) -> Result<Program> {
        let (db, who) = caller(ctx)?;
        let uuid = ids::decode(ids::PROGRAM, "id", &id).gql()?;
        programs::get(db, who, uuid).await.map(Program).gql()
    }

    /// The institution's support programs. No sign-in needed; `includeInactive` is for those
    /// who manage programs.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn programs(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
        #[graphql(default = false)] include_inactive: bool,
    ) -> Result<PlainConnection<Program>> {
        let (db, who) = caller(ctx)?;
        let page = page_request(ids::PROGRAM, after, before, first, last).gql()?;
        let page = programs::list(db, who, page, include_inactive)
            .await
            .gql()?;
        Ok(plain_connection(page, ids::PROGRAM, |p| p.id, Program))
    }

    /// Peer supporter profiles. Coordinators and admins.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn peer_supporters(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<PlainConnection<PeerSupporter>> {
        let (db, who) = caller(ctx)?;
        let page = page_request(ids::PEER_SUPPORTER, after, before, first, last).gql()?;
        // Asked for the supporters' people: read them in the same database call.
        let edges = ctx
            .look_ahead()
            .field("edges")
            .field("node")
            .field("person");
        // Asked only for what a list shows: read only that, and answer in one pass.
        let set = &ctx.item.node.selection_set.node;
        if super::types::cards_answer(set) {
            let cards = supporters::list_cards(db, who, page).await.gql()?;
            if let Some(answer) = super::types::supporter_cards(&cards, set) {
                return Ok(PlainConnection::answered(answer));
            }
        }
        if edges.exists() || ctx.look_ahead().field("nodes").field("person").exists() {
            let page = supporters::list_with_people(db, who, page).await.gql()?;
            return Ok(plain_connection(
                page,
                ids::PEER_SUPPORTER,
                |(s, _)| s.id,
                |(s, p)| PeerSupporter(s, Some(p.map(Person))),
            ));
        }
        let page = supporters::list(db, who, page).await.gql()?;
        Ok(plain_connection(
            page,
            ids::PEER_SUPPORTER,
            |s| s.id,
            PeerSupporter::new,
        ))
    }
}
