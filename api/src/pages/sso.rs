//! Signing in through the institution's identity provider from the pages: out with a state, a
//! nonce and a PKCE challenge, back with a code that only this node can exchange.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::access::Principal;
use alongside_core::sessions::{self, SsoAttempt};
use alongside_core::{accounts, secrets};
use serde::Deserialize;

use super::{Ctx, PageError, message, page, see_other, session};
use crate::node::AppState;
use crate::sso::SsoError;

/// Carries the state to the provider and back, so a returning browser proves it is the one that
/// left (a forged return with someone else's code is refused).
const STATE_COOKIE: &str = "alongside-sso";

fn state_cookie(state: &AppState, value: &str, max_age: i64) -> Cookie<'static> {
    Cookie::build(STATE_COOKIE, value.to_owned())
        .path("/sign-in/sso")
        .http_only(true)
        .secure(session::secure(state))
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::seconds(max_age))
        .finish()
}

fn trouble(ctx: &Ctx, e: &SsoError) -> HttpResponse {
    tracing::warn!(error = %e, "single sign-on failed");
    match e {
        SsoError::Unavailable(_) => message(
            ctx,
            StatusCode::SERVICE_UNAVAILABLE,
            ctx.t("sso-unavailable-title"),
            ctx.t("sso-unavailable-body"),
        ),
        SsoError::Refused(_) => refused(ctx),
    }
}

fn refused(ctx: &Ctx) -> HttpResponse {
    message(
        ctx,
        StatusCode::UNAUTHORIZED,
        ctx.t("sso-refused-title"),
        ctx.t("sso-refused-body"),
    )
}

#[derive(Deserialize)]
pub struct StartQuery {
    next: Option<String>,
}

pub async fn start(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<StartQuery>,
) -> HttpResponse {
    let st = state.clone();
    let next = session::safe_next(query.into_inner().next.as_deref());
    page(&req, &state, async move |ctx| {
        let Some(sso) = st.sso.clone() else {
            let res = message(
                ctx,
                StatusCode::NOT_FOUND,
                ctx.t("sso-off-title"),
                ctx.t("sso-off-body"),
            );
            return Ok(res);
        };
        let started = match sso.start().await {
            Ok(s) => s,
            Err(e) => {
                let res = trouble(ctx, &e);
                return Ok(res);
            }
        };
        let attempt = SsoAttempt {
            nonce: started.nonce,
            pkce_verifier: started.pkce_verifier,
            next,
        };

        sessions::begin_sso(&st.db, &started.state, attempt)
            .await
            .map(|()| {
                let mut res = see_other(&started.url);
                if let Err(e) = res.add_cookie(&state_cookie(&st, &started.state, 600)) {
                    tracing::error!(error = %e, "sign-on cookie not set");
                }
                res
            })
            .map_err(PageError::from)
    })
    .await
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

pub async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<CallbackQuery>,
) -> HttpResponse {
    let st = state.clone();
    let q = query.into_inner();
    let cookie = req.cookie(STATE_COOKIE).map(|c| c.value().to_owned());
    page(&req, &state, async move |ctx| {
        let (Some(sso), Some(verifier)) = (st.sso.clone(), st.oidc.clone()) else {
            return Ok(message(
                ctx,
                StatusCode::NOT_FOUND,
                ctx.t("sso-off-title"),
                ctx.t("sso-off-body"),
            ));
        };
        if let Some(e) = q.error.as_deref() {
            tracing::info!(
                error = e,
                "the identity provider did not sign the person in"
            );
            return Ok(refused(ctx));
        }
        let (Some(code), Some(returned)) = (q.code, q.state) else {
            return Ok(refused(ctx));
        };
        // The browser that comes back must be the one that left.
        if !cookie.is_some_and(|c| secrets::constant_time_eq(&c, &returned)) {
            return Err(PageError::Forged);
        }
        let Some(attempt) = sessions::finish_sso(&st.db, &returned).await? else {
            return Ok(message(
                ctx,
                StatusCode::GONE,
                ctx.t("sso-expired-title"),
                ctx.t("sso-expired-body"),
            ));
        };
        let id_token = match sso.exchange(code, attempt.pkce_verifier).await {
            Ok(t) => t,
            Err(e) => return Ok(trouble(ctx, &e)),
        };
        let identity = match verifier.verify_id_token(&id_token, sso.client_id()).await {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(code = e.code().as_str(), "ID token refused");
                return Ok(refused(ctx));
            }
        };
        if !identity
            .nonce
            .as_deref()
            .is_some_and(|n| secrets::constant_time_eq(n, &attempt.nonce))
        {
            tracing::warn!("ID token refused: its nonce is not this sign-on's");
            return Ok(refused(ctx));
        }
        let Principal::User(user) = accounts::principal_for_external(&st.db, identity).await?
        else {
            return Ok(refused(ctx));
        };
        let started = sessions::start_for(&st.db, st.config.pages.policy(), &user).await?;
        let mut res = see_other(&attempt.next);
        let cookies = [
            session::session_cookie(&st, &started.token, started.max_age_secs),
            {
                let mut c = state_cookie(&st, "", 0);
                c.make_removal();
                c
            },
        ];
        for c in cookies {
            if let Err(e) = res.add_cookie(&c) {
                tracing::error!(error = %e, "cookie not set");
            }
        }
        Ok(res)
    })
    .await
}
