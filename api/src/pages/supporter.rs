//! A peer supporter's pages: offers with the time left to answer, and the people they support.

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::requests::outside;
use alongside_core::requests::{self, Audience, RequestView, Scope, care};
use alongside_core::vocab::{FollowUpOutcome, IntroductionState};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::view::minutes_until;
use super::{Ctx, PageError, form_post, html, page, require_user, see_other};
use crate::node::AppState;

pub(super) struct Card {
    id: Uuid,
    pub(super) title: String,
    time_left: String,
    pub(super) summary: String,
    state: String,
    contact: Option<String>,
}

/// An introduction from a requester at another hospital.
struct Intro {
    id: Uuid,
    title: String,
    name: Option<String>,
    contact: Option<String>,
    /// Waiting for this supporter's answer; otherwise accepted.
    pending: bool,
}

struct Due {
    id: Uuid,
    title: String,
    due: String,
}

#[derive(Template)]
#[template(path = "support.html")]
struct Support<'a> {
    ctx: &'a Ctx,
    notice: Option<String>,
    offers: Vec<Card>,
    people: Vec<Card>,
    introductions: Vec<Intro>,
    follow_ups: Vec<Due>,
    outcomes: Vec<(&'static str, String)>,
}

pub(super) fn card(ctx: &Ctx, r: &RequestView) -> Card {
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
    page(&req, &state, async move |ctx| {
        require_user(ctx)?;
        let list = requests::list(&st.db, &ctx.principal(), Scope::Supporting, None).await?;
        let (offers, people): (Vec<_>, Vec<_>) = list
            .iter()
            .partition(|r| r.audience == Audience::Supporter { assigned: false });
        let notice = match answered.as_deref() {
            Some("accept") => Some(ctx.t("support-accepted")),
            Some("decline") => Some(ctx.t("support-declined")),
            Some("follow-up") => Some(ctx.t("follow-up-recorded")),
            Some("introduction-accept") => Some(ctx.t("support-introduction-accepted")),
            Some("introduction-closed") => Some(ctx.t("introduction-closed")),
            _ => None,
        };
        // Due within the next day, overdue ones included.
        let until = requests::now() + chrono::Duration::days(1);
        let due = care::due_follow_ups(&st.db, &ctx.principal(), until).await?;
        let t = ctx.text;
        let follow_ups = due
            .into_iter()
            .map(|f| Due {
                id: f.id,
                title: f
                    .preferred_name
                    .clone()
                    .unwrap_or_else(|| t.t("support-no-name")),
                due: t.t1("follow-up-due", "when", t.when(f.due_at)),
            })
            .collect();
        let intros = if ctx.is_supporter() {
            outside::my_introductions(&st.db, &ctx.principal()).await?
        } else {
            vec![]
        };
        let names = if intros.is_empty() {
            Default::default()
        } else {
            st.federation.member_names().await.unwrap_or_default()
        };
        let introductions = intros
            .into_iter()
            .map(|i| Intro {
                id: i.id,
                title: t.t1(
                    "support-introduction-title",
                    "institution",
                    names.get(&i.peer_node).cloned().unwrap_or(i.peer_node),
                ),
                name: i.first_name,
                contact: i.contact,
                pending: i.state == IntroductionState::Pending,
            })
            .collect();
        let body = Support {
            notice,
            introductions,
            offers: offers.iter().map(|r| card(ctx, r)).collect(),
            people: people
                .iter()
                .filter(|r| requests::state::is_active(r.state))
                .map(|r| card(ctx, r))
                .collect(),
            follow_ups,
            outcomes: FollowUpOutcome::ALL
                .iter()
                .map(|o| (o.as_str(), t.label("outcome", o.as_str())))
                .collect(),
            ctx,
        }
        .render();
        Ok::<_, PageError>(html(ctx, StatusCode::OK, body))
    })
    .await
}

pub async fn answer_offer(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: Bytes,
) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, form, _| {
        require_user(ctx)?;
        let id = super::path_id(&id, "support request")?;
        let accept = form.accepts()?;
        requests::respond_to_offer(&st.db, &ctx.principal(), id, accept).await?;
        Ok::<_, PageError>(see_other(if accept {
            "/support?answered=accept"
        } else {
            "/support?answered=decline"
        }))
    })
    .await
}

pub async fn complete_follow_up(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: Bytes,
) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, form, _| {
        require_user(ctx)?;
        let id = super::path_id(&id, "follow-up")?;
        let outcome = form
            .get("outcome")
            .map(str::parse::<FollowUpOutcome>)
            .transpose()?;
        care::complete_follow_up(&st.db, &ctx.principal(), id, outcome).await?;
        Ok::<_, PageError>(see_other("/support?answered=follow-up"))
    })
    .await
}
