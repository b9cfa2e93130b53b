//! The page a tier-3 program's intake opens from a hand-off's email or text: what the person
//! agreed to share, and the button that acknowledges it. A page first, then a post, so a mail
//! scanner that opens links cannot acknowledge. No sign-in: the code is the key.

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::requests::handoff::{self, HandoffView};
use askama::Template;
use serde::Deserialize;

use super::{Ctx, PageError, form_post, html, message, page};
use crate::node::AppState;

#[derive(Template)]
#[template(path = "handoff.html")]
struct HandoffPage<'a> {
    ctx: &'a Ctx,
    code: String,
    program: String,
    sent: String,
    shared: Option<(String, String)>,
    acknowledged: Option<String>,
}

#[derive(Deserialize)]
pub struct HandoffQuery {
    code: Option<String>,
}

fn render(ctx: &Ctx, code: String, v: HandoffView) -> HttpResponse {
    let body = HandoffPage {
        ctx,
        code,
        program: v.program,
        sent: ctx.text.when(v.created_at),
        shared: v.shared.map(|s| (s.first_name, s.contact)),
        acknowledged: v.acknowledged_at.map(|a| ctx.text.when(a)),
    }
    .render();
    html(ctx, StatusCode::OK, body)
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<HandoffQuery>,
) -> HttpResponse {
    let code = query.into_inner().code.unwrap_or_default();
    let st = state.clone();
    page(&req, &state, async move |ctx| {
        let v = handoff::view(&st.db, code.clone()).await?;
        Ok::<_, PageError>(render(ctx, code, v))
    })
    .await
}

pub async fn submit(req: HttpRequest, state: web::Data<AppState>, body: Bytes) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, form, _| {
        let now = handoff::acknowledge(&st.db, form.value("code")).await?;
        let key = if now {
            "handoff-done"
        } else {
            "handoff-already"
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
