//! The queue and a request's page for coordinators.

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::CoreError;
use alongside_core::page::PageRequest;
use alongside_core::programs;
use alongside_core::requests::{self, Audience, care, matchmaking, queue};
use alongside_core::vocab::{RequestState, Urgency};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::Clock;
use crate::node::AppState;
use crate::pages::{Ctx, PageError, form_post, html, page, require_user, see_other};

struct Row {
    id: Uuid,
    title: String,
    program: Option<String>,
    state: String,
    received: String,
    ack: Clock,
    contact: Clock,
    breached: bool,
}

#[derive(Template)]
#[template(path = "console_queue.html")]
struct QueuePage<'a> {
    ctx: &'a Ctx,
    rows: Vec<Row>,
    states: Vec<(&'static str, String)>,
    urgencies: Vec<(&'static str, String)>,
    programs: Vec<(String, String)>,
    chosen_state: String,
    chosen_urgency: String,
    chosen_program: String,
    /// Links to the page before and after this one, keeping the filters.
    previous: Option<String>,
    next: Option<String>,
    outside: String,
}

#[derive(Deserialize)]
pub struct QueueQuery {
    state: Option<String>,
    urgency: Option<String>,
    program: Option<String>,
    /// 1 for the first page.
    page: Option<String>,
}

/// A filter value from the query string: empty means any; anything else must be a known value.
fn chosen<T: std::str::FromStr>(value: &Option<String>) -> Result<Option<T>, CoreError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => v
            .parse()
            .map(Some)
            .map_err(|_| CoreError::bad_input("filter", "choose a value from the list")),
    }
}

/// The queue's address for page `page` (from 1) with the same filters.
fn page_link(f: &queue::Filter, page: u32) -> String {
    let mut q: Vec<(&str, String)> = vec![];
    if let Some(s) = f.state {
        q.push(("state", s.as_str().into()));
    }
    if let Some(u) = f.urgency {
        q.push(("urgency", u.as_str().into()));
    }
    if let Some(p) = f.program {
        q.push(("program", p.to_string()));
    }
    q.push(("page", page.to_string()));
    format!(
        "/console?{}",
        serde_urlencoded::to_string(&q).unwrap_or_default()
    )
}

pub async fn queue_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<QueueQuery>,
) -> HttpResponse {
    let st = state.clone();
    let query = query.into_inner();
    page(&req, &state, async move |ctx| {
        require_user(ctx)?;
        let who = ctx.principal();
        // Core's decision on who works the queue, before the filters are read.
        alongside_core::access::authorize(
            &who,
            alongside_core::access::Operation::CoordinateRequests,
        )?;
        let filter = queue::Filter {
            state: chosen::<RequestState>(&query.state)?,
            urgency: chosen::<Urgency>(&query.urgency)?,
            program: chosen::<Uuid>(&query.program)?,
            page: chosen::<u32>(&query.page)?
                .unwrap_or(1)
                .checked_sub(1)
                .ok_or_else(|| CoreError::bad_input("filter", "pages start at 1"))?,
        };
        let waiting = queue::waiting(&st.db, &who, filter).await?;
        let programs = programs::list(
            &st.db,
            &who,
            PageRequest {
                first: Some(alongside_core::page::MAX_PAGE_SIZE),
                ..PageRequest::default()
            },
            false,
        )
        .await?
        .items;
        let program_name = |id: Option<Uuid>| {
            id.and_then(|id| programs.iter().find(|p| p.id == id))
                .map(|p| p.name.clone())
        };
        let counts = requests::counts(&st.db, &who, st.config.metrics.suppression_k).await?;
        let t = ctx.text;
        let now = requests::now();
        let rows = waiting
            .requests
            .iter()
            .map(|r| {
                let (ack, contact) = Clock::both(t, r, now);
                Row {
                    id: r.id,
                    title: t.label("urgency-level", r.urgency.as_str()),
                    program: program_name(r.program_id),
                    state: t.label("console-state", r.state.as_str()),
                    received: t.t1("console-received", "when", t.when(r.created_at)),
                    ack,
                    contact,
                    breached: queue::breached(r),
                }
            })
            .collect();
        let body = QueuePage {
            rows,
            states: RequestState::ALL
                .iter()
                .filter(|s| **s != RequestState::AwaitingFederation)
                .map(|s| (s.as_str(), t.label("console-state", s.as_str())))
                .collect(),
            urgencies: Urgency::ALL
                .iter()
                .map(|u| (u.as_str(), t.label("urgency-level", u.as_str())))
                .collect(),
            programs: programs
                .iter()
                .map(|p| (p.id.to_string(), p.name.clone()))
                .collect(),
            chosen_program: filter.program.map(|p| p.to_string()).unwrap_or_default(),
            previous: (filter.page > 0).then(|| page_link(&filter, filter.page)),
            next: waiting.more.then(|| page_link(&filter, filter.page + 2)),
            chosen_state: filter.state.map(|s| s.as_str()).unwrap_or("").to_owned(),
            chosen_urgency: filter.urgency.map(|u| u.as_str()).unwrap_or("").to_owned(),
            outside: super::shown(
                t,
                counts.outside_only,
                st.config.metrics.suppression_k.get(),
            ),
            ctx,
        }
        .render();
        Ok::<_, PageError>(html(ctx, StatusCode::OK, body))
    })
    .await
}

struct SuggestionRow {
    person: Uuid,
    name: String,
    profession: String,
    reasons: Vec<String>,
}

#[derive(Template)]
#[template(path = "console_request.html")]
struct RequestPage<'a> {
    ctx: &'a Ctx,
    id: Uuid,
    title: String,
    state: String,
    received: String,
    ack: Clock,
    contact: Clock,
    /// The requester allowed the program to see their details.
    full: bool,
    details: Vec<(String, String)>,
    supporter: Option<String>,
    acknowledged: bool,
    suggestions: Vec<SuggestionRow>,
    can_assign: bool,
    programs: Vec<(Uuid, String)>,
    can_escalate: bool,
    can_close: bool,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

pub async fn request_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<Done>,
) -> HttpResponse {
    let st = state.clone();
    let done = query.into_inner().done;
    page(&req, &state, async move |ctx| {
        require_user(ctx)?;
        let id = crate::pages::path_id(&id, "support request")?;
        let who = ctx.principal();
        let r = requests::get(&st.db, &who, id).await?;
        let Audience::Coordinator { full } = r.audience else {
            // A supporter or the requester has their own page for it.
            return Err(CoreError::NotFound("support request").into());
        };
        let t = ctx.text;
        let active = requests::state::is_active(r.state);
        let suggestions = if full && active && r.supporter_person_id.is_none() {
            matchmaking::suggestions(&st.db, &who, id).await?
        } else {
            vec![]
        };
        let can_escalate = requests::state::can_transition(r.state, RequestState::Escalated);
        let programs = if can_escalate {
            programs::list(
                &st.db,
                &who,
                PageRequest {
                    first: Some(50),
                    ..PageRequest::default()
                },
                false,
            )
            .await?
            .items
            .into_iter()
            .filter(|p| p.tier == 3)
            .map(|p| (p.id, p.name))
            .collect()
        } else {
            vec![]
        };
        let mut details = vec![];
        if let Some(p) = r.requester_profession {
            details.push((t.t("console-profession"), t.label("profession", p.as_str())));
        }
        if let Some(p) = &r.preferences {
            details.push((
                t.t("console-modality"),
                t.label("modality", p.modality.as_str()),
            ));
        }
        if let Some(c) = r.event_category {
            details.push((t.t("console-event"), t.label("event-category", c.as_str())));
        }
        let now = requests::now();
        let (ack, contact) = Clock::both(t, &r, now);
        let body = RequestPage {
            id,
            title: t.label("urgency-level", r.urgency.as_str()),
            state: t.label("console-state", r.state.as_str()),
            received: t.when(r.created_at),
            ack,
            contact,
            full,
            details,
            supporter: r.supporter_name.clone(),
            acknowledged: r.acknowledged_at.is_some() || !active,
            can_assign: !suggestions.is_empty(),
            suggestions: suggestions
                .into_iter()
                .map(|s| SuggestionRow {
                    person: s.supporter_person_id,
                    name: s.display_name,
                    profession: t.label("profession", s.profession.as_str()),
                    reasons: s.reasons.iter().map(|r| reason_text(t, r)).collect(),
                })
                .collect(),
            can_escalate: can_escalate && !programs.is_empty(),
            programs,
            can_close: requests::state::can_transition(r.state, RequestState::Closed),
            notice: done.as_deref().and_then(|d| match d {
                "acknowledged" | "assigned" | "escalated" | "closed" => {
                    Some(t.t(&format!("console-done-{d}")))
                }
                _ => None,
            }),
            ctx,
        }
        .render();
        Ok::<_, PageError>(html(ctx, StatusCode::OK, body))
    })
    .await
}

/// A matching reason as a coordinator reads it, in their language; a reason the catalogue has
/// no words for yet is shown as core gave it, not dropped.
fn reason_text(t: crate::pages::Text, reason: &str) -> String {
    match crate::pages::view::reason_slug(reason) {
        Some("speaks") => t.t1(
            "console-reason-speaks",
            "language",
            reason.trim_start_matches("speaks ").to_owned(),
        ),
        Some(slug) => t.t(&format!("console-reason-{slug}")),
        None => reason.to_owned(),
    }
}

/// A coordinator's action on a request: acknowledge, assign, escalate or close. Each is the
/// core use case GraphQL calls; the page then shows the request again with what was done.
pub async fn act(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
    body: Bytes,
) -> HttpResponse {
    let (id, action) = path.into_inner();
    form_post(req, state, body, async move |ctx, st, form, _| {
        require_user(ctx)?;
        let id = crate::pages::path_id(&id, "support request")?;
        let who = ctx.principal();
        let chosen = |field: &str, missing: &str| {
            form.get(field)
                .and_then(|s| s.parse::<Uuid>().ok())
                .ok_or_else(|| CoreError::bad_input(field, missing))
        };
        let done = match action.as_str() {
            "acknowledge" => {
                requests::acknowledge(&st.db, &who, id).await?;
                "acknowledged"
            }
            "assign" => {
                let supporter = chosen("supporter", "choose a peer supporter")?;
                matchmaking::assign(&st.db, &who, id, supporter).await?;
                "assigned"
            }
            "escalate" => {
                let program = chosen("program", "choose a program")?;
                care::escalate(&st.db, &who, id, program, None).await?;
                "escalated"
            }
            "close" => {
                care::advance(&st.db, &who, id, RequestState::Closed).await?;
                "closed"
            }
            _ => return Err(CoreError::NotFound("page").into()),
        };
        Ok::<_, PageError>(see_other(&format!("/console/requests/{id}?done={done}")))
    })
    .await
}
