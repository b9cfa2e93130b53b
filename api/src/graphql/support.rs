//! The support lifecycle over GraphQL: events, outreach, requests, offers, encounters,
//! follow-ups and clocks. Every decision is in `alongside_core::{events, requests}`.

use alongside_core::events::{
    self as core_events, Event as CoreEvent, InvolvedInput, NewEvent, Outreach as CoreOutreach,
};

use alongside_core::requests::care::{self, EncounterInput, FollowUp as CoreFollowUp};
use alongside_core::requests::clock::{self, Breach as CoreBreach};
use alongside_core::requests::{
    self, Preferences as CorePreferences, RequestInput, RequestView, Scope,
};

use async_graphql::connection::Connection;
use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveDateTime, Utc};

use super::enums::{
    CoordinatorAccess, DurationBand, EventCategory, FollowUpOutcome, FollowUpState,
    InvolvementRole, MilestoneKind, Modality, OutreachState, PeerOrigin, Profession, RequestOrigin,
    RequestState, SeverityBand, SpecialtyPreference, Urgency,
};
use super::errors::GqlResult;
use super::ids::{self, IdCursor};
use super::loaders::PersonLoader;
use super::query::{caller, page_cost, page_request};
use super::scalars::Date;
use super::types::{Person, connection};

fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    t.and_utc()
}

pub struct Event(pub CoreEvent);

/// A de-identified event: no narrative, no patient identifiers.
#[Object]
impl Event {
    async fn id(&self) -> ID {
        ids::encode(ids::EVENT, self.0.id)
    }
    async fn category(&self) -> EventCategory {
        self.0.category.into()
    }
    /// `YYYY-MM`.
    async fn month(&self) -> &str {
        &self.0.month
    }
    async fn department(&self) -> Option<&str> {
        self.0.department.as_deref()
    }
    async fn severity_band(&self) -> SeverityBand {
        self.0.severity_band.into()
    }
    async fn disclosure_in_progress(&self) -> bool {
        self.0.disclosure_in_progress
    }
    /// When a coordinator closed it (its legal life over); who was involved is then forgotten.
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at.map(utc)
    }
    /// The incident system's opaque reference.
    async fn external_ref(&self) -> Option<&str> {
        self.0.external_ref.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        utc(self.0.created_at)
    }
    /// Who was involved and how.
    async fn involvements(&self, ctx: &Context<'_>) -> Result<Vec<Involvement>> {
        let (db, who) = caller(ctx)?;
        let list = core_events::involvements(db, who, self.0.id).await.gql()?;
        Ok(list
            .into_iter()
            .map(|i| Involvement {
                person_id: i.person_id,
                role: i.role.into(),
            })
            .collect())
    }
    /// Staff ids this event names that the roster does not have yet: each becomes an
    /// involvement, with outreach, when the roster (SCIM, a staff import) brings them.
    async fn pending_involvements(&self, ctx: &Context<'_>) -> Result<Vec<PendingInvolvement>> {
        let (db, who) = caller(ctx)?;
        let list = core_events::pending::of_event(db, who, self.0.id)
            .await
            .gql()?;
        Ok(list
            .into_iter()
            .map(|p| PendingInvolvement {
                staff_id: p.staff_id,
                role: p.role.into(),
            })
            .collect())
    }
    async fn milestones(&self, ctx: &Context<'_>) -> Result<Vec<Milestone>> {
        let (db, who) = caller(ctx)?;
        let list = core_events::milestones(db, who, self.0.id).await.gql()?;
        Ok(list
            .into_iter()
            .map(|m| Milestone {
                id: ids::encode(ids::MILESTONE, m.id),
                kind: m.kind.into(),
                month: m.month,
            })
            .collect())
    }
    /// Outreach to everyone involved, including renewed outreach after milestones.
    async fn outreach(&self, ctx: &Context<'_>) -> Result<Vec<Outreach>> {
        let (db, who) = caller(ctx)?;
        Ok(core_events::outreach_for_event(db, who, self.0.id)
            .await
            .gql()?
            .into_iter()
            .map(Outreach)
            .collect())
    }
}

pub struct Involvement {
    person_id: uuid::Uuid,
    role: InvolvementRole,
}

#[Object]
impl Involvement {
    async fn role(&self) -> InvolvementRole {
        self.role
    }
    async fn person(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        Ok(ctx
            .data::<DataLoader<PersonLoader>>()?
            .load_one(self.person_id)
            .await?
            .map(Person))
    }
}

#[derive(InputObject)]
pub struct ReferColleagueInput {
    /// Their staff id or work email.
    pub colleague: String,
    /// Tell them it was you (your display name). Default: they are not told who asked.
    #[graphql(default)]
    pub share_my_name: bool,
}

/// A staff id an event names that no person on the roster has yet.
#[derive(SimpleObject)]
pub struct PendingInvolvement {
    pub staff_id: String,
    pub role: InvolvementRole,
}

#[derive(SimpleObject)]
pub struct Milestone {
    pub id: ID,
    pub kind: MilestoneKind,
    pub month: String,
}

pub struct Outreach(pub CoreOutreach);

/// Reaching out to someone involved in an event, offering a one-step path to support.
#[Object]
impl Outreach {
    async fn id(&self) -> ID {
        ids::encode(ids::OUTREACH, self.0.id)
    }
    /// How many times it was gently renewed after being declined or not answered.
    async fn recontacts(&self) -> i32 {
        self.0.recontacts
    }
    /// It comes from a colleague's concern rather than an event.
    async fn from_colleague(&self) -> bool {
        self.0.from_colleague
    }
    /// The colleague who was worried, only if they chose to be named.
    async fn referrer_name(&self) -> Option<&str> {
        self.0.referrer_name.as_deref()
    }
    /// A disclosure conversation makes outreach urgent.
    async fn urgent(&self) -> bool {
        self.0.urgent
    }
    async fn state(&self) -> OutreachState {
        self.0.state.into()
    }
    /// Set when the outreach follows a later milestone.
    async fn milestone_id(&self) -> Option<ID> {
        self.0.milestone_id.map(|m| ids::encode(ids::MILESTONE, m))
    }
    async fn person(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        Ok(ctx
            .data::<DataLoader<PersonLoader>>()?
            .load_one(self.0.person_id)
            .await?
            .map(Person))
    }
    async fn request_id(&self) -> Option<ID> {
        self.0
            .request_id
            .map(|r| ids::encode(ids::SUPPORT_REQUEST, r))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        utc(self.0.created_at)
    }
}

#[derive(SimpleObject)]
pub struct Preferences {
    pub peer_profession: Option<Profession>,
    pub specialty: SpecialtyPreference,
    pub language: Option<String>,
    pub language_required: bool,
    pub modality: Modality,
    pub peer_origin: PeerOrigin,
}

impl From<CorePreferences> for Preferences {
    fn from(p: CorePreferences) -> Self {
        Self {
            peer_profession: p.peer_profession.map(Into::into),
            specialty: p.specialty.into(),
            language: p.language,
            language_required: p.language_required,
            modality: p.modality.into(),
            peer_origin: p.peer_origin.into(),
        }
    }
}

pub struct SupportRequest(pub RequestView);

/// A request for support, as the caller may see it: fields they may not see are null.
#[Object]
impl SupportRequest {
    async fn id(&self) -> ID {
        ids::encode(ids::SUPPORT_REQUEST, self.0.id)
    }
    async fn state(&self) -> RequestState {
        self.0.state.into()
    }
    async fn origin(&self) -> RequestOrigin {
        self.0.origin.into()
    }
    async fn urgency(&self) -> Urgency {
        self.0.urgency.into()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        utc(self.0.created_at)
    }
    async fn acknowledged_at(&self) -> Option<DateTime<Utc>> {
        self.0.acknowledged_at.map(utc)
    }
    async fn first_contact_at(&self) -> Option<DateTime<Utc>> {
        self.0.first_contact_at.map(utc)
    }
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at.map(utc)
    }
    /// When a person must have acknowledged the request.
    async fn ack_due_at(&self) -> DateTime<Utc> {
        utc(self.0.ack_due_at)
    }
    /// When a peer must have made first contact.
    async fn contact_due_at(&self) -> DateTime<Utc> {
        utc(self.0.contact_due_at)
    }
    async fn ack_breached(&self) -> bool {
        self.0.ack_breached
    }
    async fn contact_breached(&self) -> bool {
        self.0.contact_breached
    }
    /// For the supporter it is offered to: answer by then.
    async fn offer_expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.offer_expires_at.map(utc)
    }
    async fn preferred_name(&self) -> Option<&str> {
        self.0.preferred_name.as_deref()
    }
    /// Who asked: for the requester, and coordinators the requester allowed to see it.
    async fn requester(&self, ctx: &Context<'_>) -> Result<Option<Person>> {
        match self.0.requester_person_id {
            Some(id) => Ok(ctx
                .data::<DataLoader<PersonLoader>>()?
                .load_one(id)
                .await?
                .map(Person)),
            None => Ok(None),
        }
    }
    async fn requester_profession(&self) -> Option<Profession> {
        self.0.requester_profession.map(Into::into)
    }
    /// For the assigned supporter: how to reach the requester.
    async fn contact_email(&self) -> Option<&str> {
        self.0.contact_email.as_deref()
    }
    async fn preferences(&self) -> Option<Preferences> {
        self.0.preferences.clone().map(Into::into)
    }
    async fn event_category(&self) -> Option<EventCategory> {
        self.0.event_category.map(Into::into)
    }
    async fn supporter_name(&self) -> Option<&str> {
        self.0.supporter_name.as_deref()
    }
    async fn escalated_to_program_id(&self) -> Option<ID> {
        self.0.escalated_to.map(|p| ids::encode(ids::PROGRAM, p))
    }
    /// The latest hand-off to a tier-3 program: when its intake was told and when it
    /// acknowledged. Coordinators.
    async fn handoff(&self, ctx: &Context<'_>) -> Result<Option<Handoff>> {
        let (db, who) = caller(ctx)?;
        let status = alongside_core::requests::handoff::status(db, who, self.0.id)
            .await
            .gql()?;
        Ok(status.map(|h| Handoff {
            sent_at: utc(h.sent_at),
            acknowledged_at: h.acknowledged_at.map(utc),
        }))
    }
}

#[derive(SimpleObject)]
pub struct Handoff {
    pub sent_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
}

/// A new request; a crisis request carries what to do right now.
#[derive(SimpleObject)]
pub struct RequestSupportPayload {
    pub request: SupportRequest,
    /// Present for crisis requests: call now, do not wait for a match.
    pub crisis_resources: Option<String>,
}

#[derive(SimpleObject)]
pub struct Suggestion {
    pub supporter_id: ID,
    pub display_name: String,
    pub profession: Profession,
    pub score: i32,
    /// Why this supporter ranks where they do, e.g. "same profession".
    pub reasons: Vec<String>,
}

pub struct FollowUp(pub CoreFollowUp);

#[Object]
impl FollowUp {
    async fn id(&self) -> ID {
        ids::encode(ids::FOLLOW_UP, self.0.id)
    }
    async fn request_id(&self) -> ID {
        ids::encode(ids::SUPPORT_REQUEST, self.0.request_id)
    }
    async fn due_at(&self) -> DateTime<Utc> {
        utc(self.0.due_at)
    }
    async fn state(&self) -> FollowUpState {
        self.0.state.into()
    }
    async fn outcome(&self) -> Option<FollowUpOutcome> {
        self.0.outcome.map(Into::into)
    }
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at.map(utc)
    }
    async fn preferred_name(&self) -> Option<&str> {
        self.0.preferred_name.as_deref()
    }
}

#[derive(SimpleObject)]
pub struct StateCount {
    pub state: RequestState,
    /// Null when suppressed: from 1 to k−1, or what would give such a count away.
    pub count: Option<u64>,
}

#[derive(SimpleObject)]
pub struct RequestCounts {
    pub by_state: Vec<StateCount>,
    /// Requests for a peer outside the institution only: local coordinators see only this count.
    /// Null when from 1 to k−1.
    pub outside_institution_only: Option<u64>,
}

#[derive(SimpleObject)]
pub struct Breach {
    pub request_id: ID,
    /// "acknowledgement" or "first_contact".
    pub clock: String,
    pub at: DateTime<Utc>,
    pub state: RequestState,
}

impl From<CoreBreach> for Breach {
    fn from(b: CoreBreach) -> Self {
        Self {
            request_id: ids::encode(ids::SUPPORT_REQUEST, b.request_id),
            clock: b.clock.into(),
            at: utc(b.at),
            state: b.state.into(),
        }
    }
}

#[derive(InputObject)]
pub struct InvolvedPersonInput {
    /// The institution's staff id, or
    pub staff_id: Option<String>,
    /// the person's email as the node knows it.
    pub email: Option<String>,
    pub role: InvolvementRole,
}

#[derive(InputObject)]
pub struct CreateEventInput {
    pub category: EventCategory,
    /// `YYYY-MM`; not in the future.
    pub month: String,
    /// Coarse, e.g. "Emergency". No names, numbers or dates.
    pub department: Option<String>,
    #[graphql(default_with = "SeverityBand::Unknown")]
    pub severity_band: SeverityBand,
    #[graphql(default)]
    pub disclosure_in_progress: bool,
    /// The incident system's opaque reference.
    pub external_ref: Option<String>,
    pub involved: Vec<InvolvedPersonInput>,
}

#[derive(InputObject)]
pub struct SupportRequestInput {
    #[graphql(default_with = "Urgency::Routine")]
    pub urgency: Urgency,
    pub peer_profession: Option<Profession>,
    #[graphql(default_with = "SpecialtyPreference::Any")]
    pub specialty: SpecialtyPreference,
    /// A language tag such as "es".
    pub language: Option<String>,
    /// Only match supporters who speak `language`.
    #[graphql(default)]
    pub language_required: bool,
    #[graphql(default_with = "Modality::Phone")]
    pub modality: Modality,
    #[graphql(default_with = "PeerOrigin::AnyDepartment")]
    pub peer_origin: PeerOrigin,
    /// What coordinators may see: STATUS_ONLY (default) or FULL.
    #[graphql(default_with = "CoordinatorAccess::StatusOnly")]
    pub coordinator_access: CoordinatorAccess,
    /// What to call you: a first name, nothing more.
    pub preferred_name: Option<String>,
    /// When answering an outreach.
    pub outreach_id: Option<ID>,
}

impl SupportRequestInput {
    fn into_core(self) -> Result<RequestInput> {
        Ok(RequestInput {
            urgency: self.urgency.into(),
            preferences: CorePreferences {
                peer_profession: self.peer_profession.map(Into::into),
                specialty: self.specialty.into(),
                language: self.language,
                language_required: self.language_required,
                modality: self.modality.into(),
                peer_origin: self.peer_origin.into(),
            },
            coordinator_access: self.coordinator_access.into(),
            preferred_name: self.preferred_name,
            outreach_id: self
                .outreach_id
                .map(|o| ids::decode(ids::OUTREACH, "outreachId", &o))
                .transpose()
                .gql()?,
        })
    }
}

#[derive(InputObject)]
pub struct EncounterInputGql {
    pub occurred_on: Date,
    pub duration: DurationBand,
    pub modality: Modality,
    /// 1 self-care, 2 peer, 3 professional.
    #[graphql(default = 2)]
    pub tier: i32,
    /// A program the person was referred to, if any.
    pub referral_program_id: Option<ID>,
}

fn request_id(id: &ID) -> Result<uuid::Uuid> {
    ids::decode(ids::SUPPORT_REQUEST, "id", id).gql()
}

#[derive(Default)]
pub struct SupportQuery;

#[Object]
impl SupportQuery {
    /// Recorded events, oldest first. Coordinators and admins.
    #[graphql(complexity = "page_cost(first, last, child_complexity)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> Result<Connection<IdCursor, Event>> {
        let (db, who) = caller(ctx)?;
        let page = page_request(ids::EVENT, after, before, first, last).gql()?;
        let page = core_events::list(db, who, page).await.gql()?;
        Ok(connection(page, ids::EVENT, |e| e.id, Event))
    }

    async fn event(&self, ctx: &Context<'_>, id: ID) -> Result<Event> {
        let (db, who) = caller(ctx)?;
        let uuid = ids::decode(ids::EVENT, "id", &id).gql()?;
        core_events::get(db, who, uuid).await.map(Event).gql()
    }

    /// Outreach to the signed-in person, newest first.
    async fn my_outreach(&self, ctx: &Context<'_>) -> Result<Vec<Outreach>> {
        let (db, who) = caller(ctx)?;
        Ok(core_events::my_outreach(db, who)
            .await
            .gql()?
            .into_iter()
            .map(Outreach)
            .collect())
    }

    /// The signed-in person's own requests.
    async fn my_support_requests(&self, ctx: &Context<'_>) -> Result<Vec<SupportRequest>> {
        let (db, who) = caller(ctx)?;
        Ok(requests::list(db, who, Scope::Mine, None)
            .await
            .gql()?
            .into_iter()
            .map(SupportRequest)
            .collect())
    }

    /// Requests offered to or assigned to the signed-in peer supporter.
    async fn supporting_requests(&self, ctx: &Context<'_>) -> Result<Vec<SupportRequest>> {
        let (db, who) = caller(ctx)?;
        Ok(requests::list(db, who, Scope::Supporting, None)
            .await
            .gql()?
            .into_iter()
            .map(SupportRequest)
            .collect())
    }

    /// The coordinators' queue, newest first (at most 200), as far as each requester allowed.
    /// Requests for an outside peer only appear in `requestCounts`.
    async fn support_queue(
        &self,
        ctx: &Context<'_>,
        state: Option<RequestState>,
    ) -> Result<Vec<SupportRequest>> {
        let (db, who) = caller(ctx)?;
        Ok(requests::list(db, who, Scope::Queue, state.map(Into::into))
            .await
            .gql()?
            .into_iter()
            .map(SupportRequest)
            .collect())
    }

    async fn support_request(&self, ctx: &Context<'_>, id: ID) -> Result<SupportRequest> {
        let (db, who) = caller(ctx)?;
        requests::get(db, who, request_id(&id)?)
            .await
            .map(SupportRequest)
            .gql()
    }

    /// Counts by state (requests for an outside peer only apart), suppressed like every
    /// aggregate. Coordinators, admins and analysts; the queue has the exact work.
    async fn request_counts(&self, ctx: &Context<'_>) -> Result<RequestCounts> {
        let (db, who) = caller(ctx)?;
        let k = ctx.data::<crate::config::Config>()?.metrics.suppression_k;
        let counts = requests::counts(db, who, k).await.gql()?;
        Ok(RequestCounts {
            by_state: counts
                .by_state
                .into_iter()
                .map(|(state, count)| StateCount {
                    state: state.into(),
                    count: count.value(),
                })
                .collect(),
            outside_institution_only: counts.outside_only.value(),
        })
    }

    /// Ranked, explained supporters for a request (when its requester shares details).
    async fn match_suggestions(
        &self,
        ctx: &Context<'_>,
        request_id: ID,
    ) -> Result<Vec<Suggestion>> {
        let (db, who) = caller(ctx)?;
        let id = ids::decode(ids::SUPPORT_REQUEST, "requestId", &request_id).gql()?;
        Ok(requests::suggestions(db, who, id)
            .await
            .gql()?
            .into_iter()
            .map(|s| Suggestion {
                supporter_id: ids::encode(ids::PERSON, s.supporter_person_id),
                display_name: s.display_name,
                profession: s.profession.into(),
                score: s.score,
                reasons: s.reasons,
            })
            .collect())
    }

    /// The signed-in supporter's scheduled follow-ups due within `withinDays` (overdue
    /// included), including for closed cases.
    async fn due_follow_ups(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 1)] within_days: i32,
    ) -> Result<Vec<FollowUp>> {
        let (db, who) = caller(ctx)?;
        if !(0..=366).contains(&within_days) {
            return Err(alongside_core::CoreError::bad_input(
                "withinDays",
                "must be 0 to 366",
            ))
            .gql();
        }
        let until = alongside_core::time::now() + chrono::Duration::days(i64::from(within_days));
        Ok(care::due_follow_ups(db, who, until)
            .await
            .gql()?
            .into_iter()
            .map(FollowUp)
            .collect())
    }

    /// Program metrics for the months `from` to `to` (`YYYY-MM`), suppressed: counts from 1 to
    /// k−1, and any that would let one be worked out, are null. Coordinators, admins, analysts.
    async fn program_metrics(
        &self,
        ctx: &Context<'_>,
        from: String,
        to: String,
        program_id: Option<ID>,
    ) -> Result<async_graphql::Json<alongside_core::metrics::program::Export>> {
        let (db, who) = caller(ctx)?;
        let config = ctx.data::<crate::config::Config>()?;
        let program = program_id
            .map(|p| ids::decode(ids::PROGRAM, "programId", &p))
            .transpose()
            .gql()?;
        alongside_core::metrics::program::export(
            db,
            who,
            from,
            to,
            program,
            config.metrics.suppression_k,
            config.surveys.questions(),
        )
        .await
        .map(async_graphql::Json)
        .gql()
    }

    /// The anonymous survey's questions, in the caller's language (profile, then
    /// `Accept-Language`, then the node's default), each with its `options`: the value to send
    /// and the words to show. Readable without signing in.
    async fn survey_questions(
        &self,
        ctx: &Context<'_>,
    ) -> Result<async_graphql::Json<Vec<alongside_core::surveys::QuestionText>>> {
        let questions = ctx.data::<crate::config::Config>()?.surveys.questions();
        let (words, locale) = super::query::words_for(ctx).await?;
        Ok(async_graphql::Json(alongside_core::surveys::in_language(
            questions, words, locale,
        )))
    }

    /// Survey results for the months `from` to `to`, suppressed. Coordinators, admins, analysts.
    async fn survey_results(
        &self,
        ctx: &Context<'_>,
        from: String,
        to: String,
    ) -> Result<async_graphql::Json<Vec<alongside_core::surveys::QuestionResult>>> {
        let (db, who) = caller(ctx)?;
        let config = ctx.data::<crate::config::Config>()?;
        alongside_core::surveys::results(
            db,
            who,
            config.surveys.questions(),
            from,
            to,
            config.metrics.suppression_k,
        )
        .await
        .map(async_graphql::Json)
        .gql()
    }

    /// An estimated net benefit from the program's measured figures and your own parameters, each
    /// line explained. Refused when too few people were supported to report safely.
    #[allow(clippy::too_many_arguments)]
    async fn business_case(
        &self,
        ctx: &Context<'_>,
        from: String,
        to: String,
        leaving_rate_without_support: f64,
        retention_effect: f64,
        replacement_cost: f64,
        absence_days_avoided_per_person: f64,
        cost_per_absence_day: f64,
        program_cost: f64,
    ) -> Result<async_graphql::Json<alongside_core::business_case::Report>> {
        let (db, who) = caller(ctx)?;
        let k = ctx.data::<crate::config::Config>()?.metrics.suppression_k;
        let p = alongside_core::business_case::Parameters {
            leaving_rate_without_support,
            retention_effect,
            replacement_cost,
            absence_days_avoided_per_person,
            cost_per_absence_day,
            program_cost,
        };
        alongside_core::business_case::report(db, who, from, to, k, p)
            .await
            .map(async_graphql::Json)
            .gql()
    }

    /// Requests whose acknowledgement or first-contact target was missed.
    async fn clock_breaches(&self, ctx: &Context<'_>) -> Result<Vec<Breach>> {
        let (db, who) = caller(ctx)?;
        Ok(clock::breaches(db, who)
            .await
            .gql()?
            .into_iter()
            .map(Breach::from)
            .collect())
    }
}

#[derive(Default)]
pub struct SupportMutation;

#[Object]
impl SupportMutation {
    /// Records a de-identified event and reaches out to everyone involved. Coordinators, admins,
    /// and partner clients with `events:write`.
    async fn create_event(&self, ctx: &Context<'_>, input: CreateEventInput) -> Result<Event> {
        let (db, who) = caller(ctx)?;
        let new = NewEvent {
            category: input.category.into(),
            month: input.month,
            department: input.department,
            severity_band: input.severity_band.into(),
            disclosure_in_progress: input.disclosure_in_progress,
            external_ref: input.external_ref,
            involved: input
                .involved
                .into_iter()
                .map(|i| InvolvedInput {
                    staff_id: i.staff_id,
                    email: i.email,
                    role: i.role.into(),
                })
                .collect(),
        };
        core_events::create(db, who, new, None)
            .await
            .map(|(e, _)| Event(e))
            .gql()
    }

    /// A later milestone (an investigation, peer review, board inquiry, lawsuit, deposition,
    /// trial, settlement, media attention, an anniversary): renews outreach to everyone involved.
    /// CONFLICT when the event is closed or nobody is recorded as involved any more.
    async fn add_milestone(
        &self,
        ctx: &Context<'_>,
        event_id: ID,
        kind: MilestoneKind,
        month: String,
    ) -> Result<Milestone> {
        let (db, who) = caller(ctx)?;
        let id = ids::decode(ids::EVENT, "eventId", &event_id).gql()?;
        let m = core_events::add_milestone(db, who, id, kind.into(), month)
            .await
            .gql()?;
        Ok(Milestone {
            id: ids::encode(ids::MILESTONE, m.id),
            kind: m.kind.into(),
            month: m.month,
        })
    }

    /// Closes an event whose legal life is over (no claim came, or it settled): who was involved
    /// is forgotten at the next purge (`maintenance.retention_days` after closing), and no
    /// milestone can be added after. Until then, or `maintenance.event_involvement_years`, a
    /// milestone reaches everyone involved.
    async fn close_event(&self, ctx: &Context<'_>, id: ID) -> Result<Event> {
        let (db, who) = caller(ctx)?;
        let uuid = ids::decode(ids::EVENT, "id", &id).gql()?;
        core_events::close(db, who, uuid).await.map(Event).gql()
    }

    /// Coordinators record that outreach reached the person (REACHED) or did not (NO_ANSWER).
    async fn mark_outreach(
        &self,
        ctx: &Context<'_>,
        id: ID,
        state: OutreachState,
    ) -> Result<Outreach> {
        let (db, who) = caller(ctx)?;
        let uuid = ids::decode(ids::OUTREACH, "id", &id).gql()?;
        core_events::mark_outreach(db, who, uuid, state.into())
            .await
            .map(Outreach)
            .gql()
    }

    /// The person declines an outreach. To accept, use `requestSupport` with its `outreachId`.
    async fn decline_outreach(&self, ctx: &Context<'_>, id: ID) -> Result<Outreach> {
        let (db, who) = caller(ctx)?;
        let uuid = ids::decode(ids::OUTREACH, "id", &id).gql()?;
        core_events::decline_outreach(db, who, uuid)
            .await
            .map(Outreach)
            .gql()
    }

    /// "I'm worried about a colleague": the program reaches out to them as after an event. They
    /// are told who asked only with `shareMyName`. At most 3 a day; always answers true once
    /// accepted, whether or not the colleague was already being reached out to.
    async fn refer_colleague(&self, ctx: &Context<'_>, input: ReferColleagueInput) -> Result<bool> {
        let (db, who) = caller(ctx)?;
        core_events::referral::refer_colleague(
            db,
            who,
            core_events::referral::Referral {
                colleague: input.colleague,
                share_my_name: input.share_my_name,
            },
        )
        .await
        .gql()?;
        Ok(true)
    }

    /// "Don't contact me again about this event": the person's outreach is declined, and neither
    /// re-contacts nor later milestones of that event reach them.
    async fn stop_outreach(&self, ctx: &Context<'_>, id: ID) -> Result<Outreach> {
        let (db, who) = caller(ctx)?;
        let uuid = ids::decode(ids::OUTREACH, "id", &id).gql()?;
        core_events::recontact::stop(db, who, uuid)
            .await
            .map(Outreach)
            .gql()
    }

    /// Asks for support for oneself. A crisis request returns crisis resources at once.
    async fn request_support(
        &self,
        ctx: &Context<'_>,
        input: SupportRequestInput,
    ) -> Result<RequestSupportPayload> {
        let (db, who) = caller(ctx)?;
        let created = requests::request_support(db, who, input.into_core()?)
            .await
            .gql()?;
        Ok(RequestSupportPayload {
            request: SupportRequest(created.request),
            crisis_resources: created.crisis_resources,
        })
    }

    /// Coordinators refer someone for support.
    async fn refer_for_support(
        &self,
        ctx: &Context<'_>,
        person_id: ID,
        event_id: Option<ID>,
        input: SupportRequestInput,
    ) -> Result<RequestSupportPayload> {
        let (db, who) = caller(ctx)?;
        let person = ids::decode(ids::PERSON, "personId", &person_id).gql()?;
        let event = event_id
            .map(|e| ids::decode(ids::EVENT, "eventId", &e))
            .transpose()
            .gql()?;
        let created = requests::refer(db, who, person, event, input.into_core()?)
            .await
            .gql()?;
        Ok(RequestSupportPayload {
            request: SupportRequest(created.request),
            crisis_resources: created.crisis_resources,
        })
    }

    /// A coordinator, or the supporter it is offered or assigned to, acknowledges a request.
    async fn acknowledge_request(&self, ctx: &Context<'_>, id: ID) -> Result<SupportRequest> {
        let (db, who) = caller(ctx)?;
        requests::acknowledge(db, who, request_id(&id)?)
            .await
            .map(SupportRequest)
            .gql()
    }

    /// The supporter a request is offered to accepts or declines it.
    async fn respond_to_offer(
        &self,
        ctx: &Context<'_>,
        id: ID,
        accept: bool,
    ) -> Result<SupportRequest> {
        let (db, who) = caller(ctx)?;
        requests::respond_to_offer(db, who, request_id(&id)?, accept)
            .await
            .map(SupportRequest)
            .gql()
    }

    /// A coordinator assigns a request to a supporter by hand.
    async fn assign_request(
        &self,
        ctx: &Context<'_>,
        id: ID,
        supporter_id: ID,
    ) -> Result<SupportRequest> {
        let (db, who) = caller(ctx)?;
        let person = ids::decode(ids::PERSON, "supporterId", &supporter_id).gql()?;
        requests::assign(db, who, request_id(&id)?, person)
            .await
            .map(SupportRequest)
            .gql()
    }

    /// The assigned supporter records a contact: when, how long, how, and any referral. There is
    /// no field for what was said, by design.
    async fn record_encounter(
        &self,
        ctx: &Context<'_>,
        request_id: ID,
        input: EncounterInputGql,
    ) -> Result<SupportRequest> {
        let (db, who) = caller(ctx)?;
        let id = ids::decode(ids::SUPPORT_REQUEST, "requestId", &request_id).gql()?;
        let input = EncounterInput {
            occurred_on: input.occurred_on.0,
            duration: input.duration.into(),
            modality: input.modality.into(),
            tier: input.tier,
            referral_program_id: input
                .referral_program_id
                .map(|p| ids::decode(ids::PROGRAM, "referralProgramId", &p))
                .transpose()
                .gql()?,
        };
        care::record_encounter(db, who, id, input)
            .await
            .map(SupportRequest)
            .gql()
    }

    /// Escalates to a tier-3 program in one step; the program's intake is told (email, text or
    /// its signed webhook). Give `shareFirstName` and `shareContact` only if the person agreed
    /// to share them with the program; otherwise it learns only the urgency and language.
    async fn escalate_request(
        &self,
        ctx: &Context<'_>,
        id: ID,
        program_id: ID,
        share_first_name: Option<String>,
        share_contact: Option<String>,
    ) -> Result<SupportRequest> {
        let (db, who) = caller(ctx)?;
        let program = ids::decode(ids::PROGRAM, "programId", &program_id).gql()?;
        let share = alongside_core::requests::handoff::Share::from_parts(
            share_first_name.as_deref(),
            share_contact.as_deref(),
        )
        .gql()?;
        care::escalate(db, who, request_id(&id)?, program, share)
            .await
            .map(SupportRequest)
            .gql()
    }

    /// The supporter moves a request to FOLLOW_UP, back to IN_CONTACT, or CLOSED; coordinators
    /// may close, and so may the requester once a peer at another institution supports them.
    async fn advance_request(
        &self,
        ctx: &Context<'_>,
        id: ID,
        to: RequestState,
    ) -> Result<SupportRequest> {
        let (db, who) = caller(ctx)?;
        care::advance(db, who, request_id(&id)?, to.into())
            .await
            .map(SupportRequest)
            .gql()
    }

    /// Answers the anonymous survey with the token from its email link; each link works once.
    /// No sign-in: answers are never linked to anyone.
    async fn submit_survey(
        &self,
        ctx: &Context<'_>,
        token: String,
        answers: async_graphql::Json<std::collections::BTreeMap<String, String>>,
    ) -> Result<bool> {
        let (db, _) = caller(ctx)?;
        let questions = ctx.data::<crate::config::Config>()?.surveys.questions();
        alongside_core::surveys::submit(db, questions, token, answers.0)
            .await
            .gql()?;
        Ok(true)
    }

    /// The requester withdraws their request.
    async fn withdraw_request(&self, ctx: &Context<'_>, id: ID) -> Result<SupportRequest> {
        let (db, who) = caller(ctx)?;
        requests::withdraw(db, who, request_id(&id)?)
            .await
            .map(SupportRequest)
            .gql()
    }

    /// The requester declines the support offered.
    async fn decline_support(&self, ctx: &Context<'_>, id: ID) -> Result<SupportRequest> {
        let (db, who) = caller(ctx)?;
        requests::decline_support(db, who, request_id(&id)?)
            .await
            .map(SupportRequest)
            .gql()
    }

    /// The supporter completes a follow-up with an outcome, or skips it (no outcome).
    async fn complete_follow_up(
        &self,
        ctx: &Context<'_>,
        id: ID,
        outcome: Option<FollowUpOutcome>,
    ) -> Result<FollowUp> {
        let (db, who) = caller(ctx)?;
        let uuid = ids::decode(ids::FOLLOW_UP, "id", &id).gql()?;
        care::complete_follow_up(db, who, uuid, outcome.map(Into::into))
            .await
            .map(FollowUp)
            .gql()
    }
}
