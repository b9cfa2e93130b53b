//! A peer supporter's own availability: when they can be asked, pause and resume, how many
//! people at once, hours a month, and consent to be matched with people at other institutions.

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::CoreError;
use alongside_core::people::{self, Person, PersonPatch};
use alongside_core::supporters::{self, AvailabilityWindow, OwnSupporterPatch, PeerSupporter};
use alongside_core::vocab::Weekday;
use askama::Template;
use chrono::NaiveTime;
use serde::Deserialize;

use super::form::Form;
use super::view::{FieldError, is_on};
use super::{Ctx, PageError, form_post, html, page, require_user, see_other};
use crate::node::AppState;

struct Day {
    key: &'static str,
    label: String,
    on: bool,
    start: String,
    end: String,
}

#[derive(Template)]
#[template(path = "availability.html")]
struct Availability<'a> {
    ctx: &'a Ctx,
    notice: Option<String>,
    error: Option<FieldError>,
    active: bool,
    days: Vec<Day>,
    time_zone: String,
    caseload_cap: String,
    monthly_hours_cap: String,
    outside: bool,
    /// The phone number for text messages, and whether offers come by text.
    phone: String,
    texts: bool,
}

impl Availability<'_> {
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

/// The page from the stored profile, or from what was typed when it must be fixed.
fn view<'a>(
    ctx: &'a Ctx,
    (profile, person): (&PeerSupporter, &Person),
    typed: Option<&Form>,
    error: Option<FieldError>,
    notice: Option<String>,
) -> Availability<'a> {
    let t = ctx.text;
    let days = Weekday::ALL
        .iter()
        .map(|d| {
            let key = d.as_str();
            let stored = profile.availability.iter().find(|w| w.weekday == *d);
            let (on, start, end) = match typed {
                Some(f) => (
                    f.get(&format!("day-{key}")).is_some(),
                    f.value(&format!("from-{key}")),
                    f.value(&format!("to-{key}")),
                ),
                None => (
                    stored.is_some(),
                    stored.map_or("09:00".into(), |w| w.start.format("%H:%M").to_string()),
                    stored.map_or("17:00".into(), |w| w.end.format("%H:%M").to_string()),
                ),
            };
            Day {
                key,
                label: t.label("weekday", key),
                on,
                start,
                end,
            }
        })
        .collect();
    let typed_or = |name: &str, stored: String| match typed {
        Some(f) => f.value(name),
        None => stored,
    };
    Availability {
        ctx,
        notice,
        error,
        active: profile.active,
        days,
        time_zone: typed_or("time_zone", profile.time_zone.clone()),
        caseload_cap: typed_or("caseload_cap", profile.caseload_cap.to_string()),
        monthly_hours_cap: typed_or("monthly_hours_cap", profile.monthly_hours_cap.to_string()),
        outside: typed.map_or(profile.outside_matching_opt_in, |f| {
            f.get("outside").is_some()
        }),
        // Only the text-message form carries these; the other forms keep what is stored.
        phone: match typed.filter(|f| f.get("form") == Some("texts")) {
            Some(f) => f.value("phone"),
            None => person.phone.clone().unwrap_or_default(),
        },
        texts: match typed.filter(|f| f.get("form") == Some("texts")) {
            Some(f) => f.get("text_messages").is_some(),
            None => person.text_messages,
        },
    }
}

async fn own_profile(st: &AppState, ctx: &Ctx) -> Result<(PeerSupporter, Person), PageError> {
    let user = require_user(ctx)?;
    let profile = supporters::for_person(&st.db, &ctx.principal(), user.person_id)
        .await?
        .ok_or(PageError::Core(CoreError::NotFound(
            "peer supporter profile",
        )))?;
    let person = people::get(&st.db, &ctx.principal(), user.person_id).await?;
    Ok((profile, person))
}

#[derive(Deserialize)]
pub struct AvailabilityQuery {
    saved: Option<String>,
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<AvailabilityQuery>,
) -> HttpResponse {
    let st = state.clone();
    let saved = query.into_inner().saved.is_some();
    page(&req, &state, async move |ctx| {
        alongside_core::access::authorize(
            &ctx.principal(),
            alongside_core::access::Operation::UpdateOwnSupporterProfile,
        )?;
        let (profile, person) = own_profile(&st, ctx).await?;
        let notice = saved.then(|| ctx.t("availability-saved"));
        let body = view(ctx, (&profile, &person), None, None, notice).render();
        Ok::<_, PageError>(html(ctx, StatusCode::OK, body))
    })
    .await
}

/// The form as core's patch, or the field to fix.
fn patch_of(ctx: &Ctx, form: &Form) -> Result<OwnSupporterPatch, FieldError> {
    let t = ctx.text;
    let mut windows = vec![];
    for d in Weekday::ALL {
        let key = d.as_str();
        if form.get(&format!("day-{key}")).is_none() {
            continue;
        }
        let time = |name: String| {
            form.get(&name)
                .and_then(|v| NaiveTime::parse_from_str(v, "%H:%M").ok())
                .ok_or_else(|| {
                    FieldError::new(
                        "availability",
                        t.t1("availability-time-missing", "day", t.label("weekday", key)),
                    )
                })
        };
        windows.push(AvailabilityWindow {
            weekday: *d,
            start: time(format!("from-{key}"))?,
            end: time(format!("to-{key}"))?,
        });
    }
    let number = |name: &str, field: &str| {
        form.value(name)
            .parse::<i32>()
            .map_err(|_| FieldError::new(field, t.t("availability-number")))
    };
    Ok(OwnSupporterPatch {
        time_zone: Some(form.value("time_zone")),
        availability: Some(windows),
        caseload_cap: Some(number("caseload_cap", "caseloadCap")?),
        outside_matching_opt_in: Some(form.get("outside").is_some()),
        active: None,
        monthly_hours_cap: Some(number("monthly_hours_cap", "monthlyHoursCap")?),
    })
}

pub async fn save(req: HttpRequest, state: web::Data<AppState>, body: Bytes) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, form, _| {
        let (profile, person) = own_profile(&st, ctx).await?;
        let again = |e: FieldError| {
            let body = view(ctx, (&profile, &person), Some(&form), Some(e), None).render();
            html(ctx, StatusCode::BAD_REQUEST, body)
        };
        let patch = match patch_of(ctx, &form) {
            Ok(p) => p,
            Err(e) => return Ok(again(e)),
        };
        match supporters::update_own(&st.db, &ctx.principal(), patch).await {
            Ok(_) => Ok(see_other("/support/availability?saved=1")),
            Err(e) => match FieldError::from_core(ctx.text, &e) {
                Some(field) => Ok(again(field)),
                None => Err(e.into()),
            },
        }
    })
    .await
}

/// The phone number for text messages and whether offers come by text: the person's own
/// profile, through the same core call as GraphQL's `updateMyProfile`.
pub async fn texts(req: HttpRequest, state: web::Data<AppState>, body: Bytes) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, form, _| {
        let (profile, person) = own_profile(&st, ctx).await?;
        let patch = PersonPatch {
            phone: Some(form.value("phone")),
            text_messages: Some(form.get("text_messages").is_some()),
            ..PersonPatch::default()
        };
        match people::update(&st.db, &ctx.principal(), person.id, patch).await {
            Ok(_) => Ok(see_other("/support/availability?saved=1")),
            Err(e) => match FieldError::from_core(ctx.text, &e) {
                Some(field) => {
                    let body =
                        view(ctx, (&profile, &person), Some(&form), Some(field), None).render();
                    Ok(html(ctx, StatusCode::BAD_REQUEST, body))
                }
                None => Err(e.into()),
            },
        }
    })
    .await
}

pub async fn pause(req: HttpRequest, state: web::Data<AppState>, body: Bytes) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, form, _| {
        require_user(ctx)?;
        let active = form.get("active") == Some("true");
        let patch = OwnSupporterPatch {
            active: Some(active),
            ..OwnSupporterPatch::default()
        };
        supporters::update_own(&st.db, &ctx.principal(), patch).await?;
        Ok::<_, PageError>(see_other("/support/availability?saved=1"))
    })
    .await
}
