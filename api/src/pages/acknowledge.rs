//! One tap from an alert's message: the page a text or email links to, and the button that
//! acknowledges the alert so no one else is paged. A page first, then a post, so a mail
//! scanner that opens links cannot acknowledge for the person. No sign-in: the code is the key.

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::oncall::{self, Acknowledged};
use askama::Template;
use serde::Deserialize;

use super::{Ctx, PageError, form_post, html, message, page};
use crate::node::AppState;

#[derive(Template)]
#[template(path = "acknowledge.html")]
struct Acknowledge<'a> {
    ctx: &'a Ctx,
    code: String,
}

#[derive(Deserialize)]
pub struct AckQuery {
    code: Option<String>,
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<AckQuery>,
) -> HttpResponse {
    let code = query.into_inner().code.unwrap_or_default();
    page(&req, &state, async move |ctx| {
        if code.is_empty() || code.len() > 64 {
            Err(PageError::Core(alongside_core::CoreError::NotFound(
                "alert",
            )))
        } else {
            let body = Acknowledge { ctx, code }.render();
            Ok(html(ctx, StatusCode::OK, body))
        }
    })
    .await
}

pub async fn submit(req: HttpRequest, state: web::Data<AppState>, body: Bytes) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, form, _| {
        let done = oncall::acknowledge(&st.db, &form.value("code")).await?;
        let key = match done {
            Acknowledged::Now => "ack-done",
            Acknowledged::Already => "ack-already",
        };
        Ok::<_, PageError>(message(
            ctx,
            StatusCode::OK,
            ctx.t(&format!("{key}-title")),
            ctx.t(&format!("{key}-body")),
        ))
    })
    .await
}
