//! The anonymous survey a requester is emailed when their case closes: no sign-in, one answer
//! per link, and a clear page for a link already used or expired.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::surveys::{self, LinkStatus};
use askama::Template;
use serde::Deserialize;

use super::form::Form;
use super::view::{FieldError, is_on};
use super::{Ctx, PageError, Text, form_post, html, message, page};
use crate::node::AppState;

struct Question {
    id: String,
    text: String,
    options: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "survey.html")]
struct Survey<'a> {
    ctx: &'a Ctx,
    token: String,
    questions: Vec<Question>,
    form: Form,
    error: Option<FieldError>,
}

impl Survey<'_> {
    fn error_on(&self, field: &str) -> bool {
        is_on(&self.error, field)
    }
}

/// The institution's questions in the reader's language (core decides which words).
fn questions(t: Text, state: &AppState) -> Vec<Question> {
    surveys::in_language(state.config.surveys.questions(), state.catalogue, t.locale)
        .into_iter()
        .map(|q| Question {
            id: q.id,
            text: q.text,
            options: q.options,
        })
        .collect()
}

fn unusable(ctx: &Ctx, status: LinkStatus) -> HttpResponse {
    let (code, key) = match status {
        LinkStatus::AlreadyAnswered => (StatusCode::CONFLICT, "survey-answered"),
        _ => (StatusCode::GONE, "survey-expired"),
    };
    message(
        ctx,
        code,
        ctx.t(&format!("{key}-title")),
        ctx.t(&format!("{key}-body")),
    )
}

#[derive(Deserialize)]
pub struct SurveyQuery {
    token: Option<String>,
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<SurveyQuery>,
) -> HttpResponse {
    let st = state.clone();
    let token = query.into_inner().token.unwrap_or_default();
    page(&req, &state, async move |ctx| {
        let status = if token.is_empty() || token.len() > 128 {
            LinkStatus::Expired
        } else {
            surveys::link_status(&st.db, token.clone()).await?
        };
        if status != LinkStatus::Open {
            return Ok(unusable(ctx, status));
        }
        let body = Survey {
            ctx,
            token,
            questions: questions(ctx.text, &st),
            form: Form::default(),
            error: None,
        }
        .render();
        Ok::<_, PageError>(html(ctx, StatusCode::OK, body))
    })
    .await
}

pub async fn submit(req: HttpRequest, state: web::Data<AppState>, body: Bytes) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, form, _| {
        let token = form.value("token");
        let qs = st.config.surveys.questions();
        let answers: BTreeMap<String, String> = qs
            .iter()
            .filter_map(|q| form.get(&q.id).map(|v| (q.id.clone(), v.to_owned())))
            .collect();
        let again = |error: FieldError| {
            let body = Survey {
                ctx,
                token: token.clone(),
                questions: questions(ctx.text, &st),
                form: form.clone(),
                error: Some(error),
            }
            .render();
            html(ctx, StatusCode::BAD_REQUEST, body)
        };
        if answers.is_empty() {
            let first = qs.first().map(|q| q.id.clone()).unwrap_or_default();
            return Ok(again(FieldError::new(&first, ctx.t("survey-answer-one"))));
        }
        match surveys::submit(&st.db, qs, token.clone(), answers).await {
            Ok(()) => Ok(message(
                ctx,
                StatusCode::OK,
                ctx.t("survey-thanks-title"),
                ctx.t("survey-thanks-body"),
            )),
            Err(alongside_core::CoreError::BadInput { field, .. }) => Ok(again(FieldError::new(
                &field,
                ctx.t("survey-answer-choose"),
            ))),
            Err(alongside_core::CoreError::Unauthenticated(_)) => {
                let status = surveys::link_status(&st.db, token).await?;
                Ok(unusable(ctx, status))
            }
            Err(e) => Err(e.into()),
        }
    })
    .await
}
