//! A peer supporter's page for one person they support: what they need to make contact, and
//! recording a conversation (structured only: no notes field) or passing them to professional
//! help.

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::CoreError;
use alongside_core::page::PageRequest;
use alongside_core::programs;
use alongside_core::requests::{self, Audience, care};
use alongside_core::vocab::{DurationBand, Modality, RequestState};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use super::form::Form;
use super::view::{FieldError, is_on};
use super::{Ctx, PageError, form_post, html, page, require_user, see_other};
use crate::node::AppState;

#[derive(Template)]
#[template(path = "support_request.html")]
struct CarePage<'a> {
    ctx: &'a Ctx,
    id: Uuid,
    title: String,
    notice: Option<String>,
    state: String,
    urgency: String,
    summary: String,
    contact: Option<String>,
    open: bool,
    form: Form,
    error: Option<FieldError>,
    date: String,
    today: String,
    durations: Vec<(&'static str, String)>,
    modalities: Vec<(&'static str, String)>,
    tiers: Vec<(&'static str, String)>,
    programs: Vec<(String, String)>,
    professional: Vec<(String, String)>,
    next_steps: Vec<(&'static str, String)>,
    /// The way the person asked to talk: the likely answer.
    asked_modality: &'static str,
}

impl CarePage<'_> {
    fn modality_checked(&self, value: &str) -> bool {
        match self.form.get("modality") {
            Some(m) => m == value,
            None => value == self.asked_modality,
        }
    }

    fn error_on(&self, field: &str) -> bool {
        is_on(&self.error, field)
    }

    fn error_text(&self) -> &str {
        self.error
            .as_ref()
            .map(|e| e.message.as_str())
            .unwrap_or_default()
    }
}

/// Builds the page for the assigned supporter; anyone else is refused by core or sent on.
async fn render(
    st: &AppState,
    ctx: &Ctx,
    id: Uuid,
    form: Form,
    error: Option<FieldError>,
    notice: Option<String>,
) -> Result<HttpResponse, PageError> {
    let who = ctx.principal();
    let r = requests::get(&st.db, &who, id).await?;
    if r.audience != (Audience::Supporter { assigned: true }) {
        return Ok(see_other("/support"));
    }
    let t = ctx.text;
    let list = programs::list(
        &st.db,
        &who,
        PageRequest {
            first: Some(50),
            ..PageRequest::default()
        },
        false,
    )
    .await?;
    let card = super::supporter::card(ctx, &r);
    let today = requests::now().date().to_string();
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let body = CarePage {
        ctx,
        id,
        title: card.title,
        notice,
        state: t.label("state", r.state.as_str()),
        urgency: t.label("urgency-level", r.urgency.as_str()),
        summary: card.summary,
        contact: r.contact_email.clone(),
        open: requests::state::is_active(r.state),
        date: form.get("occurred_on").unwrap_or(&today).to_owned(),
        today,
        durations: DurationBand::ALL
            .iter()
            .map(|d| (d.as_str(), t.label("duration", d.as_str())))
            .collect(),
        modalities: Modality::ALL
            .iter()
            .map(|m| (m.as_str(), t.label("modality", m.as_str())))
            .collect(),
        tiers: ["1", "2", "3"]
            .into_iter()
            .map(|n| (n, t.t(&format!("tier-{n}"))))
            .collect(),
        programs: list
            .items
            .iter()
            .map(|p| (p.id.to_string(), p.name.clone()))
            .collect(),
        professional: list
            .items
            .iter()
            .filter(|p| p.tier == 3)
            .map(|p| (p.id.to_string(), p.name.clone()))
            .collect(),
        next_steps: [
            RequestState::InContact,
            RequestState::FollowUp,
            RequestState::Closed,
        ]
        .iter()
        .map(|s| (s.as_str(), t.label("next-step", s.as_str())))
        .collect(),
        asked_modality: r
            .preferences
            .as_ref()
            .map_or(Modality::Phone, |p| p.modality)
            .as_str(),
        form,
        error,
    }
    .render();
    Ok(html(ctx, status, body))
}

#[derive(Deserialize)]
pub struct CareQuery {
    pub(super) done: Option<String>,
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<CareQuery>,
) -> HttpResponse {
    let st = state.clone();
    let done = query.into_inner().done;
    page(&req, &state, async move |ctx| {
        require_user(ctx)?;
        let id = super::path_id(&id, "support request")?;
        let notice = match done.as_deref() {
            Some("encounter") => Some(ctx.t("encounter-recorded")),
            Some("escalated") => Some(ctx.t("escalate-done")),
            _ => None,
        };
        render(&st, ctx, id, Form::default(), None, notice).await
    })
    .await
}

/// The facts of one conversation (the shared fields of `conversation_fields.html`), or the field
/// to fix.
pub(super) fn conversation_fields(
    ctx: &Ctx,
    form: &Form,
) -> Result<(NaiveDate, DurationBand, Modality), FieldError> {
    let t = ctx.text;
    let wrong = |field: &str, key: &str| FieldError::new(field, t.t(key));
    let occurred_on = form
        .get("occurred_on")
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or_else(|| wrong("occurredOn", "encounter-date-missing"))?;
    let duration = form
        .get("duration")
        .and_then(|d| d.parse::<DurationBand>().ok())
        .ok_or_else(|| wrong("duration", "encounter-duration-missing"))?;
    let modality = form
        .get("modality")
        .unwrap_or("phone")
        .parse::<Modality>()
        .map_err(|_| wrong("modality", "error-bad-input-body"))?;
    Ok((occurred_on, duration, modality))
}

/// The form's answers as core's input, or the field to fix.
fn encounter_of(
    ctx: &Ctx,
    form: &Form,
) -> Result<(care::EncounterInput, RequestState), FieldError> {
    let t = ctx.text;
    let wrong = |field: &str, key: &str| FieldError::new(field, t.t(key));
    let (occurred_on, duration, modality) = conversation_fields(ctx, form)?;
    let tier = form
        .get("tier")
        .unwrap_or("2")
        .parse::<i32>()
        .map_err(|_| wrong("tier", "error-bad-input-body"))?;
    let referral_program_id = form
        .get("referral")
        .map(str::parse::<Uuid>)
        .transpose()
        .map_err(|_| wrong("referralProgramId", "error-bad-input-body"))?;
    let next = form
        .get("next")
        .unwrap_or("in_contact")
        .parse::<RequestState>()
        .map_err(|_| wrong("next", "error-bad-input-body"))?;
    Ok((
        care::EncounterInput {
            occurred_on,
            duration,
            modality,
            tier,
            referral_program_id,
        },
        next,
    ))
}

pub async fn record_encounter(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: Bytes,
) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, form, _| {
        require_user(ctx)?;
        let id = super::path_id(&id, "support request")?;
        let who = ctx.principal();
        let (input, next) = match encounter_of(ctx, &form) {
            Ok(i) => i,
            Err(e) => return render(&st, ctx, id, form.clone(), Some(e), None).await,
        };
        if let Err(e) = care::record_encounter(&st.db, &who, id, input).await {
            return match super::view::FieldError::from_core(ctx.text, &e) {
                Some(field) => render(&st, ctx, id, form.clone(), Some(field), None).await,
                None => Err(e.into()),
            };
        }
        if next != RequestState::InContact {
            care::advance(&st.db, &who, id, next).await?;
        }
        Ok(see_other(&format!("/support/requests/{id}?done=encounter")))
    })
    .await
}

pub async fn escalate(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: Bytes,
) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, form, _| {
        require_user(ctx)?;
        let id = super::path_id(&id, "support request")?;
        let program = form
            .get("program")
            .and_then(|p| p.parse::<Uuid>().ok())
            .ok_or_else(|| CoreError::bad_input("programId", "choose a program"))?;
        care::escalate(&st.db, &ctx.principal(), id, program, None).await?;
        Ok::<_, PageError>(see_other(&format!("/support/requests/{id}?done=escalated")))
    })
    .await
}
