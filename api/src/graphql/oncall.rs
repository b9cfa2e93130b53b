//! The on-call rota over GraphQL, and acknowledging an alert. Decisions live in
//! `alongside_core::oncall`.

use alongside_core::CoreError;
use alongside_core::oncall::{self, Acknowledged, Rota, RotaInput, Shift};
use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use chrono::{DateTime, NaiveTime, Utc};

use super::enums::Weekday;
use super::errors::GqlResult;
use super::ids;
use super::query::caller;

/// One weekly shift, in the rota's time zone.
#[derive(SimpleObject)]
pub struct OnCallShift {
    pub person_id: ID,
    pub weekday: Weekday,
    /// "HH:MM", 24-hour.
    pub start: String,
    /// "HH:MM"; at or before `start` runs past midnight.
    pub end: String,
    /// 1 is paged first.
    pub position: i32,
}

/// Someone else at a position for a while: a holiday, a swap.
#[derive(SimpleObject)]
pub struct OnCallOverride {
    pub id: ID,
    pub person_id: ID,
    pub position: i32,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// Who is paged for crisis alerts and missed clocks, and how it escalates.
#[derive(SimpleObject)]
pub struct OnCallRota {
    /// The zone the weekly shifts are in (IANA).
    pub time_zone: String,
    /// Minutes an alert waits for an acknowledgement before the next person is paged.
    pub escalate_after_minutes: i32,
    /// Paged after everyone on call.
    pub lead_person_id: Option<ID>,
    pub shifts: Vec<OnCallShift>,
    /// Overrides not yet over.
    pub overrides: Vec<OnCallOverride>,
    /// Who is on call now, in the order they are paged.
    pub on_call_now: Vec<ID>,
}

fn person(id: uuid::Uuid) -> ID {
    ids::encode(ids::PERSON, id)
}

impl From<Rota> for OnCallRota {
    fn from(r: Rota) -> Self {
        Self {
            time_zone: r.time_zone,
            escalate_after_minutes: r.escalate_after_minutes,
            lead_person_id: r.lead_person_id.map(person),
            shifts: r
                .shifts
                .into_iter()
                .map(|s| OnCallShift {
                    person_id: person(s.person_id),
                    weekday: s.weekday.into(),
                    start: s.start.format("%H:%M").to_string(),
                    end: s.end.format("%H:%M").to_string(),
                    position: s.position,
                })
                .collect(),
            overrides: r
                .overrides
                .into_iter()
                .map(|o| OnCallOverride {
                    id: ids::encode("OnCallOverride", o.id),
                    person_id: person(o.person_id),
                    position: o.position,
                    starts_at: o.starts_at.and_utc(),
                    ends_at: o.ends_at.and_utc(),
                })
                .collect(),
            on_call_now: r.on_call_now.into_iter().map(person).collect(),
        }
    }
}

#[derive(InputObject)]
pub struct OnCallShiftInput {
    pub person_id: ID,
    pub weekday: Weekday,
    /// "HH:MM", 24-hour.
    pub start: String,
    /// "HH:MM"; at or before `start` runs past midnight.
    pub end: String,
    /// 1 is paged first, up to 5.
    pub position: i32,
}

#[derive(InputObject)]
pub struct OnCallRotaInput {
    /// IANA, e.g. America/Chicago.
    pub time_zone: String,
    /// Default 10.
    pub escalate_after_minutes: Option<i32>,
    pub lead_person_id: Option<ID>,
    pub shifts: Vec<OnCallShiftInput>,
}

fn time(v: &str) -> Result<NaiveTime, CoreError> {
    NaiveTime::parse_from_str(v.trim(), "%H:%M")
        .map_err(|_| CoreError::bad_input("shifts", format!("{v:?} is not a time like \"18:30\"")))
}

#[derive(Default)]
pub struct OnCallQuery;

#[Object]
impl OnCallQuery {
    /// The on-call rota and who is on call now. Coordinators and admins.
    async fn on_call_rota(&self, ctx: &Context<'_>) -> Result<OnCallRota> {
        let (db, who) = caller(ctx)?;
        oncall::rota(db, who).await.map(Into::into).gql()
    }

    /// Why the node cannot reach everyone it must right now (nobody on call, emails only logged,
    /// texts without a gateway); empty when all is well. The same as `GET /api/v1/health`.
    /// Coordinators and admins.
    async fn degraded(&self, ctx: &Context<'_>) -> Result<Vec<DegradedReason>> {
        let (db, who) = caller(ctx)?;
        let config = ctx.data::<crate::config::Config>()?;
        alongside_core::health::for_staff(db, who, crate::node::delivery(config))
            .await
            .map(|list| {
                list.into_iter()
                    .map(|d| DegradedReason {
                        code: d.code.to_owned(),
                        detail: d.detail,
                    })
                    .collect()
            })
            .gql()
    }
}

/// One reason the node is degraded.
#[derive(SimpleObject)]
pub struct DegradedReason {
    /// Stable: `NO_ON_CALL`, `EMAIL_NOT_DELIVERED`, `TEXT_GATEWAY_MISSING`.
    pub code: String,
    pub detail: String,
}

#[derive(Default)]
pub struct OnCallMutation;

#[Object]
impl OnCallMutation {
    /// Replaces the weekly rota and its settings. Coordinators and admins.
    async fn set_on_call_rota(
        &self,
        ctx: &Context<'_>,
        input: OnCallRotaInput,
    ) -> Result<OnCallRota> {
        let (db, who) = caller(ctx)?;
        let shifts = input
            .shifts
            .into_iter()
            .map(|s| {
                Ok(Shift {
                    person_id: ids::decode(ids::PERSON, "personId", &s.person_id)?,
                    weekday: s.weekday.into(),
                    start: time(&s.start)?,
                    end: time(&s.end)?,
                    position: s.position,
                })
            })
            .collect::<Result<Vec<_>, CoreError>>()
            .gql()?;
        let lead = input
            .lead_person_id
            .map(|l| ids::decode(ids::PERSON, "leadPersonId", &l))
            .transpose()
            .gql()?;
        oncall::set_rota(
            db,
            who,
            RotaInput {
                time_zone: input.time_zone,
                escalate_after_minutes: input.escalate_after_minutes,
                lead_person_id: lead,
                shifts,
            },
        )
        .await
        .map(Into::into)
        .gql()
    }

    /// Puts someone at a position for a while (a holiday, a swap). Coordinators and admins.
    async fn add_on_call_override(
        &self,
        ctx: &Context<'_>,
        person_id: ID,
        position: i32,
        starts_at: DateTime<Utc>,
        ends_at: DateTime<Utc>,
    ) -> Result<OnCallRota> {
        let (db, who) = caller(ctx)?;
        let person = ids::decode(ids::PERSON, "personId", &person_id).gql()?;
        oncall::add_override(
            db,
            who,
            person,
            position,
            starts_at.naive_utc(),
            ends_at.naive_utc(),
        )
        .await
        .map(Into::into)
        .gql()
    }

    async fn remove_on_call_override(&self, ctx: &Context<'_>, id: ID) -> Result<OnCallRota> {
        let (db, who) = caller(ctx)?;
        let id = ids::decode("OnCallOverride", "id", &id).gql()?;
        oncall::remove_override(db, who, id)
            .await
            .map(Into::into)
            .gql()
    }

    /// Acknowledges an alert with the code its message carried: no one else is paged. True
    /// when this call acknowledged it, false when someone already had. No sign-in needed.
    async fn acknowledge_alert(&self, ctx: &Context<'_>, code: String) -> Result<bool> {
        let (db, _) = caller(ctx)?;
        oncall::acknowledge(db, &code)
            .await
            .map(|a| a == Acknowledged::Now)
            .gql()
    }
}
