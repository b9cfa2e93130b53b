//! Mutations. Each resolver translates its input and calls one core use case.

use std::collections::BTreeSet;

use alongside_core::CoreError;
use alongside_core::access::Role as CoreRole;
use alongside_core::accounts::{self, NewUser};
use alongside_core::institution::{self, InstitutionPatch};
use alongside_core::people::{self, NewPerson, PersonPatch};
use alongside_core::programs::{self, ProgramInput, ProgramPatch};
use alongside_core::sessions;
use alongside_core::supporters::{
    self, AvailabilityWindow as CoreWindow, OwnSupporterPatch, SupporterInput,
};
use alongside_core::tokens::TokenService;
use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::NaiveTime;
use std::sync::Arc;

use super::enums::{EventCategory, ExperienceBand, Profession, ProgramKind, Role, Weekday};
use super::errors::GqlResult;
use super::ids;
use super::query::caller;
use super::scalars::Date;
use super::types::{AccountView, AuthPayload, Institution, PeerSupporter, Person, Program};

#[derive(InputObject)]
pub struct UpdateInstitutionInput {
    pub name: Option<String>,
    pub jurisdiction: Option<String>,
    pub crisis_resources: Option<String>,
    /// Alerted at once about crisis requests; an empty string clears it.
    pub on_call_email: Option<String>,
}

#[derive(InputObject)]
pub struct CreatePersonInput {
    pub display_name: String,
    /// Optional: someone with no work email is reached by phone, or through their manager.
    pub email: Option<String>,
    pub profession: Profession,
    pub staff_id: Option<String>,
    pub specialty: Option<String>,
    pub department: Option<String>,
    pub experience_band: Option<ExperienceBand>,
    #[graphql(default)]
    pub languages: Vec<String>,
}

/// Omitted fields keep their value; an empty string clears an optional text.
#[derive(InputObject)]
pub struct UpdatePersonInput {
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub staff_id: Option<String>,
    pub profession: Option<Profession>,
    pub specialty: Option<String>,
    pub department: Option<String>,
    pub experience_band: Option<ExperienceBand>,
    pub languages: Option<Vec<String>>,
    /// The language the person reads the node's pages and messages in: `en` or `es`.
    pub locale: Option<String>,
    /// A phone number for text messages, with its country code (`+1 555 010 0123`); an empty
    /// string removes it.
    pub phone: Option<String>,
    /// Offers and alerts by text message too (needs a phone number).
    pub text_messages: Option<bool>,
}

/// What anyone may change about themselves.
#[derive(InputObject)]
pub struct UpdateMyProfileInput {
    pub display_name: Option<String>,
    pub profession: Option<Profession>,
    pub specialty: Option<String>,
    pub department: Option<String>,
    pub experience_band: Option<ExperienceBand>,
    pub languages: Option<Vec<String>>,
    /// The language you read the node's pages and messages in: `en` or `es`.
    pub locale: Option<String>,
    /// Your phone number for text messages, with its country code; an empty string removes it.
    pub phone: Option<String>,
    /// Offers and alerts by text message too (needs a phone number).
    pub text_messages: Option<bool>,
}

#[derive(InputObject)]
pub struct CreateUserInput {
    pub email: String,
    pub display_name: String,
    pub profession: Profession,
    /// Roles beyond `MEMBER`, which every account holds.
    #[graphql(default)]
    pub roles: Vec<Role>,
    /// At least 12 characters.
    pub password: String,
}

#[derive(SimpleObject)]
pub struct CreateUserPayload {
    pub account: AccountView,
    pub person: Person,
}

#[derive(InputObject)]
pub struct AvailabilityWindowInput {
    pub weekday: Weekday,
    /// "HH:MM", 24-hour.
    pub start: String,
    /// "HH:MM", 24-hour; earlier than `start` runs past midnight.
    pub end: String,
}

#[derive(InputObject)]
pub struct PeerSupporterInput {
    pub person_id: ID,
    pub trained_on: Option<Date>,
    pub training_expires_on: Option<Date>,
    #[graphql(default)]
    pub lived_experience: bool,
    /// IANA time zone, e.g. "America/Chicago".
    pub time_zone: String,
    #[graphql(default)]
    pub availability: Vec<AvailabilityWindowInput>,
    pub caseload_cap: i32,
    #[graphql(default)]
    pub outside_matching_opt_in: bool,
    #[graphql(default = true)]
    pub active: bool,
    /// Hours of encounters a month before no more requests are offered.
    #[graphql(default = 10)]
    pub monthly_hours_cap: i32,
}

#[derive(InputObject)]
pub struct UpdateMySupporterProfileInput {
    pub time_zone: Option<String>,
    pub availability: Option<Vec<AvailabilityWindowInput>>,
    pub caseload_cap: Option<i32>,
    pub outside_matching_opt_in: Option<bool>,
    /// False pauses new requests without losing the profile.
    pub active: Option<bool>,
    pub monthly_hours_cap: Option<i32>,
}

#[derive(InputObject)]
pub struct CreateProgramInput {
    pub name: String,
    pub kind: ProgramKind,
    /// 1 self-care and colleagues, 2 trained peers, 3 professional help.
    pub tier: i32,
    /// Professions served; empty means everyone.
    #[graphql(default)]
    pub audience: Vec<Profession>,
    pub hours: String,
    pub contact: String,
    #[graphql(default)]
    pub privileged: bool,
    /// Follow-up check-ins in days after first contact, e.g. [1, 7, 30, 90].
    #[graphql(default)]
    pub follow_up_days: Vec<i32>,
    /// Minutes within which a person must acknowledge a request (default 30).
    pub ack_target_minutes: Option<i32>,
    /// Hours within which a peer must make first contact (default 24).
    pub first_contact_target_hours: Option<i32>,
    /// Hours to reach a disclosure participant before the on-call is alerted (default 4).
    pub urgent_outreach_hours: Option<i32>,
    /// Event categories whose outreach is urgent for everyone involved (as for a disclosure).
    #[graphql(default)]
    pub urgent_categories: Vec<EventCategory>,
    /// Days after the first outreach when outreach declined or not answered is gently renewed
    /// (default 14 and 90; an empty list renews none).
    pub recontact_days: Option<Vec<i32>>,
}

#[derive(InputObject)]
pub struct ProgramIntakeInput {
    pub email: Option<String>,
    /// A phone or pager number with its country code.
    pub phone: Option<String>,
    /// The id `registerWebhook` returned.
    pub webhook_id: Option<ID>,
}

#[derive(InputObject)]
pub struct UpdateProgramInput {
    pub name: Option<String>,
    pub kind: Option<ProgramKind>,
    pub tier: Option<i32>,
    pub audience: Option<Vec<Profession>>,
    pub hours: Option<String>,
    pub contact: Option<String>,
    pub privileged: Option<bool>,
    pub follow_up_days: Option<Vec<i32>>,
    /// False retires the program from public lists.
    pub active: Option<bool>,
    pub ack_target_minutes: Option<i32>,
    pub first_contact_target_hours: Option<i32>,
    /// Hours to reach a disclosure participant before the on-call is alerted (default 4).
    pub urgent_outreach_hours: Option<i32>,
    /// Event categories whose outreach is urgent for everyone involved (as for a disclosure).
    pub urgent_categories: Option<Vec<EventCategory>>,
    /// Days after the first outreach when outreach declined or not answered is renewed.
    pub recontact_days: Option<Vec<i32>>,
}

fn windows(input: Vec<AvailabilityWindowInput>) -> Result<Vec<CoreWindow>, CoreError> {
    let time = |v: &str| {
        NaiveTime::parse_from_str(v.trim(), "%H:%M").map_err(|_| {
            CoreError::bad_input(
                "availability",
                format!("{v:?} is not a time like \"18:30\""),
            )
        })
    };
    input
        .into_iter()
        .map(|w| {
            Ok(CoreWindow {
                weekday: w.weekday.into(),
                start: time(&w.start)?,
                end: time(&w.end)?,
            })
        })
        .collect()
}

fn roles(list: Vec<Role>) -> BTreeSet<CoreRole> {
    let mut set: BTreeSet<CoreRole> = list.into_iter().map(Into::into).collect();
    set.insert(CoreRole::Member);
    set
}

fn professions(list: Vec<Profession>) -> Vec<alongside_core::vocab::Profession> {
    list.into_iter().map(Into::into).collect()
}

/// The per-address sign-in allowance (absent when printing the schema or in-process calls).
fn sign_in_gate(ctx: &Context<'_>) -> Result<()> {
    match ctx.data_opt::<crate::http::graphql::SignInGate>() {
        Some(gate) => gate.check().gql(),
        None => Ok(()),
    }
}

#[derive(Default)]
pub struct NodeMutation;

#[Object]
impl NodeMutation {
    /// Signs in with email and password.
    async fn login(
        &self,
        ctx: &Context<'_>,
        email: String,
        password: String,
    ) -> Result<AuthPayload> {
        let (db, _) = caller(ctx)?;
        sign_in_gate(ctx)?;
        let tokens = ctx.data::<Arc<TokenService>>()?;
        accounts::login(db, tokens, email, password)
            .await
            .map(AuthPayload)
            .gql()
    }

    /// Emails a single-use sign-in link (if the node allows it). Always answers true, whether or
    /// not the address has an account.
    async fn request_sign_in_link(&self, ctx: &Context<'_>, email: String) -> Result<bool> {
        let (db, _) = caller(ctx)?;
        sign_in_gate(ctx)?;
        let enabled = ctx
            .data::<crate::config::Config>()
            .map(|c| c.auth.sign_in_links)
            .unwrap_or(false);
        accounts::request_sign_in_link(db, enabled, email)
            .await
            .gql()?;
        Ok(true)
    }

    /// Signs in with the token from a sign-in link; each link works once.
    async fn sign_in_with_link(&self, ctx: &Context<'_>, token: String) -> Result<AuthPayload> {
        let (db, _) = caller(ctx)?;
        sign_in_gate(ctx)?;
        let tokens = ctx.data::<Arc<TokenService>>()?;
        let enabled = ctx
            .data::<crate::config::Config>()
            .map(|c| c.auth.sign_in_links)
            .unwrap_or(false);
        accounts::redeem_sign_in_link(db, enabled, tokens, token)
            .await
            .map(AuthPayload)
            .gql()
    }

    /// Exchanges a refresh token (once) for a new token pair.
    async fn refresh_token(&self, ctx: &Context<'_>, refresh_token: String) -> Result<AuthPayload> {
        let (db, _) = caller(ctx)?;
        sign_in_gate(ctx)?;
        let tokens = ctx.data::<Arc<TokenService>>()?;
        accounts::refresh(db, tokens, refresh_token)
            .await
            .map(AuthPayload)
            .gql()
    }

    /// Admins.
    async fn update_institution(
        &self,
        ctx: &Context<'_>,
        input: UpdateInstitutionInput,
    ) -> Result<Institution> {
        let (db, who) = caller(ctx)?;
        let patch = InstitutionPatch {
            name: input.name,
            jurisdiction: input.jurisdiction,
            crisis_resources: input.crisis_resources,
            on_call_email: input.on_call_email,
        };
        institution::update(db, who, patch)
            .await
            .map(Institution)
            .gql()
    }

    /// Coordinators and admins.
    async fn create_person(&self, ctx: &Context<'_>, input: CreatePersonInput) -> Result<Person> {
        let (db, who) = caller(ctx)?;
        let new = NewPerson {
            staff_id: input.staff_id,
            display_name: input.display_name,
            email: input.email,
            profession: input.profession.into(),
            specialty: input.specialty,
            department: input.department,
            experience_band: input.experience_band.map(Into::into),
            languages: input.languages,
        };
        people::create(db, who, new).await.map(Person).gql()
    }

    /// Coordinators and admins.
    async fn update_person(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdatePersonInput,
    ) -> Result<Person> {
        let (db, who) = caller(ctx)?;
        let uuid = ids::decode(ids::PERSON, "id", &id).gql()?;
        let patch = PersonPatch {
            display_name: input.display_name,
            email: input.email,
            staff_id: input.staff_id,
            profession: input.profession.map(Into::into),
            specialty: input.specialty,
            department: input.department,
            experience_band: input.experience_band.map(Into::into),
            languages: input.languages,
            locale: input.locale,
            phone: input.phone,
            text_messages: input.text_messages,
        };
        people::update(db, who, uuid, patch).await.map(Person).gql()
    }

    /// Anyone signed in, for their own profile.
    async fn update_my_profile(
        &self,
        ctx: &Context<'_>,
        input: UpdateMyProfileInput,
    ) -> Result<Person> {
        let (db, who) = caller(ctx)?;
        let me = who.require_user().gql()?.person_id;
        let patch = PersonPatch {
            display_name: input.display_name,
            profession: input.profession.map(Into::into),
            specialty: input.specialty,
            department: input.department,
            experience_band: input.experience_band.map(Into::into),
            languages: input.languages,
            locale: input.locale,
            phone: input.phone,
            text_messages: input.text_messages,
            ..PersonPatch::default()
        };
        people::update(db, who, me, patch).await.map(Person).gql()
    }

    /// Admins: a new person with a password account.
    async fn create_user(
        &self,
        ctx: &Context<'_>,
        input: CreateUserInput,
    ) -> Result<CreateUserPayload> {
        let (db, who) = caller(ctx)?;
        let user = NewUser {
            email: input.email,
            display_name: input.display_name,
            profession: input.profession.into(),
            roles: roles(input.roles),
            password: input.password,
        };
        let (account, person) = accounts::create_user(db, who, user).await.gql()?;
        Ok(CreateUserPayload {
            account: AccountView(account),
            person: Person(person),
        })
    }

    /// Admins: replaces an account's roles (`MEMBER` is always kept).
    async fn set_account_roles(
        &self,
        ctx: &Context<'_>,
        account_id: ID,
        roles: Vec<Role>,
    ) -> Result<AccountView> {
        let (db, who) = caller(ctx)?;
        let uuid = ids::decode(ids::ACCOUNT, "accountId", &account_id).gql()?;
        accounts::set_roles(db, who, uuid, self::roles(roles))
            .await
            .map(AccountView)
            .gql()
    }

    /// Signs the caller out everywhere: every browser session and refresh token ends, and every
    /// access token (this one too) stops working at the next request. Returns how many browser
    /// sessions were open.
    async fn sign_out_everywhere(&self, ctx: &Context<'_>) -> Result<i32> {
        let (db, who) = caller(ctx)?;
        let n = sessions::end_everywhere(db, who).await.gql()?;
        Ok(i32::try_from(n).unwrap_or(i32::MAX))
    }

    /// Admins: suspends an account or lifts its suspension. Suspended, it cannot sign in, and
    /// its sessions and tokens stop working at the next request; its history stays.
    async fn set_account_suspended(
        &self,
        ctx: &Context<'_>,
        account_id: ID,
        suspended: bool,
    ) -> Result<AccountView> {
        let (db, who) = caller(ctx)?;
        let uuid = ids::decode(ids::ACCOUNT, "accountId", &account_id).gql()?;
        accounts::set_suspended(db, who, uuid, suspended)
            .await
            .map(AccountView)
            .gql()
    }

    /// Coordinators and admins: creates or replaces a person's peer supporter profile.
    async fn upsert_peer_supporter(
        &self,
        ctx: &Context<'_>,
        input: PeerSupporterInput,
    ) -> Result<PeerSupporter> {
        let (db, who) = caller(ctx)?;
        let person_id = ids::decode(ids::PERSON, "personId", &input.person_id).gql()?;
        let input = SupporterInput {
            person_id,
            trained_on: input.trained_on.map(|d| d.0),
            training_expires_on: input.training_expires_on.map(|d| d.0),
            lived_experience: input.lived_experience,
            time_zone: input.time_zone,
            availability: windows(input.availability).gql()?,
            caseload_cap: input.caseload_cap,
            outside_matching_opt_in: input.outside_matching_opt_in,
            active: input.active,
            monthly_hours_cap: input.monthly_hours_cap,
        };
        supporters::upsert(db, who, input)
            .await
            .map(PeerSupporter::new)
            .gql()
    }

    /// Peer supporters, for their own availability, cap, consent and pause.
    async fn update_my_supporter_profile(
        &self,
        ctx: &Context<'_>,
        input: UpdateMySupporterProfileInput,
    ) -> Result<PeerSupporter> {
        let (db, who) = caller(ctx)?;
        let patch = OwnSupporterPatch {
            time_zone: input.time_zone,
            availability: input.availability.map(windows).transpose().gql()?,
            caseload_cap: input.caseload_cap,
            outside_matching_opt_in: input.outside_matching_opt_in,
            active: input.active,
            monthly_hours_cap: input.monthly_hours_cap,
        };
        supporters::update_own(db, who, patch)
            .await
            .map(PeerSupporter::new)
            .gql()
    }

    /// Where escalations to a tier-3 program are handed off: an email, a phone for a text,
    /// and/or a registered webhook endpoint (signed). An empty value removes one. Coordinators,
    /// admins, and partner clients with `programs:write`.
    async fn set_program_intake(
        &self,
        ctx: &Context<'_>,
        program_id: ID,
        input: ProgramIntakeInput,
    ) -> Result<Program> {
        let (db, who) = caller(ctx)?;
        let uuid = ids::decode(ids::PROGRAM, "programId", &program_id).gql()?;
        let webhook_id = match input.webhook_id.as_ref().filter(|w| !w.trim().is_empty()) {
            None => None,
            Some(w) => Some(ids::decode(super::notifications::WEBHOOK, "webhookId", w).gql()?),
        };
        let intake = alongside_core::programs::Intake {
            email: input.email,
            phone: input.phone,
            webhook_id,
        };
        programs::set_intake(db, who, uuid, intake)
            .await
            .map(Program)
            .gql()
    }

    /// Coordinators, admins, and partner clients with `programs:write`.
    async fn create_program(
        &self,
        ctx: &Context<'_>,
        input: CreateProgramInput,
    ) -> Result<Program> {
        let (db, who) = caller(ctx)?;
        let input = ProgramInput {
            name: input.name,
            kind: input.kind.into(),
            tier: input.tier,
            audience: professions(input.audience),
            hours: input.hours,
            contact: input.contact,
            privileged: input.privileged,
            follow_up_days: input.follow_up_days,
            ack_target_minutes: input.ack_target_minutes,
            first_contact_target_hours: input.first_contact_target_hours,
            urgent_outreach_hours: input.urgent_outreach_hours,
            urgent_categories: input
                .urgent_categories
                .into_iter()
                .map(Into::into)
                .collect(),
            recontact_days: input.recontact_days,
        };
        programs::create(db, who, input).await.map(Program).gql()
    }

    /// Coordinators, admins, and partner clients with `programs:write`.
    async fn update_program(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateProgramInput,
    ) -> Result<Program> {
        let (db, who) = caller(ctx)?;
        let uuid = ids::decode(ids::PROGRAM, "id", &id).gql()?;
        let patch = ProgramPatch {
            name: input.name,
            kind: input.kind.map(Into::into),
            tier: input.tier,
            audience: input.audience.map(professions),
            hours: input.hours,
            contact: input.contact,
            privileged: input.privileged,
            follow_up_days: input.follow_up_days,
            active: input.active,
            ack_target_minutes: input.ack_target_minutes,
            first_contact_target_hours: input.first_contact_target_hours,
            urgent_outreach_hours: input.urgent_outreach_hours,
            urgent_categories: input
                .urgent_categories
                .map(|l| l.into_iter().map(Into::into).collect()),
            recontact_days: input.recontact_days,
        };
        programs::update(db, who, uuid, patch)
            .await
            .map(Program)
            .gql()
    }
}
