//! Signing in and out: password, the emailed single-use link, and signing out of this browser
//! or of every browser. The checks (lockout, link expiry) are core's.

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::CoreError;
use alongside_core::access::Principal;
use alongside_core::accounts;
use alongside_core::sessions::{self, Credentials};
use askama::Template;
use serde::Deserialize;

use super::view::{FieldError, is_on};
use super::{Ctx, PageError, form_post, html, message, page, require_user, see_other, session};
use crate::node::AppState;

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignIn<'a> {
    ctx: &'a Ctx,
    next: String,
    email: String,
    expired: bool,
    error: Option<FieldError>,
    links_enabled: bool,
    link_token: Option<String>,
    /// Single sign-on is offered (the institution's identity provider).
    sso: bool,
}

impl SignIn<'_> {
    fn error_on(&self, field: &str) -> bool {
        is_on(&self.error, field)
    }

    fn next_encoded(&self) -> String {
        super::form::encode(&self.next)
    }

    fn error_text(&self) -> &str {
        self.error
            .as_ref()
            .map(|e| e.message.as_str())
            .unwrap_or_default()
    }
}

#[derive(Deserialize)]
pub struct SignInQuery {
    next: Option<String>,
    token: Option<String>,
    expired: Option<String>,
}

pub async fn form_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<SignInQuery>,
) -> HttpResponse {
    let st = state.clone();
    let q = query.into_inner();
    page(&req, &state, async move |ctx| {
        let next = session::safe_next(q.next.as_deref());
        // Already signed in and no link to use: straight on.
        if ctx.signed_in() && q.token.is_none() {
            return Ok(see_other(&next));
        }
        let body = SignIn {
            ctx,
            next,
            email: String::new(),
            expired: q.expired.is_some() || ctx.expired,
            error: None,
            links_enabled: st.config.auth.sign_in_links,
            // A link is used by a button, not by opening it: mail scanners open links.
            link_token: q.token.filter(|t| !t.is_empty() && t.len() <= 128),
            sso: st.sso.is_some(),
        }
        .render();
        let res = html(ctx, StatusCode::OK, body);
        Ok(res)
    })
    .await
}

fn started(state: &AppState, started: sessions::Started, next: &str) -> HttpResponse {
    let mut res = see_other(next);
    if let Err(e) = res.add_cookie(&session::session_cookie(
        state,
        &started.token,
        started.max_age_secs,
    )) {
        tracing::error!(error = %e, "session cookie not set");
    }
    res
}

pub async fn with_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, form, _| {
        let next = session::safe_next(form.get("next"));
        let email = form.value("email");
        let refuse = |field: &str, key: &str| {
            let body = SignIn {
                ctx,
                next: next.clone(),
                email: email.clone(),
                expired: false,
                error: Some(FieldError::new(field, ctx.t(key))),
                links_enabled: st.config.auth.sign_in_links,
                link_token: None,
                sso: st.sso.is_some(),
            }
            .render();
            html(ctx, StatusCode::BAD_REQUEST, body)
        };
        let Some(password) = form.get("password") else {
            return Ok(if email.is_empty() {
                refuse("email", "sign-in-email-missing")
            } else {
                refuse("password", "sign-in-password-missing")
            });
        };
        if email.is_empty() {
            return Ok(refuse("email", "sign-in-email-missing"));
        }
        let credentials = Credentials::Password {
            email: email.clone(),
            password: password.to_owned(),
        };
        match sessions::start(&st.db, st.config.pages.policy(), credentials).await {
            Ok(s) => Ok(started(&st, s, &next)),
            Err(CoreError::Unauthenticated(_)) => {
                let mut res = refuse("password", "sign-in-wrong");
                *res.status_mut() = StatusCode::UNAUTHORIZED;
                Ok(res)
            }
            Err(CoreError::RateLimited { .. }) => {
                let mut res = refuse("password", "sign-in-locked");
                *res.status_mut() = StatusCode::TOO_MANY_REQUESTS;
                Ok(res)
            }
            Err(e) => Err(e.into()),
        }
    })
    .await
}

pub async fn request_link(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, form, _| {
        // The same answer whether or not the address has an account.
        accounts::request_sign_in_link(&st.db, st.config.auth.sign_in_links, form.value("email"))
            .await?;
        Ok(message(
            ctx,
            StatusCode::OK,
            ctx.t("sign-in-link-sent-title"),
            ctx.t("sign-in-link-sent-body"),
        ))
    })
    .await
}

pub async fn with_link(req: HttpRequest, state: web::Data<AppState>, body: Bytes) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, form, _| {
        let next = session::safe_next(form.get("next"));
        let credentials = Credentials::Link {
            token: form.value("token"),
            enabled: st.config.auth.sign_in_links,
        };
        match sessions::start(&st.db, st.config.pages.policy(), credentials).await {
            Ok(s) => Ok(started(&st, s, &next)),
            Err(CoreError::Unauthenticated(_)) => Ok(message(
                ctx,
                StatusCode::UNAUTHORIZED,
                ctx.t("sign-in-link-bad-title"),
                ctx.t("sign-in-link-bad-body"),
            )),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

fn signed_out(state: &AppState) -> HttpResponse {
    let mut res = see_other("/sign-in?signed_out=1");
    if let Err(e) = res.add_cookie(&session::removal_cookie(state)) {
        tracing::error!(error = %e, "session cookie not removed");
    }
    res
}

pub async fn sign_out(req: HttpRequest, state: web::Data<AppState>, body: Bytes) -> HttpResponse {
    form_post(req, state, body, async move |_, st, _, rq| {
        if let Some(token) = session::token_of(&rq, &st) {
            sessions::end(&st.db, &token).await?;
        }
        Ok(signed_out(&st))
    })
    .await
}

pub async fn sign_out_everywhere(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: Bytes,
) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, _, _| {
        let user = require_user(ctx)?;
        sessions::end_everywhere(&st.db, &Principal::User(user)).await?;
        Ok::<_, PageError>(signed_out(&st))
    })
    .await
}
