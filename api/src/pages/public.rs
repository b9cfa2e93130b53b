//! Pages for everyone, signed in or not: the start page with the institution's programs, and
//! what the program keeps and does not keep.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::page::PageRequest;
use alongside_core::programs::{self, Program};
use askama::Template;

use super::{Ctx, PageError, html, page};
use crate::node::AppState;

#[derive(Template)]
#[template(path = "home.html")]
struct Home<'a> {
    ctx: &'a Ctx,
    programs: Vec<Program>,
}

pub async fn home(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let st = state.clone();
    page(&req, &state, async move |ctx| {
        let list = programs::list(
            &st.db,
            &ctx.principal(),
            PageRequest {
                first: Some(50),
                ..PageRequest::default()
            },
            false,
        )
        .await?;
        let body = Home {
            ctx,
            programs: list.items,
        }
        .render();
        Ok::<_, PageError>(html(ctx, StatusCode::OK, body))
    })
    .await
}

#[derive(Template)]
#[template(path = "privacy.html")]
struct Privacy<'a> {
    ctx: &'a Ctx,
    retention: String,
    sessions: String,
    privileged: Vec<String>,
}

pub async fn privacy(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let st = state.clone();
    page(&req, &state, async move |ctx| {
        // Generated from the settings that enforce it, so the page cannot drift from them.
        let days = i64::from(st.config.maintenance.retention_days);
        let pages = &st.config.pages;
        let list = programs::list(
            &st.db,
            &ctx.principal(),
            PageRequest {
                first: Some(50),
                ..PageRequest::default()
            },
            false,
        )
        .await?;
        let privileged = list
            .items
            .into_iter()
            .filter(|p| p.privileged)
            .map(|p| p.name)
            .collect();
        let body = Privacy {
            ctx,
            retention: ctx.text.t1("privacy-deleted-body", "days", days),
            sessions: ctx.text.catalogue.text_with(
                ctx.text.locale,
                "privacy-sessions-body",
                &[
                    ("hours", i64::from(pages.session_hours).into()),
                    ("minutes", i64::from(pages.idle_minutes).into()),
                ],
            ),
            privileged,
        }
        .render();
        Ok::<_, PageError>(html(ctx, StatusCode::OK, body))
    })
    .await
}
