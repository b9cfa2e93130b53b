//! Persona sign-in for `alongside demo` only: a link per persona that starts a browser session
//! as them, so a newcomer can walk every journey. A node not started by the demo has no
//! personas and refuses every such link.

use std::sync::RwLock;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::access::UserPrincipal;
use alongside_core::{secrets, sessions};

use super::{message, page, see_other, session};
use crate::node::AppState;

#[derive(Debug, Default)]
pub struct Personas {
    by_key: RwLock<Vec<(String, UserPrincipal)>>,
}

impl Personas {
    /// Adds a persona and returns the path that signs in as them (an unguessable key).
    pub fn add(&self, who: UserPrincipal) -> Result<String, alongside_core::CoreError> {
        let key = secrets::random_token()?;
        if let Ok(mut list) = self.by_key.write() {
            list.push((key.clone(), who));
        }
        Ok(format!("/demo/as/{key}"))
    }

    fn find(&self, key: &str) -> Option<UserPrincipal> {
        let list = self.by_key.read().ok()?;
        list.iter()
            .find(|(k, _)| secrets::constant_time_eq(k, key))
            .map(|(_, who)| who.clone())
    }
}

pub async fn sign_in_as(
    req: HttpRequest,
    state: web::Data<AppState>,
    key: web::Path<String>,
) -> HttpResponse {
    let st = state.clone();
    page(&req, &state, async move |ctx| {
        let who = st.personas.as_ref().and_then(|p| p.find(&key));
        let Some(who) = who else {
            let res = message(
                ctx,
                StatusCode::NOT_FOUND,
                ctx.t("demo-refused-title"),
                ctx.t("demo-refused-body"),
            );
            return Ok(res);
        };

        sessions::start_for(&st.db, st.config.pages.policy(), &who)
            .await
            .map(|started| {
                let mut res = see_other("/");
                if let Err(e) = res.add_cookie(&session::session_cookie(
                    &st,
                    &started.token,
                    started.max_age_secs,
                )) {
                    tracing::error!(error = %e, "session cookie not set");
                }
                res
            })
            .map_err(super::PageError::from)
    })
    .await
}
