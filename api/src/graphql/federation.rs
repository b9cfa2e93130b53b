//! The federation over GraphQL: the network directory (served from the local cache), asking
//! peers at other institutions, introductions on both sides, and the steward's membership and
//! network metrics. Decisions live in `alongside_core` and `alongside_federation`.

use std::sync::Arc;

use alongside_core::CoreError;
use alongside_core::requests::outside::{
    self, Conversation, Introduction as CoreIntroduction, IntroductionShare,
};
use alongside_core::vocab::MemberStatus as CoreMemberStatus;
use alongside_federation::directory::{NetworkItem, Window};
use alongside_federation::matching::{MemberReport as CoreReport, RemoteCandidate};
use alongside_federation::{FedError, Federation};
use async_graphql::connection::Connection;
use async_graphql::{
    Context, Enum, ErrorExtensions, ID, InputObject, Object, Result, SimpleObject,
};
use chrono::{DateTime, Utc};

use super::enums::{DurationBand, ExperienceBand, Modality, Profession};
use super::errors::GqlResult;
use super::ids;
use super::library::Resource;
use super::query::{caller, page_cost};
use super::training::Trainer;

fn federation<'a>(ctx: &'a Context<'_>) -> Result<&'a Arc<Federation>> {
    ctx.data::<Arc<Federation>>()
}

/// A federation error with its stable code in `extensions.code`.
fn fed(err: FedError) -> async_graphql::Error {
    match err {
        FedError::Core(e) => super::errors::to_gql(e),
        other => async_graphql::Error::new(other.to_string())
            .extend_with(|_, ext| ext.set("code", other.code())),
    }
}

trait FedResult<T> {
    fn fed(self) -> Result<T>;
}

impl<T> FedResult<T> for std::result::Result<T, FedError> {
    fn fed(self) -> Result<T> {
        self.map_err(fed)
    }
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "alongside_federation::matching::Outcome")]
pub enum MemberOutcome {
    Answered,
    TimedOut,
    Refused,
    Error,
    /// Not asked: enough candidates had come back from the members asked before it, or the
    /// match deadline had passed.
    NotAsked,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "alongside_core::vocab::MemberStatus")]
pub enum MemberStatus {
    Pending,
    Active,
    Suspended,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "alongside_core::vocab::IntroductionState")]
pub enum IntroductionState {
    Sending,
    Pending,
    Accepted,
    Declined,
    Failed,
    /// Unanswered for 24 hours: choose another peer.
    Lapsed,
    /// Accepted, and the support has since ended.
    Closed,
}

#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "alongside_core::vocab::IntroductionDirection")]
pub enum IntroductionDirection {
    Outbound,
    Inbound,
}

/// How one member answered a match: ANSWERED, TIMED_OUT, REFUSED or ERROR (with the code), or
/// NOT_ASKED.
#[derive(SimpleObject)]
pub struct MemberReport {
    pub node_id: String,
    pub name: String,
    pub outcome: MemberOutcome,
    pub candidates: i32,
    pub code: Option<String>,
    pub elapsed_ms: i32,
}

impl From<CoreReport> for MemberReport {
    fn from(r: CoreReport) -> Self {
        Self {
            node_id: r.node_id,
            name: r.name,
            outcome: r.outcome.into(),
            candidates: i32::try_from(r.candidates).unwrap_or(i32::MAX),
            code: r.code,
            elapsed_ms: i32::try_from(r.elapsed_ms).unwrap_or(i32::MAX),
        }
    }
}

/// An anonymous peer supporter at another institution.
pub struct OutsideCandidate(RemoteCandidate);

#[Object]
impl OutsideCandidate {
    /// The member institution's node id; pass it back with the handle to ask for an
    /// introduction.
    async fn node_id(&self) -> &str {
        &self.0.node_id
    }
    async fn institution(&self) -> &str {
        &self.0.node_name
    }
    /// Opaque and single use, valid for 30 minutes.
    async fn handle(&self) -> &str {
        &self.0.candidate.handle
    }
    async fn profession(&self) -> Profession {
        self.0.candidate.profession.into()
    }
    async fn specialty(&self) -> Option<&str> {
        self.0.candidate.specialty.as_deref()
    }
    /// UNKNOWN when withheld, like the specialty (null) and languages (left out): each
    /// candidate is described only as far as three supporters at that member fit it.
    async fn experience(&self) -> ExperienceBand {
        self.0.candidate.experience.into()
    }
    async fn languages(&self) -> &[String] {
        &self.0.candidate.languages
    }
    async fn training_current(&self) -> bool {
        self.0.candidate.training_current
    }
    /// Null when withheld: fewer than three supporters at that member would fit the same
    /// description, so saying it could single one out.
    async fn lived_experience(&self) -> Option<bool> {
        self.0.candidate.lived_experience
    }
    async fn next_available_at(&self) -> Option<DateTime<Utc>> {
        self.0.candidate.next_available_at.map(|t| t.and_utc())
    }
    async fn score(&self) -> i32 {
        self.0.candidate.score
    }
    /// Why this peer was suggested ("same profession", "lived experience").
    async fn reasons(&self) -> &[String] {
        &self.0.candidate.reasons
    }
}

/// Candidates from every member that answered in time, best first, and how each member fared.
#[derive(SimpleObject)]
pub struct OutsidePeers {
    pub candidates: Vec<OutsideCandidate>,
    pub members: Vec<MemberReport>,
    /// Members this match called (those `NOT_ASKED` left out), to say "N of M answered".
    pub asked: i32,
    /// Members that answered in time.
    pub answered: i32,
}

/// An introduction to (outbound) or from (inbound) a peer at another institution.
pub struct Introduction(CoreIntroduction);

#[Object]
impl Introduction {
    async fn id(&self) -> ID {
        ids::encode("Introduction", self.0.id)
    }
    async fn direction(&self) -> IntroductionDirection {
        self.0.direction.into()
    }
    /// The other institution's node id.
    async fn peer_node(&self) -> &str {
        &self.0.peer_node
    }
    async fn state(&self) -> IntroductionState {
        self.0.state.into()
    }
    /// Inbound only: the name the requester chose to share.
    async fn first_name(&self) -> Option<&str> {
        self.0.first_name.as_deref()
    }
    /// Inbound only: how the requester asked to be contacted. Removed if declined.
    async fn contact(&self) -> Option<&str> {
        self.0.contact.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at.and_utc()
    }
    async fn responded_at(&self) -> Option<DateTime<Utc>> {
        self.0.responded_at.map(|t| t.and_utc())
    }
    /// When the peer first talked with the requester (outbound: as the peer's node signalled).
    async fn first_contact_at(&self) -> Option<DateTime<Utc>> {
        self.0.first_contact_at.map(|t| t.and_utc())
    }
    /// When the support ended.
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at.map(|t| t.and_utc())
    }
    /// Inbound only: conversations the supporter recorded (0 on the requester's side, which is
    /// never told).
    async fn conversations(&self) -> i32 {
        self.0.encounters
    }
}

/// A conversation with the requester of an accepted introduction: when, how long, how. There is
/// no field for what was said, by design.
#[derive(InputObject)]
pub struct ConversationInput {
    pub occurred_on: super::scalars::Date,
    pub duration: DurationBand,
    pub modality: Modality,
}

/// What the requester consents to share with the one peer they picked; nothing else is sent.
#[derive(InputObject)]
pub struct IntroductionShareInput {
    pub first_name: Option<String>,
    /// An email address, phone number or other channel where the peer can reach you.
    pub contact: String,
}

/// A page of the network directory from Relay's `after` and `first` (20 by default, at most
/// 100); the cursor is the last item's origin and version.
fn directory_window(after: Option<String>, first: Option<i32>) -> Result<Window> {
    use base64::Engine;
    let first = match first {
        None => alongside_core::page::DEFAULT_PAGE_SIZE,
        Some(n) if n < 0 => {
            return Err(CoreError::bad_input("first", "must be 0 or more")).gql();
        }
        Some(n) => usize::try_from(n).unwrap_or(usize::MAX),
    };
    if first > alongside_core::page::MAX_PAGE_SIZE {
        return Err(CoreError::LimitExceeded(format!(
            "first is {first}; at most {} items per page",
            alongside_core::page::MAX_PAGE_SIZE
        )))
        .gql();
    }
    let after = after
        .map(|c| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(&c)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .and_then(|t| {
                    let (origin, version) = t.split_once(' ')?;
                    Some((origin.to_owned(), version.parse().ok()?))
                })
                .ok_or_else(|| {
                    CoreError::bad_input("after", "not a cursor from this directory's pages")
                })
        })
        .transpose()
        .gql()?;
    Ok(Window {
        after,
        first: Some(first),
    })
}

fn directory_connection<T, U: async_graphql::OutputType>(
    page: alongside_core::page::Page<NetworkItem<T>>,
    wrap: impl Fn(NetworkItem<T>) -> U,
) -> Connection<String, U> {
    use base64::Engine;
    let mut conn = Connection::new(page.has_previous_page, page.has_next_page);
    conn.edges.extend(page.items.into_iter().map(|i| {
        let cursor = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!("{} {}", i.origin, i.version));
        async_graphql::connection::Edge::new(cursor, wrap(i))
    }));
    conn
}

/// A resource from another member, with its origin.
#[derive(SimpleObject)]
pub struct NetworkResource {
    pub origin: String,
    pub origin_name: String,
    pub resource: Resource,
}

/// A trainer listed by another member, with its origin.
#[derive(SimpleObject)]
pub struct NetworkTrainer {
    pub origin: String,
    pub origin_name: String,
    pub trainer: Trainer,
}

/// A member as the steward sees it.
#[derive(SimpleObject)]
pub struct FederationMember {
    pub node_id: String,
    pub name: String,
    pub base_url: String,
    pub status: MemberStatus,
    pub requested_at: DateTime<Utc>,
    pub joined_at: Option<DateTime<Utc>>,
}

/// The directory sync state of one origin.
#[derive(SimpleObject)]
pub struct SyncState {
    pub origin: String,
    pub cursor: String,
    pub synced_at: Option<DateTime<Utc>>,
    pub failures: i32,
    pub last_error: Option<String>,
}

/// This node's place in its federation.
#[derive(SimpleObject)]
pub struct FederationStatus {
    pub node_id: String,
    /// MEMBER, STEWARD, or null when not in a federation.
    pub mode: Option<String>,
    pub steward: Option<String>,
    pub manifest_serial: Option<String>,
    pub manifest_expires_at: Option<DateTime<Utc>>,
    pub active_members: Vec<String>,
    /// Why the federation is not usable or not healthy now, if so.
    pub problem: Option<String>,
    /// The same as a stable code, e.g. FEDERATION_NOT_ACTIVE (suspended), MANIFEST_UNTRUSTED_SIGNER
    /// (a steward key rotation missed).
    pub problem_code: Option<String>,
    pub sync: Vec<SyncState>,
}

/// The federation as seen from this node.
pub struct FederationView;

#[Object]
impl FederationView {
    /// Resources other members share, from this node's cache (fast, and there while an origin
    /// is down), by origin, newest first. `search` matches title, summary and tags. Signed-in
    /// callers; FEDERATION_NOT_ACTIVE while this node is suspended.
    #[graphql(complexity = "page_cost(first, None, child_complexity)")]
    async fn resources(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
        after: Option<String>,
        first: Option<i32>,
    ) -> Result<Connection<String, NetworkResource>> {
        let (_, who) = caller(ctx)?;
        let window = directory_window(after, first)?;
        let page = federation(ctx)?
            .network_resources(who, search, window)
            .await
            .fed()?;
        Ok(directory_connection(page, |i| NetworkResource {
            origin: i.origin,
            origin_name: i.origin_name,
            resource: Resource(i.item),
        }))
    }

    /// Trainers other members list, from this node's cache; `topic` matches a topic.
    #[graphql(complexity = "page_cost(first, None, child_complexity)")]
    async fn trainers(
        &self,
        ctx: &Context<'_>,
        topic: Option<String>,
        after: Option<String>,
        first: Option<i32>,
    ) -> Result<Connection<String, NetworkTrainer>> {
        let (_, who) = caller(ctx)?;
        let window = directory_window(after, first)?;
        let page = federation(ctx)?
            .network_trainers(who, topic, window)
            .await
            .fed()?;
        Ok(directory_connection(page, |i| NetworkTrainer {
            origin: i.origin,
            origin_name: i.origin_name,
            trainer: Trainer(i.item),
        }))
    }

    /// Membership, manifest and sync state. Admins.
    async fn status(&self, ctx: &Context<'_>) -> Result<FederationStatus> {
        let (_, who) = caller(ctx)?;
        let s = federation(ctx)?.status(who).await.fed()?;
        Ok(FederationStatus {
            node_id: s.node_id,
            mode: s.mode.map(|m| m.as_str().to_uppercase()),
            steward: s.steward_id,
            manifest_serial: s.manifest.as_ref().map(|m| m.serial.to_string()),
            manifest_expires_at: s.manifest.as_ref().map(|m| m.expires_at.and_utc()),
            active_members: s.active_members,
            problem: s.problem,
            problem_code: s.problem_code,
            sync: s
                .sync
                .into_iter()
                .map(|s| SyncState {
                    origin: s.origin,
                    cursor: s.cursor.to_string(),
                    synced_at: s.synced_at.map(|t| t.and_utc()),
                    failures: s.failures,
                    last_error: s.last_error,
                })
                .collect(),
        })
    }

    /// The steward's members. Admins of the steward.
    async fn members(&self, ctx: &Context<'_>) -> Result<Vec<FederationMember>> {
        let (_, who) = caller(ctx)?;
        let members = federation(ctx)?.members(who).await.fed()?;
        Ok(members.into_iter().map(member).collect())
    }

    /// Pooled network metrics for the months `from`..`to` (YYYY-MM), from what the steward
    /// pulled from its members, each already suppressed at the source; pooled tables are
    /// suppressed again. Analysts and admins of the steward.
    async fn metrics(
        &self,
        ctx: &Context<'_>,
        from: String,
        to: String,
    ) -> Result<async_graphql::Json<alongside_federation::metrics::NetworkMetrics>> {
        let (_, who) = caller(ctx)?;
        federation(ctx)?
            .network_metrics(who, from, to)
            .await
            .map(async_graphql::Json)
            .fed()
    }
}

fn member(r: alongside_federation::MemberRecord) -> FederationMember {
    FederationMember {
        node_id: r.member.node_id,
        name: r.member.name,
        base_url: r.member.base_url,
        status: r.member.status.into(),
        requested_at: r.requested_at.and_utc(),
        joined_at: r.member.joined_at.map(|t| t.and_utc()),
    }
}

#[derive(Default)]
pub struct FederationQuery;

#[Object]
impl FederationQuery {
    /// The federation: the network directory, status, and (on a steward) members and metrics.
    /// Signed-in callers; each part says who may read it.
    async fn federation(&self, ctx: &Context<'_>) -> Result<FederationView> {
        let (_, who) = caller(ctx)?;
        alongside_core::access::authorize(who, alongside_core::access::Operation::ViewNetwork)
            .gql()?;
        Ok(FederationView)
    }

    /// Introductions from peers at other institutions waiting for you, or accepted. Peer
    /// supporters.
    async fn my_introductions(&self, ctx: &Context<'_>) -> Result<Vec<Introduction>> {
        let (db, who) = caller(ctx)?;
        let list = outside::my_introductions(db, who).await.gql()?;
        Ok(list.into_iter().map(Introduction).collect())
    }

    /// Your introductions for one of your requests, newest first.
    async fn introductions_for_request(
        &self,
        ctx: &Context<'_>,
        request_id: ID,
    ) -> Result<Vec<Introduction>> {
        let (db, who) = caller(ctx)?;
        let id = ids::decode(ids::SUPPORT_REQUEST, "requestId", &request_id).gql()?;
        let list = outside::for_request(db, who, id).await.gql()?;
        Ok(list.into_iter().map(Introduction).collect())
    }
}

#[derive(Default)]
pub struct FederationMutation;

#[Object]
impl FederationMutation {
    /// Asks every other member for anonymous peer supporters for your own open request. Only
    /// de-identified criteria leave this node. Returns within the match deadline (3 s by
    /// default) with a status per member. A mutation because it creates single-use handles.
    async fn find_outside_peers(
        &self,
        ctx: &Context<'_>,
        request_id: ID,
        #[graphql(desc = "Your time zone (IANA, e.g. America/Chicago), to compare availability.")]
        time_zone: Option<String>,
    ) -> Result<OutsidePeers> {
        let (_, who) = caller(ctx)?;
        let id = ids::decode(ids::SUPPORT_REQUEST, "requestId", &request_id).gql()?;
        let traceparent = ctx
            .data_opt::<crate::http::TraceParent>()
            .map(|t| t.0.as_str());
        let found = federation(ctx)?
            .find_outside_peers(who, id, time_zone, traceparent)
            .await
            .fed()?;
        Ok(OutsidePeers {
            asked: i32::try_from(found.asked()).unwrap_or(i32::MAX),
            answered: i32::try_from(found.answered()).unwrap_or(i32::MAX),
            candidates: found.candidates.into_iter().map(OutsideCandidate).collect(),
            members: found.members.into_iter().map(Into::into).collect(),
        })
    }

    /// Asks to be introduced to one candidate, sharing only `share` with that peer's
    /// institution. Delivered with retries; you get an email when the peer answers.
    async fn request_introduction(
        &self,
        ctx: &Context<'_>,
        request_id: ID,
        node_id: String,
        handle: String,
        share: IntroductionShareInput,
    ) -> Result<Introduction> {
        let (_, who) = caller(ctx)?;
        let id = ids::decode(ids::SUPPORT_REQUEST, "requestId", &request_id).gql()?;
        federation(ctx)?
            .introduce(
                who,
                id,
                node_id,
                handle,
                IntroductionShare {
                    first_name: share.first_name,
                    contact: share.contact,
                },
            )
            .await
            .map(Introduction)
            .fed()
    }

    /// Accepts or declines an introduction from a peer at another institution. Peer supporters.
    async fn respond_to_introduction(
        &self,
        ctx: &Context<'_>,
        id: ID,
        accept: bool,
    ) -> Result<Introduction> {
        let (db, who) = caller(ctx)?;
        let uuid = ids::decode("Introduction", "id", &id).gql()?;
        outside::respond(db, who, uuid, accept)
            .await
            .map(Introduction)
            .gql()
    }

    /// Records a conversation with the requester of an introduction you accepted (it counts in
    /// your month's hours). The first one tells the requester's institution that first contact is
    /// made; nothing else about it leaves. Peer supporters.
    async fn record_introduction_conversation(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: ConversationInput,
    ) -> Result<Introduction> {
        let (db, who) = caller(ctx)?;
        let uuid = ids::decode("Introduction", "id", &id).gql()?;
        let conversation = Conversation {
            occurred_on: input.occurred_on.0,
            duration: input.duration.into(),
            modality: input.modality.into(),
        };
        outside::record_conversation(db, who, uuid, conversation)
            .await
            .map(Introduction)
            .gql()
    }

    /// Ends the support of an introduction you accepted: what the requester shared is erased, and
    /// their institution is told, which closes their request there. Peer supporters.
    async fn close_introduction(&self, ctx: &Context<'_>, id: ID) -> Result<Introduction> {
        let (db, who) = caller(ctx)?;
        let uuid = ids::decode("Introduction", "id", &id).gql()?;
        outside::close_introduction(db, who, uuid)
            .await
            .map(Introduction)
            .gql()
    }

    /// On a steward: admits a node that asked to join. Admins; issues a new manifest.
    async fn approve_member(&self, ctx: &Context<'_>, node_id: String) -> Result<FederationMember> {
        set_status(ctx, node_id, CoreMemberStatus::Active).await
    }

    /// On a steward: suspends a member; members refuse its calls after their next manifest
    /// refresh. Admins.
    async fn suspend_member(&self, ctx: &Context<'_>, node_id: String) -> Result<FederationMember> {
        set_status(ctx, node_id, CoreMemberStatus::Suspended).await
    }
}

async fn set_status(
    ctx: &Context<'_>,
    node_id: String,
    status: CoreMemberStatus,
) -> Result<FederationMember> {
    let (_, who) = caller(ctx)?;
    let (record, _) = federation(ctx)?
        .set_member_status(who, node_id, status)
        .await
        .fed()?;
    Ok(member(record))
}
