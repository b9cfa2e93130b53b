//! A clinician's way to a peer at another hospital: the anonymous candidates with their reasons,
//! then what will be shared — shown word for word before anything is sent — then the
//! introduction. Every step goes through the federation's door and core's rules.

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::CoreError;
use alongside_core::i18n::Arg;
use alongside_core::requests::outside::{self, IntroductionShare};
use alongside_federation::FedError;
use askama::Template;
use uuid::Uuid;

use super::form::Form;
use super::view::{FieldError, is_on};
use super::{Ctx, PageError, form_post, html, require_user, see_other};

fn fed(e: FedError) -> PageError {
    e.into()
}

/// The catalogue key for a reason a member gave, when it is one the pages know.
/// The requester's wording of a reason; languages are shown beside each candidate already.
fn reason_key(reason: &str) -> Option<String> {
    super::view::reason_slug(reason)
        .filter(|slug| *slug != "speaks")
        .map(|slug| format!("outside-reason-{slug}"))
}

struct Candidate {
    node: String,
    handle: String,
    title: String,
    experience: String,
    languages: String,
    reasons: Vec<String>,
}

#[derive(Template)]
#[template(path = "outside.html")]
struct Candidates<'a> {
    ctx: &'a Ctx,
    id: Uuid,
    answered: String,
    candidates: Vec<Candidate>,
}

/// Asks the other members for candidates (a post: it makes single-use handles) and lists them.
pub async fn search(
    req: HttpRequest,
    state: web::Data<crate::node::AppState>,
    id: web::Path<String>,
    body: Bytes,
) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, _, _| {
        ctx.path = format!("/requests/{id}");

        async {
            require_user(ctx)?;
            let id = super::path_id(&id, "support request")?;
            let found = st
                .federation
                .find_outside_peers(&ctx.principal(), id, None, None)
                .await
                .map_err(fed)?;
            let t = ctx.text;
            let answered = t.catalogue.text_with(
                t.locale,
                "outside-members",
                &[
                    ("answered", Arg::from(found.answered() as i64)),
                    ("asked", Arg::from(found.asked() as i64)),
                ],
            );
            let candidates = found
                .candidates
                .into_iter()
                .map(|c| Candidate {
                    title: t.catalogue.text_with(
                        t.locale,
                        "outside-candidate-title",
                        &[
                            (
                                "profession",
                                t.label("profession", c.candidate.profession.as_str())
                                    .into(),
                            ),
                            ("institution", c.node_name.clone().into()),
                        ],
                    ),
                    experience: t.label("experience", c.candidate.experience.as_str()),
                    languages: c.candidate.languages.join(", "),
                    reasons: c
                        .candidate
                        .reasons
                        .iter()
                        .filter_map(|r| reason_key(r))
                        .map(|k| t.t(&k))
                        .collect(),
                    node: c.node_id,
                    handle: c.candidate.handle,
                })
                .collect();
            let body = Candidates {
                ctx,
                id,
                answered,
                candidates,
            }
            .render();
            Ok::<_, PageError>(html(ctx, StatusCode::OK, body))
        }
        .await
    })
    .await
}

#[derive(Template)]
#[template(path = "outside_share.html")]
struct Share<'a> {
    ctx: &'a Ctx,
    id: Uuid,
    form: Form,
    error: Option<FieldError>,
    /// Showing what will be sent, for consent; otherwise the form to type it.
    checking: bool,
    share_lead: String,
    consent_lead: String,
}

impl Share<'_> {
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

fn share_of(form: &Form) -> IntroductionShare {
    IntroductionShare {
        first_name: form.get("first_name").map(str::to_owned),
        contact: form.value("contact"),
    }
}

/// The three steps after choosing a candidate, by `step`: `share` (type what to share),
/// `check` (see it word for word), `send` (the introduction leaves through the outbox).
pub async fn introduce(
    req: HttpRequest,
    state: web::Data<crate::node::AppState>,
    id: web::Path<String>,
    body: Bytes,
) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, form, _| {
        ctx.path = format!("/requests/{id}");

        async {
            require_user(ctx)?;
            let id = super::path_id(&id, "support request")?;
            let node = form.value("node");
            let institution = st
                .federation
                .member_names()
                .await
                .map_err(fed)?
                .remove(&node)
                .ok_or_else(|| {
                    CoreError::bad_input("nodeId", "that hospital is not in the network now")
                })?;
            let t = ctx.text;
            let page = |form: Form, error: Option<FieldError>, checking: bool, status| {
                let body = Share {
                    ctx,
                    id,
                    form,
                    error,
                    checking,
                    share_lead: t.t1("outside-share-lead", "institution", institution.clone()),
                    consent_lead: t.catalogue.text_with(
                        t.locale,
                        "outside-consent-lead",
                        &[
                            ("institution", institution.clone().into()),
                            ("home", ctx.institution.clone().into()),
                        ],
                    ),
                }
                .render();
                html(ctx, status, body)
            };
            let field_error = |e: &CoreError| FieldError::from_core(t, e);
            match form.get("step") {
                Some("check") => match outside::check_share(share_of(&form)) {
                    Ok(_) => Ok(page(form.clone(), None, true, StatusCode::OK)),
                    Err(e) => match field_error(&e) {
                        Some(f) => Ok(page(form.clone(), Some(f), false, StatusCode::BAD_REQUEST)),
                        None => Err(e.into()),
                    },
                },
                Some("send") => {
                    match st
                        .federation
                        .introduce(
                            &ctx.principal(),
                            id,
                            node.clone(),
                            form.value("handle"),
                            share_of(&form),
                        )
                        .await
                    {
                        Ok(_) => Ok(see_other(&format!("/requests/{id}?introduced=1"))),
                        Err(FedError::Core(e)) => match field_error(&e) {
                            Some(f) if f.field != "nodeId" && f.field != "handle" => {
                                Ok(page(form.clone(), Some(f), false, StatusCode::BAD_REQUEST))
                            }
                            _ => Err(e.into()),
                        },
                        Err(e) => Err(fed(e)),
                    }
                }
                _ => Ok(page(form.clone(), None, false, StatusCode::OK)),
            }
        }
        .await
    })
    .await
}

/// A peer supporter accepts or declines an introduction from another hospital.
pub async fn answer_introduction(
    req: HttpRequest,
    state: web::Data<crate::node::AppState>,
    id: web::Path<String>,
    body: Bytes,
) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, form, _| {
        require_user(ctx)?;
        let id = super::path_id(&id, "introduction")?;
        let accept = form.accepts()?;
        outside::respond(&st.db, &ctx.principal(), id, accept).await?;
        Ok::<_, PageError>(see_other(if accept {
            "/support?answered=introduction-accept"
        } else {
            "/support?answered=decline"
        }))
    })
    .await
}
