//! A clinician's or staff member's pages: talk to someone, my requests, outreach received.

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::events::{self, Outreach};
use alongside_core::requests::outside;
use alongside_core::requests::{self, Preferences, RequestInput, RequestView, Scope};
use alongside_core::vocab::{
    CoordinatorAccess, FederationMode, Modality, OutreachState, PeerOrigin, Profession,
    RequestState, SpecialtyPreference, Urgency,
};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use super::form::Form;
use super::view::{FieldError, first_name, is_on};
use super::{Ctx, PageError, form_post, html, page, require_user, see_other};
use crate::node::AppState;

#[derive(Template)]
#[template(path = "talk.html")]
struct Talk<'a> {
    ctx: &'a Ctx,
    form: Form,
    error: Option<FieldError>,
    outreach: Option<Uuid>,
    urgencies: Vec<(&'static str, String, String)>,
    origins: Vec<(&'static str, String)>,
    professions: Vec<(&'static str, String)>,
    modalities: Vec<(&'static str, String)>,
}

impl Talk<'_> {
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

fn talk<'a>(
    ctx: &'a Ctx,
    form: Form,
    error: Option<FieldError>,
    outreach: Option<Uuid>,
) -> Talk<'a> {
    let t = ctx.text;
    Talk {
        urgencies: Urgency::ALL
            .iter()
            .map(|u| {
                let hint = if *u == Urgency::Crisis {
                    // Crisis shows the crisis resources at once, before anything is sent.
                    format!("{} {}", t.label("urgency-hint", u.as_str()), ctx.crisis)
                } else {
                    t.label("urgency-hint", u.as_str())
                };
                (u.as_str(), t.label("urgency", u.as_str()), hint)
            })
            .collect(),
        origins: PeerOrigin::ALL
            .iter()
            .map(|o| (o.as_str(), t.label("peer-origin", o.as_str())))
            .collect(),
        professions: Profession::ALL
            .iter()
            .map(|p| (p.as_str(), t.label("profession", p.as_str())))
            .collect(),
        modalities: Modality::ALL
            .iter()
            .map(|m| (m.as_str(), t.label("modality", m.as_str())))
            .collect(),
        ctx,
        form,
        error,
        outreach,
    }
}

#[derive(Deserialize)]
pub struct TalkQuery {
    outreach: Option<Uuid>,
}

pub async fn talk_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<TalkQuery>,
) -> HttpResponse {
    let outreach = query.into_inner().outreach;
    page(&req, &state, async move |ctx| {
        if let Some(o) = outreach {
            ctx.path = format!("/talk?outreach={o}");
        }

        require_user(ctx).map(|_| {
            let body = talk(ctx, Form::default(), None, outreach).render();
            html(ctx, StatusCode::OK, body)
        })
    })
    .await
}

/// The form's answers as core's input, or the field to fix.
fn input_of(ctx: &Ctx, form: &Form) -> Result<RequestInput, FieldError> {
    let t = ctx.text;
    let urgency = form
        .get("urgency")
        .and_then(|u| u.parse::<Urgency>().ok())
        .ok_or_else(|| FieldError::new("urgency", t.t("talk-urgency-missing")))?;
    let peer_origin = match form.get("peer_origin") {
        Some(o) => o.parse::<PeerOrigin>().map_err(|e| {
            FieldError::from_core(t, &e)
                .unwrap_or_else(|| FieldError::new("peer_origin", t.t("error-bad-input-body")))
        })?,
        None => PeerOrigin::AnyDepartment,
    };
    let peer_profession = match form.get("peer_profession") {
        Some(p) => Some(
            p.parse::<Profession>()
                .map_err(|_| FieldError::new("peer_profession", t.t("error-bad-input-body")))?,
        ),
        None => None,
    };
    let modality = match form.get("modality") {
        Some(m) => m
            .parse::<Modality>()
            .map_err(|_| FieldError::new("modality", t.t("error-bad-input-body")))?,
        None => Modality::Phone,
    };
    let outreach_id = match form.get("outreach") {
        Some(o) => Some(
            o.parse::<Uuid>()
                .map_err(|_| FieldError::new("urgency", t.t("error-bad-input-body")))?,
        ),
        None => None,
    };
    Ok(RequestInput {
        urgency,
        preferences: Preferences {
            peer_profession,
            specialty: SpecialtyPreference::Any,
            language: None,
            language_required: false,
            modality,
            peer_origin,
        },
        coordinator_access: if form.has("coordinator_access", "full") {
            CoordinatorAccess::Full
        } else {
            CoordinatorAccess::StatusOnly
        },
        preferred_name: form.get("preferred_name").map(str::to_owned),
        outreach_id,
    })
}

pub async fn talk_submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, form, _| {
        ctx.path = "/talk".into();

        async {
            require_user(ctx)?;
            let outreach = form.get("outreach").and_then(|o| o.parse::<Uuid>().ok());
            let again = |error: FieldError| {
                let body = talk(ctx, form.clone(), Some(error), outreach).render();
                html(ctx, StatusCode::BAD_REQUEST, body)
            };
            let input = match input_of(ctx, &form) {
                Ok(i) => i,
                Err(e) => return Ok(again(e)),
            };
            match requests::request_support(&st.db, &ctx.principal(), input).await {
                Ok(created) => Ok(see_other(&format!(
                    "/requests/{}?created=1",
                    created.request.id
                ))),
                Err(e) => match FieldError::from_core(ctx.text, &e) {
                    Some(field) => Ok(again(field)),
                    None => Err(PageError::from(e)),
                },
            }
        }
        .await
    })
    .await
}

/// One of my requests, as a line in a list.
struct Line {
    id: Uuid,
    when: String,
    state: String,
    supporter: Option<String>,
}

#[derive(Template)]
#[template(path = "requests.html")]
struct MyRequests<'a> {
    ctx: &'a Ctx,
    requests: Vec<Line>,
    /// Each open outreach and what it says (after an event, or from a worried colleague).
    outreach: Vec<(Uuid, String)>,
    /// Just said "don't contact me again about this event".
    stopped: bool,
}

#[derive(Deserialize)]
pub struct RequestsQuery {
    stopped: Option<String>,
}

fn supporter_line(ctx: &Ctx, r: &RequestView) -> Option<String> {
    r.supporter_name
        .as_deref()
        .filter(|_| requests::state::holds_supporter(r.state))
        .map(|n| ctx.text.t1("request-supporter", "name", first_name(n)))
}

pub async fn my_requests(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<RequestsQuery>,
) -> HttpResponse {
    let st = state.clone();
    let stopped = query.stopped.is_some();
    page(&req, &state, async move |ctx| {
        require_user(ctx)?;
        let who = ctx.principal();
        let mine = requests::list(&st.db, &who, Scope::Mine, None).await?;
        let outreach = events::my_outreach(&st.db, &who)
            .await?
            .into_iter()
            .filter(|o| {
                matches!(
                    o.state,
                    OutreachState::Pending | OutreachState::Reached | OutreachState::NoAnswer
                )
            })
            .map(|o: Outreach| {
                let body = match (o.from_colleague, o.referrer_name.as_deref()) {
                    (true, Some(name)) => {
                        ctx.text
                            .t1("outreach-from-named-colleague", "name", first_name(name))
                    }
                    (true, None) => ctx.text.t("outreach-from-colleague"),
                    (false, _) => ctx.text.t("outreach-body"),
                };
                (o.id, body)
            })
            .collect();
        let requests = mine
            .iter()
            .map(|r| Line {
                id: r.id,
                when: ctx
                    .text
                    .t1("requests-asked-on", "when", ctx.text.when(r.created_at)),
                state: ctx.text.label("state", r.state.as_str()),
                supporter: supporter_line(ctx, r),
            })
            .collect();
        let body = MyRequests {
            ctx,
            requests,
            outreach,
            stopped,
        }
        .render();
        Ok::<_, PageError>(html(ctx, StatusCode::OK, body))
    })
    .await
}

#[derive(Template)]
#[template(path = "request.html")]
struct RequestPage<'a> {
    ctx: &'a Ctx,
    id: Uuid,
    crisis: bool,
    created: bool,
    state: String,
    urgency: String,
    when: String,
    explain: String,
    supporter: Option<String>,
    /// How the peer will make contact (what the person asked for).
    how: Option<String>,
    can_withdraw: bool,
    /// This node is in a federation and the request still looks for a peer.
    can_look_outside: bool,
    /// Supported by a peer at another hospital: the person closes it here when it is over.
    can_close: bool,
    /// Introductions to peers at other hospitals, newest first, as lines.
    introductions: Vec<String>,
    introduced: bool,
}

#[derive(Deserialize)]
pub struct RequestQuery {
    created: Option<String>,
    introduced: Option<String>,
}

pub async fn request_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<RequestQuery>,
) -> HttpResponse {
    let st = state.clone();
    let created = query.created.is_some();
    let introduced = query.introduced.is_some();
    page(&req, &state, async move |ctx| {
        require_user(ctx)?;
        let id = super::path_id(&id, "support request")?;
        let r = requests::get(&st.db, &ctx.principal(), id).await?;
        if r.audience != requests::Audience::Requester {
            // Supporters and coordinators have their own pages for a request.
            return Ok(see_other("/support"));
        }
        let open = requests::state::is_active(r.state);
        let member = st.federation.mode().await? == Some(FederationMode::Member);
        let intros = outside::for_request(&st.db, &ctx.principal(), id).await?;
        let names = if intros.is_empty() {
            Default::default()
        } else {
            st.federation.member_names().await.unwrap_or_default()
        };
        let introductions = intros
            .iter()
            .map(|i| {
                ctx.text.catalogue.text_with(
                    ctx.text.locale,
                    "outside-intro-line",
                    &[
                        (
                            "institution",
                            names
                                .get(&i.peer_node)
                                .cloned()
                                .unwrap_or_else(|| i.peer_node.clone())
                                .into(),
                        ),
                        (
                            "state",
                            ctx.text
                                .label("introduction-state", i.state.as_str())
                                .into(),
                        ),
                    ],
                )
            })
            .collect();
        let body = RequestPage {
            ctx,
            id: r.id,
            // Until a peer has taken it, a crisis request shows the crisis resources first.
            crisis: r.urgency == Urgency::Crisis
                && matches!(
                    r.state,
                    RequestState::Open | RequestState::Offered | RequestState::AwaitingFederation
                ),
            created,
            state: ctx.text.label("state", r.state.as_str()),
            urgency: ctx.text.label("urgency", r.urgency.as_str()),
            when: ctx.text.when(r.created_at),
            explain: ctx.text.label("state-explain", r.state.as_str()),
            supporter: supporter_line(ctx, &r),
            how: r
                .preferences
                .as_ref()
                .map(|p| ctx.text.label("modality", p.modality.as_str())),
            can_withdraw: open && requests::state::can_transition(r.state, RequestState::Withdrawn),
            can_look_outside: member
                && matches!(
                    r.state,
                    RequestState::Open | RequestState::AwaitingFederation
                ),
            can_close: r.state == RequestState::SupportedOutside,
            introductions,
            introduced,
        }
        .render();
        Ok::<_, PageError>(html(ctx, StatusCode::OK, body))
    })
    .await
}

pub async fn withdraw(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: Bytes,
) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, _, _| {
        require_user(ctx)?;
        let id = super::path_id(&id, "support request")?;
        requests::withdraw(&st.db, &ctx.principal(), id).await?;
        Ok::<_, PageError>(see_other(&format!("/requests/{id}")))
    })
    .await
}

/// Closes a request supported by a peer at another hospital (core decides who may).
pub async fn close(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: Bytes,
) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, _, _| {
        require_user(ctx)?;
        let id = super::path_id(&id, "support request")?;
        requests::care::advance(&st.db, &ctx.principal(), id, RequestState::Closed).await?;
        Ok::<_, PageError>(see_other(&format!("/requests/{id}")))
    })
    .await
}

/// "Don't contact me again about this event": one tap, honoured for that event's milestones too.
pub async fn stop_outreach(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: Bytes,
) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, _, _| {
        require_user(ctx)?;
        let id = super::path_id(&id, "outreach")?;
        events::recontact::stop(&st.db, &ctx.principal(), id).await?;
        Ok::<_, PageError>(see_other("/requests?stopped=1"))
    })
    .await
}

pub async fn decline_outreach(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: Bytes,
) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, _, _| {
        require_user(ctx)?;
        let id = super::path_id(&id, "outreach")?;
        events::decline_outreach(&st.db, &ctx.principal(), id).await?;
        Ok::<_, PageError>(see_other("/requests"))
    })
    .await
}
