//! Notification health for admins: the outbox by state, messages that gave up with a way to
//! re-queue each, and every webhook endpoint with its last delivery.

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::notify::{health, outbox};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use crate::node::AppState;
use crate::pages::{Ctx, PageError, form_post, html, page, require_user, see_other};

struct Dead {
    id: Uuid,
    what: String,
    tried: String,
    error: String,
}

struct Hook {
    url: String,
    state: String,
    last: String,
    failing: bool,
}

#[derive(Template)]
#[template(path = "console_notifications.html")]
struct NotificationsPage<'a> {
    ctx: &'a Ctx,
    by_state: Vec<(String, i64)>,
    dead: Vec<Dead>,
    hooks: Vec<Hook>,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<Done>,
) -> HttpResponse {
    let st = state.clone();
    let done = query.into_inner().done;
    page(&req, &state, async move |ctx| {
        require_user(ctx)?;
        let h = health::health(&st.db, &ctx.principal()).await?;
        let t = ctx.text;
        let body = NotificationsPage {
            by_state: h
                .by_state
                .iter()
                .map(|(s, n)| (t.label("console-outbox", s), *n))
                .collect(),
            dead: h
                .dead
                .iter()
                .map(|d| Dead {
                    id: d.id,
                    what: format!("{} · {}", d.channel, d.topic),
                    tried: t.catalogue.text_with(
                        t.locale,
                        "console-dead-tried",
                        &[
                            ("n", i64::from(d.attempts).into()),
                            ("when", t.when(d.created_at).into()),
                        ],
                    ),
                    error: d.last_error.clone().unwrap_or_default(),
                })
                .collect(),
            hooks: h
                .endpoints
                .iter()
                .map(|(e, last)| Hook {
                    url: e.url.clone(),
                    state: if e.active {
                        t.t("console-hook-active")
                    } else {
                        t.t1(
                            "console-hook-disabled",
                            "why",
                            e.disabled_reason.clone().unwrap_or_default(),
                        )
                    },
                    last: match last {
                        None => t.t("console-hook-never"),
                        Some(a) => t.catalogue.text_with(
                            t.locale,
                            "console-hook-last",
                            &[
                                ("when", t.when(a.at).into()),
                                (
                                    "result",
                                    a.status_code
                                        .map(|c| c.to_string())
                                        .or_else(|| a.error.clone())
                                        .unwrap_or_default()
                                        .into(),
                                ),
                            ],
                        ),
                    },
                    failing: !e.active
                        || last.as_ref().is_some_and(|a| {
                            !a.status_code.is_some_and(|c| (200..300).contains(&c))
                        }),
                })
                .collect(),
            notice: done
                .as_deref()
                .filter(|d| *d == "requeued")
                .map(|_| t.t("console-done-requeued")),
            ctx,
        }
        .render();
        Ok::<_, PageError>(html(ctx, StatusCode::OK, body))
    })
    .await
}

pub async fn requeue(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: Bytes,
) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, _, _| {
        require_user(ctx)?;
        let id = crate::pages::path_id(&id, "outbox message")?;
        outbox::requeue(&st.db, &ctx.principal(), id).await?;
        Ok::<_, PageError>(see_other("/console/notifications?done=requeued"))
    })
    .await
}
