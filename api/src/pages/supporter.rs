//! A peer supporter's pages: offers with the time left to answer, and the people they support.

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::CoreError;
use alongside_core::requests::{self, Audience, RequestView, Scope};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::form::Form;
use super::view::minutes_until;
use super::{Ctx, PageError, check_post, html, page, require_user, see_other};
use crate::node::AppState;

struct Card {
    id: Uuid,
    title: String,
    time_left: String,
    summary: String,
    state: String,
    contact: Option<String>,
}

#[derive(Template)]
#[template(path = "support.html")]
struct Support<'a> {
    ctx: &'a Ctx,
    notice: Option<String>,
    offers: Vec<Card>,
    people: Vec<Card>,
}

fn card(ctx: &Ctx, r: &RequestView) -> Card {
    let t = ctx.text;
    let mut summary = vec![];
    if let Some(p) = r.requester_profession {
        summary.push(t.label("profession", p.as_str()));
    }
    if let Some(p) = &r.preferences {
        summary.push(t.label("modality", p.modality.as_str()));
    }
    if let Some(c) = r.event_category {
        summary.push(t.label("event-category", c.as_str()));
    }
    let name = r
        .preferred_name
        .clone()
        .unwrap_or_else(|| t.t("support-no-name"));
    Card {
        id: r.id,
        title: format!(
            "{} · {}",
            t.label("urgency-level", r.urgency.as_str()),
            name
        ),
        time_left: r
            .offer_expires_at
            .map(|at| {
                t.t1(
                    "offer-time-left",
                    "minutes",
                    minutes_until(at, requests::now()),
                )
            })
            .unwrap_or_default(),
        summary: summary.join(" · "),
        state: t.label("state", r.state.as_str()),
        contact: r.contact_email.clone(),
    }
}

#[derive(Deserialize)]
pub struct SupportQuery {
    answered: Option<String>,
}

pub async fn home(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<SupportQuery>,
) -> HttpResponse {
    let st = state.clone();
    let answered = query.into_inner().answered;
    page(&req, &state, |ctx| async move {
        let result = async {
            require_user(&ctx)?;
            let list = requests::list(&st.db, &ctx.principal(), Scope::Supporting, None).await?;
            let (offers, people): (Vec<_>, Vec<_>) = list
                .iter()
                .partition(|r| r.audience == Audience::Supporter { assigned: false });
            let notice = match answered.as_deref() {
                Some("accept") => Some(ctx.t("support-accepted")),
                Some("decline") => Some(ctx.t("support-declined")),
                _ => None,
            };
            let body = Support {
                notice,
                offers: offers.iter().map(|r| card(&ctx, r)).collect(),
                people: people
                    .iter()
                    .filter(|r| requests::state::is_active(r.state))
                    .map(|r| card(&ctx, r))
                    .collect(),
                ctx: &ctx,
            }
            .render();
            Ok::<_, PageError>(html(&ctx, StatusCode::OK, body))
        }
        .await;
        (ctx, result)
    })
    .await
}

pub async fn answer_offer(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: Bytes,
) -> HttpResponse {
    let st = state.clone();
    let form = Form::parse(&body);
    let rq = req.clone();
    page(&req, &state, |ctx| async move {
        let result = async {
            check_post(&rq, &st, &ctx, &form)?;
            require_user(&ctx)?;
            let id = id
                .parse::<Uuid>()
                .map_err(|_| CoreError::NotFound("support request"))?;
            let accept = match form.get("answer") {
                Some("accept") => true,
                Some("decline") => false,
                _ => return Err(CoreError::bad_input("answer", "accept or decline").into()),
            };
            requests::respond_to_offer(&st.db, &ctx.principal(), id, accept).await?;
            Ok::<_, PageError>(see_other(if accept {
                "/support?answered=accept"
            } else {
                "/support?answered=decline"
            }))
        }
        .await;
        (ctx, result)
    })
    .await
}
