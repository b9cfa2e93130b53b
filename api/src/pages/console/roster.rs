//! The roster: peer supporters with their training, caseload and hours against caps, and the
//! form that adds one or updates their training, caps and pause.

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::CoreError;
use alongside_core::roster::{self, Enrolment, Training};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use crate::node::AppState;
use crate::pages::form::Form;
use crate::pages::view::FieldError;
use crate::pages::{Ctx, PageError, form_post, html, page, require_user, see_other};

struct Member {
    name: String,
    profession: String,
    training: String,
    training_late: bool,
    caseload: String,
    hours: String,
    paused: bool,
    edit: String,
}

/// Supporters on one page of the roster, by name.
const PAGE: usize = 50;

#[derive(Template)]
#[template(path = "console_roster.html")]
struct RosterPage<'a> {
    ctx: &'a Ctx,
    members: Vec<Member>,
    /// "Supporters 51 to 100 of 500", when there is more than one page.
    range: Option<String>,
    previous: Option<String>,
    next: Option<String>,
    form: Form,
    error: Option<FieldError>,
    notice: Option<String>,
}

super::field_errors!(RosterPage);

#[derive(Deserialize)]
pub struct RosterQuery {
    edit: Option<String>,
    done: Option<String>,
    /// 1 for the first page; anything else shows the first.
    page: Option<String>,
}

async fn render(
    ctx: &Ctx,
    st: &AppState,
    status: StatusCode,
    page: usize,
    form: Form,
    error: Option<FieldError>,
    notice: Option<String>,
) -> Result<HttpResponse, PageError> {
    let t = ctx.text;
    let today = alongside_core::time::now().date();
    let entries = roster::roster(&st.db, &ctx.principal(), today).await?;
    let total = entries.len();
    let pages = total.div_ceil(PAGE).max(1);
    let page = page.clamp(1, pages);
    let first = (page - 1) * PAGE;
    let link = |p: usize| format!("/console/roster?page={p}");
    let range = (pages > 1).then(|| {
        t.catalogue.text_with(
            t.locale,
            "console-roster-range",
            &[
                ("from", i64::try_from(first + 1).unwrap_or(0).into()),
                (
                    "to",
                    i64::try_from((first + PAGE).min(total)).unwrap_or(0).into(),
                ),
                ("total", i64::try_from(total).unwrap_or(0).into()),
            ],
        )
    });
    let members = entries
        .iter()
        .skip(first)
        .take(PAGE)
        .map(|e| {
            let s = &e.supporter;
            Member {
                name: e.name.clone(),
                profession: t.label("profession", e.profession.as_str()),
                training: match (e.training, s.training_expires_on) {
                    (Training::Current | Training::Expiring | Training::Expired, Some(end)) => {
                        t.catalogue.text_with(
                            t.locale,
                            &format!("console-training-{}", e.training.as_str()),
                            &[("date", end.to_string().into())],
                        )
                    }
                    _ => t.t(&format!("console-training-{}-open", e.training.as_str())),
                },
                training_late: matches!(
                    e.training,
                    Training::Expiring | Training::Expired | Training::Untrained
                ),
                caseload: t.catalogue.text_with(
                    t.locale,
                    "console-caseload",
                    &[
                        ("n", e.caseload.into()),
                        ("cap", i64::from(s.caseload_cap).into()),
                    ],
                ),
                hours: t.catalogue.text_with(
                    t.locale,
                    "console-hours-used",
                    &[
                        (
                            "used",
                            format!("{:.1}", e.minutes_this_month as f64 / 60.0).into(),
                        ),
                        ("cap", i64::from(s.monthly_hours_cap).into()),
                    ],
                ),
                paused: !s.active,
                edit: crate::pages::form::encode(
                    e.staff_id
                        .as_deref()
                        .or(e.email.as_deref())
                        .unwrap_or_default(),
                ),
            }
        })
        .collect();
    let body = RosterPage {
        members,
        range,
        previous: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
        form,
        error,
        notice,
        ctx,
    }
    .render();
    Ok(html(ctx, status, body))
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<RosterQuery>,
) -> HttpResponse {
    let st = state.clone();
    let q = query.into_inner();
    page(&req, &state, async move |ctx| {
        require_user(ctx)?;
        // Changing someone: the form starts from what they have now.
        let mut fields: Vec<(String, String)> = vec![];
        if let Some(key) = q.edit.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
            let today = alongside_core::time::now().date();
            let entries = roster::roster(&st.db, &ctx.principal(), today).await?;
            if let Some(e) = entries
                .iter()
                .find(|e| e.staff_id.as_deref() == Some(key) || e.email.as_deref() == Some(key))
            {
                let s = &e.supporter;
                fields.push(("person".into(), key.to_owned()));
                if let Some(d) = s.trained_on {
                    fields.push(("trained_on".into(), d.to_string()));
                }
                if let Some(d) = s.training_expires_on {
                    fields.push(("training_expires_on".into(), d.to_string()));
                }
                fields.push(("caseload_cap".into(), s.caseload_cap.to_string()));
                fields.push(("monthly_hours_cap".into(), s.monthly_hours_cap.to_string()));
                if !s.active {
                    fields.push(("paused".into(), "yes".into()));
                }
            }
        }
        let notice = super::saved_notice(ctx, q.done.as_deref(), "console-roster-saved");
        render(
            ctx,
            &st,
            StatusCode::OK,
            q.page.as_deref().and_then(|p| p.parse().ok()).unwrap_or(1),
            Form::from_fields(fields),
            None,
            notice,
        )
        .await
    })
    .await
}

fn date(form: &Form, field: &str) -> Result<Option<NaiveDate>, CoreError> {
    form.get(field)
        .map(|d| {
            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| CoreError::bad_input(field, "use YYYY-MM-DD"))
        })
        .transpose()
}

fn enrolment_of(form: &Form) -> Result<Enrolment, CoreError> {
    Ok(Enrolment {
        person: form.value("person"),
        trained_on: date(form, "trained_on")?,
        training_expires_on: date(form, "training_expires_on")?,
        caseload_cap: super::whole(form, "caseload_cap")?.unwrap_or(3),
        monthly_hours_cap: super::whole(form, "monthly_hours_cap")?.unwrap_or(10),
        active: !form.has("paused", "yes"),
    })
}

pub async fn save(req: HttpRequest, state: web::Data<AppState>, body: Bytes) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, form, _| {
        require_user(ctx)?;
        let outcome = match enrolment_of(&form) {
            Ok(e) => roster::enrol(&st.db, &ctx.principal(), e).await.map(|_| ()),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => Ok(see_other("/console/roster?done=saved")),
            Err(e @ CoreError::BadInput { .. }) => {
                let error = super::field_error(ctx, &e, "person");
                render(
                    ctx,
                    &st,
                    StatusCode::BAD_REQUEST,
                    1,
                    form,
                    Some(error),
                    None,
                )
                .await
            }
            Err(e) => Err(e.into()),
        }
    })
    .await
}
