//! GraphQL object types: thin views over core values.

use std::borrow::Cow;

use alongside_core::accounts::{Account, TokenPair};
use alongside_core::institution::Institution as CoreInstitution;
use alongside_core::page::Page;
use alongside_core::people::{Person as CorePerson, PersonCard as CorePersonCard};
use alongside_core::programs::Program as CoreProgram;
use alongside_core::supporters::{
    AvailabilityWindow as CoreWindow, PeerSupporter as CoreSupporter,
    SupporterCard as CoreSupporterCard,
};
use alongside_core::vocab::{ExperienceBand as CoreExperienceBand, Profession as CoreProfession};
use async_graphql::connection::{Connection, Edge};
use async_graphql::dataloader::DataLoader;
use async_graphql::parser::types::{Field, SelectionSet};
use async_graphql::{Context, ID, Interface, Object, OutputType, Result, SimpleObject};
use chrono::{DateTime, NaiveDateTime, Utc};

use super::enums::{EventCategory, ExperienceBand, Profession, ProgramKind, Role, Weekday};
use super::ids::{self, IdCursor};
use super::loaders::{PersonLoader, SupporterLoader};
use super::plain::{self, Listing, Plain, PlainConnection};
use super::scalars::Date;

// The plain fields a card holds, answered the same from a card and from a whole row (the
// field names are the same in both): one list, so the two answers cannot drift apart.
macro_rules! person_card_field {
    ($p:expr, $name:expr, $out:expr) => {
        match $name {
            "id" => {
                ids::write_json(ids::PERSON, $p.id, $out);
                Some(())
            }
            "displayName" => plain::json($out, &$p.display_name),
            "active" => plain::json($out, &$p.active),
            "profession" => plain::enum_name($out, Profession::from($p.profession)),
            "specialty" => plain::json($out, &$p.specialty),
            "department" => plain::json($out, &$p.department),
            "experienceBand" => plain::enum_name($out, ExperienceBand::from($p.experience_band)),
            "languages" => plain::json($out, &$p.languages),
            _ => None,
        }
    };
}

macro_rules! supporter_card_field {
    ($s:expr, $name:expr, $out:expr) => {
        match $name {
            "id" => {
                ids::write_json(ids::PEER_SUPPORTER, $s.id, $out);
                Some(())
            }
            "trainedOn" => plain::scalar($out, &$s.trained_on.map(Date)),
            "trainingExpiresOn" => plain::scalar($out, &$s.training_expires_on.map(Date)),
            "trainingCurrent" => plain::json($out, &$s.training_current(Utc::now().date_naive())),
            "livedExperience" => plain::json($out, &$s.lived_experience),
            "timeZone" => plain::json($out, &$s.time_zone),
            "caseloadCap" => plain::json($out, &$s.caseload_cap),
            "monthlyHoursCap" => plain::json($out, &$s.monthly_hours_cap),
            "outsideMatchingOptIn" => plain::json($out, &$s.outside_matching_opt_in),
            "active" => plain::json($out, &$s.active),
            _ => None,
        }
    };
}

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

/// Anything with a global id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID"))]
pub enum Node {
    Person(Person),
    Program(Program),
    PeerSupporter(PeerSupporter),
}

pub struct Institution(pub CoreInstitution);

/// The institution this node serves.
#[Object]
impl Institution {
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The node's id in a federation (a DNS name).
    async fn node_id(&self) -> &str {
        &self.0.node_id
    }
    /// Where the institution is, which decides what is privileged and which crisis lines apply.
    async fn jurisdiction(&self) -> &str {
        &self.0.jurisdiction
    }
    /// What to do right now in a crisis. Readable without signing in.
    async fn crisis_resources(&self) -> &str {
        &self.0.crisis_resources
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        utc(self.0.updated_at)
    }
    /// Alerted at once about crisis requests. Coordinators and admins only.
    async fn on_call_email(&self, ctx: &Context<'_>) -> Result<Option<&str>> {
        let who = ctx.data::<alongside_core::access::Principal>()?;
        alongside_core::institution::check_on_call_visible(who).map_err(super::errors::to_gql)?;
        Ok(self.0.on_call_email.as_deref())
    }
}

#[derive(Clone)]
pub struct Person(pub CorePerson);

/// A member of staff known to the node.
// Serial: every field is a plain value, and async-graphql resolves a parallel object's fields
// as tasks of their own (a box and a task allocation each), a cost with nothing to overlap.
#[Object(serial)]
impl Person {
    async fn id(&self) -> ID {
        ids::encode(ids::PERSON, self.0.id)
    }
    async fn staff_id(&self) -> Option<&str> {
        self.0.staff_id.as_deref()
    }
    async fn display_name(&self) -> &str {
        &self.0.display_name
    }
    /// Their work email; some staff have none (reached by phone, or through their manager).
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    /// False once the hospital's records (SCIM) say they left: history is kept, contact stops.
    async fn active(&self) -> bool {
        self.0.active
    }
    async fn profession(&self) -> Profession {
        self.0.profession.into()
    }
    async fn specialty(&self) -> Option<&str> {
        self.0.specialty.as_deref()
    }
    /// Coarse department, e.g. "Emergency".
    async fn department(&self) -> Option<&str> {
        self.0.department.as_deref()
    }
    async fn experience_band(&self) -> ExperienceBand {
        self.0.experience_band.into()
    }
    /// Language tags such as "en" or "es".
    async fn languages(&self) -> &[String] {
        &self.0.languages
    }
    /// The language the person reads the node's pages and messages in, if they chose one.
    async fn locale(&self) -> Option<&str> {
        self.0.locale.as_deref()
    }
    /// A phone number for text messages (E.164), if the person gave one.
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    /// Whether offers and alerts also come by text message.
    async fn text_messages(&self) -> bool {
        self.0.text_messages
    }
    /// The person's peer supporter profile, if they are one and the caller may see it.
    async fn supporter_profile(&self, ctx: &Context<'_>) -> Result<Option<PeerSupporter>> {
        let loader = ctx.data::<DataLoader<SupporterLoader>>()?;
        Ok(loader.load_one(self.0.id).await?.map(PeerSupporter::new))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        utc(self.0.created_at)
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        utc(self.0.updated_at)
    }
}

// The fields above that are values the person holds, for lists answered in one pass
// (`plain`); `supporterProfile` goes through the DataLoader, so only the full resolver has it.
impl Plain for Person {
    fn plain_field(&self, field: &Field, out: &mut Vec<u8>) -> Option<()> {
        let p = &self.0;
        match field.name.node.as_str() {
            "staffId" => plain::json(out, &p.staff_id),
            "email" => plain::json(out, &p.email),
            "locale" => plain::json(out, &p.locale),
            "phone" => plain::json(out, &p.phone),
            "textMessages" => plain::json(out, &p.text_messages),
            "createdAt" => plain::scalar(out, &utc(p.created_at)),
            "updatedAt" => plain::scalar(out, &utc(p.updated_at)),
            name => person_card_field!(p, name, out),
        }
    }
}

/// A weekly window in the supporter's time zone; an end before the start runs past midnight.
#[derive(SimpleObject)]
pub struct AvailabilityWindow {
    pub weekday: Weekday,
    /// "HH:MM", 24-hour.
    pub start: String,
    /// "HH:MM", 24-hour.
    pub end: String,
}

impl From<&CoreWindow> for AvailabilityWindow {
    fn from(w: &CoreWindow) -> Self {
        Self {
            weekday: w.weekday.into(),
            start: w.start.format("%H:%M").to_string(),
            end: w.end.format("%H:%M").to_string(),
        }
    }
}

/// A supporter, and their person when it was read with them (`Some`: `None` if the caller may
/// not see it); otherwise the person is read through the request's DataLoader.
pub struct PeerSupporter(pub CoreSupporter, pub Option<Option<Person>>);

impl PeerSupporter {
    pub fn new(supporter: CoreSupporter) -> Self {
        Self(supporter, None)
    }
}

/// A trained peer supporter's profile.
// Serial: only `person` may wait (for the DataLoader), and the list's items still resolve
// together, so loads across the page are still batched.
#[Object(serial)]
impl PeerSupporter {
    async fn id(&self) -> ID {
        ids::encode(ids::PEER_SUPPORTER, self.0.id)
    }
    async fn person(&self, ctx: &Context<'_>) -> Result<Option<Cow<'_, Person>>> {
        if let Some(read) = &self.1 {
            return Ok(read.as_ref().map(Cow::Borrowed));
        }
        let loader = ctx.data::<DataLoader<PersonLoader>>()?;
        Ok(loader
            .load_one(self.0.person_id)
            .await?
            .map(|p| Cow::Owned(Person(p))))
    }
    async fn trained_on(&self) -> Option<Date> {
        self.0.trained_on.map(Date)
    }
    async fn training_expires_on(&self) -> Option<Date> {
        self.0.training_expires_on.map(Date)
    }
    /// Trained, and the training has not expired today (UTC).
    async fn training_current(&self) -> bool {
        self.0.training_current(Utc::now().date_naive())
    }
    async fn lived_experience(&self) -> bool {
        self.0.lived_experience
    }
    /// IANA time zone of the availability windows.
    async fn time_zone(&self) -> &str {
        &self.0.time_zone
    }
    async fn availability(&self) -> Vec<AvailabilityWindow> {
        self.0
            .availability
            .iter()
            .map(AvailabilityWindow::from)
            .collect()
    }
    async fn caseload_cap(&self) -> i32 {
        self.0.caseload_cap
    }
    /// Hours of encounters a month before no more requests are offered.
    async fn monthly_hours_cap(&self) -> i32 {
        self.0.monthly_hours_cap
    }
    /// Consented to be matched with people from other institutions.
    async fn outside_matching_opt_in(&self) -> bool {
        self.0.outside_matching_opt_in
    }
    /// False while the supporter has paused themselves.
    async fn active(&self) -> bool {
        self.0.active
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        utc(self.0.updated_at)
    }
}

// The fields above that are values the supporter holds (`plain`); `person` too when it was read
// with the supporter. `availability` (a list of objects) and a person still to be read through
// the DataLoader go to the full resolver.
impl Plain for PeerSupporter {
    fn plain_field(&self, field: &Field, out: &mut Vec<u8>) -> Option<()> {
        let s = &self.0;
        match field.name.node.as_str() {
            "person" => match self.1.as_ref()? {
                Some(person) => plain::object(person, &field.selection_set.node, out),
                None => plain::json(out, &()),
            },
            "updatedAt" => plain::scalar(out, &utc(s.updated_at)),
            name => supporter_card_field!(s, name, out),
        }
    }
}

/// A supporter read for a list (`supporters::list_cards`), with their person where the caller
/// may see them.
pub type SupporterCard = (CoreSupporterCard, Option<CorePersonCard>);

/// `set`, asked of `peerSupporters`, written as JSON from a page of cards, or `None` if it asks
/// for anything a card does not hold or a plain answer cannot give. Each field is answered as
/// [`PeerSupporter`] and [`Person`] answer it (`tests/e2e/domain.rs` compares the two).
pub fn supporter_cards(page: &Page<SupporterCard>, set: &SelectionSet) -> Option<Vec<u8>> {
    let edges: Vec<(IdCursor, &SupporterCard)> = page
        .items
        .iter()
        .map(|card| {
            let at = IdCursor {
                kind: Cow::Borrowed(ids::PEER_SUPPORTER),
                id: card.0.id,
            };
            (at, card)
        })
        .collect();
    Listing::<PeerSupporter, _>::new(&edges, page.has_previous_page, page.has_next_page).answer(
        set,
        |(at, card)| (at, *card),
        supporter_card,
    )
}

/// Whether cards answer `set`, found by answering it from one made-up card.
pub fn cards_answer(set: &SelectionSet) -> bool {
    let person = CorePersonCard {
        id: uuid::Uuid::nil(),
        display_name: String::new(),
        profession: CoreProfession::Other,
        specialty: None,
        department: None,
        experience_band: CoreExperienceBand::Unknown,
        languages: Vec::new(),
        active: true,
    };
    let card = CoreSupporterCard {
        id: uuid::Uuid::nil(),
        trained_on: None,
        training_expires_on: None,
        lived_experience: false,
        time_zone: String::new(),
        caseload_cap: 0,
        outside_matching_opt_in: false,
        active: true,
        monthly_hours_cap: 0,
    };
    let page = Page {
        items: vec![(card, Some(person))],
        has_next_page: false,
        has_previous_page: false,
    };
    supporter_cards(&page, set).is_some()
}

fn supporter_card(
    (s, person): &SupporterCard,
    set: &SelectionSet,
    out: &mut Vec<u8>,
) -> Option<()> {
    plain::fields(set, out, |field, out| match field.name.node.as_str() {
        "__typename" => plain::json(out, PeerSupporter::type_name().as_ref()),
        "person" => match person {
            Some(p) => person_card(p, &field.selection_set.node, out),
            None => plain::json(out, &()),
        },
        name => supporter_card_field!(s, name, out),
    })
}

fn person_card(p: &CorePersonCard, set: &SelectionSet, out: &mut Vec<u8>) -> Option<()> {
    plain::fields(set, out, |field, out| match field.name.node.as_str() {
        "__typename" => plain::json(out, Person::type_name().as_ref()),
        name => person_card_field!(p, name, out),
    })
}

pub struct Program(pub CoreProgram);

/// A support program the institution offers.
#[Object]
impl Program {
    async fn id(&self) -> ID {
        ids::encode(ids::PROGRAM, self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> ProgramKind {
        self.0.kind.into()
    }
    /// 1 self-care and colleagues, 2 trained peers, 3 professional help.
    async fn tier(&self) -> i32 {
        self.0.tier
    }
    /// Professions served; empty means everyone.
    async fn audience(&self) -> Vec<Profession> {
        self.0.audience.iter().map(|p| (*p).into()).collect()
    }
    async fn hours(&self) -> &str {
        &self.0.hours
    }
    async fn contact(&self) -> &str {
        &self.0.contact
    }
    /// Whether conversations in this program are legally privileged in the institution's
    /// jurisdiction. Case details belong only in privileged settings.
    async fn privileged(&self) -> bool {
        self.0.privileged
    }
    /// Follow-up check-ins, in days after first contact.
    async fn follow_up_days(&self) -> &[i32] {
        &self.0.follow_up_days
    }
    /// Minutes within which a person acknowledges a request.
    async fn ack_target_minutes(&self) -> i32 {
        self.0.ack_target_minutes
    }
    /// Hours within which a peer makes first contact.
    async fn first_contact_target_hours(&self) -> i32 {
        self.0.first_contact_target_hours
    }
    /// Hours to reach a disclosure participant before the on-call is alerted.
    async fn urgent_outreach_hours(&self) -> i32 {
        self.0.urgent_outreach_hours
    }
    /// Days after the first outreach when outreach declined or not answered is renewed.
    async fn recontact_days(&self) -> &[i32] {
        &self.0.recontact_days
    }
    /// Where escalations to this tier-3 program are handed off (for those who manage programs).
    async fn intake(&self, ctx: &Context<'_>) -> Result<ProgramIntake> {
        use super::errors::GqlResult;
        let (_, who) = super::query::caller(ctx)?;
        let i = alongside_core::programs::intake_of(who, &self.0).gql()?;
        Ok(ProgramIntake {
            email: i.email.clone(),
            phone: i.phone.clone(),
            webhook_id: i
                .webhook_id
                .map(|w| ids::encode(super::notifications::WEBHOOK, w)),
        })
    }
    /// Event categories whose outreach is urgent for everyone involved.
    async fn urgent_categories(&self) -> Vec<EventCategory> {
        self.0
            .urgent_categories
            .iter()
            .map(|c| (*c).into())
            .collect()
    }
    async fn active(&self) -> bool {
        self.0.active
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        utc(self.0.updated_at)
    }
}

// Every field of a program but `intake` (which asks who may see it) is a value it holds, so a
// list of programs is answered in one pass (`plain`) unless it asks for an intake.
impl Plain for Program {
    fn plain_field(&self, field: &Field, out: &mut Vec<u8>) -> Option<()> {
        let p = &self.0;
        match field.name.node.as_str() {
            "id" => {
                ids::write_json(ids::PROGRAM, p.id, out);
                Some(())
            }
            "name" => plain::json(out, &p.name),
            "kind" => plain::enum_name(out, ProgramKind::from(p.kind)),
            "tier" => plain::json(out, &p.tier),
            "audience" => plain::enum_names(out, p.audience.iter().map(|a| Profession::from(*a))),
            "hours" => plain::json(out, &p.hours),
            "contact" => plain::json(out, &p.contact),
            "privileged" => plain::json(out, &p.privileged),
            "followUpDays" => plain::json(out, &p.follow_up_days),
            "ackTargetMinutes" => plain::json(out, &p.ack_target_minutes),
            "firstContactTargetHours" => plain::json(out, &p.first_contact_target_hours),
            "urgentOutreachHours" => plain::json(out, &p.urgent_outreach_hours),
            "recontactDays" => plain::json(out, &p.recontact_days),
            "urgentCategories" => plain::enum_names(
                out,
                p.urgent_categories.iter().map(|c| EventCategory::from(*c)),
            ),
            "active" => plain::json(out, &p.active),
            "updatedAt" => plain::scalar(out, &utc(p.updated_at)),
            _ => None,
        }
    }
}

pub struct AccountView(pub Account);

/// A sign-in account and its roles.
#[Object(name = "Account")]
impl AccountView {
    async fn id(&self) -> ID {
        ids::encode(ids::ACCOUNT, self.0.id)
    }
    /// Every account holds `MEMBER`; other roles add to it.
    async fn roles(&self) -> Vec<Role> {
        self.0.roles.iter().map(|r| (*r).into()).collect()
    }
    async fn has_password(&self) -> bool {
        self.0.has_password
    }
    /// Signs in through the institution's identity provider.
    async fn external(&self) -> bool {
        self.0.external
    }
    async fn disabled(&self) -> bool {
        self.0.disabled
    }
    async fn person(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        let loader = ctx.data::<DataLoader<PersonLoader>>()?;
        Ok(loader.load_one(self.0.person_id).await?.map(Person))
    }
}

/// The signed-in person.
pub struct Viewer {
    pub account: Account,
    pub person: CorePerson,
}

#[Object]
impl Viewer {
    async fn account(&self) -> AccountView {
        AccountView(self.account.clone())
    }
    async fn person(&self) -> Person {
        Person(self.person.clone())
    }
    async fn roles(&self) -> Vec<Role> {
        self.account.roles.iter().map(|r| (*r).into()).collect()
    }
}

/// Tokens from signing in or refreshing.
pub struct AuthPayload(pub TokenPair);

#[Object]
impl AuthPayload {
    /// Send as `Authorization: Bearer <accessToken>`.
    async fn access_token(&self) -> &str {
        &self.0.access.token
    }
    async fn token_type(&self) -> &str {
        "Bearer"
    }
    /// Seconds until the access token expires.
    async fn expires_in(&self) -> u64 {
        self.0.access.expires_in
    }
    /// Exchange once for a new pair with `refreshToken`; it cannot be used twice.
    async fn refresh_token(&self) -> &str {
        &self.0.refresh_token
    }
    async fn refresh_expires_in(&self) -> u64 {
        self.0.refresh_expires_in
    }
    async fn roles(&self) -> Vec<Role> {
        self.0.principal.roles.iter().map(|r| (*r).into()).collect()
    }
}

/// A core page as a Relay connection; the cursor is the record's global id, written only when
/// a client asks for it.
pub fn connection<C, T>(
    page: Page<C>,
    kind: &'static str,
    id_of: impl Fn(&C) -> uuid::Uuid,
    wrap: impl Fn(C) -> T,
) -> Connection<IdCursor, T>
where
    T: async_graphql::OutputType,
{
    let mut conn = Connection::new(page.has_previous_page, page.has_next_page);
    conn.edges.extend(page.items.into_iter().map(|item| {
        let cursor = IdCursor {
            kind: Cow::Borrowed(kind),
            id: id_of(&item),
        };
        Edge::new(cursor, wrap(item))
    }));
    conn
}

/// [`connection`] for objects a list can answer in one pass (`plain`).
pub fn plain_connection<C, T: Plain>(
    page: Page<C>,
    kind: &'static str,
    id_of: impl Fn(&C) -> uuid::Uuid,
    wrap: impl Fn(C) -> T,
) -> PlainConnection<T> {
    PlainConnection::Objects(connection(page, kind, id_of, wrap))
}

/// A tier-3 program's intake: where a hand-off goes.
#[derive(SimpleObject)]
pub struct ProgramIntake {
    pub email: Option<String>,
    /// A phone or pager number (E.164) for a text.
    pub phone: Option<String>,
    /// A webhook endpoint (`registerWebhook`, subscribed to `handoff.created`).
    pub webhook_id: Option<ID>,
}
