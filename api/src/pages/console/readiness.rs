//! The readiness self-assessment: the questions domain by domain, the latest scores with their
//! next steps, and the history as a chart, so a program sees how far it has come. Questions,
//! domains and next steps are read in the reader's language (`readiness.ftl`); core scores.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::CoreError;
use alongside_core::access::Operation;
use alongside_core::metrics::suppression::Cell;
use alongside_core::readiness::{self, MAX_ANSWER, slug};
use askama::Template;
use serde::Deserialize;

use super::chart::{self, Bar};
use crate::node::AppState;
use crate::pages::form::Form;
use crate::pages::view::FieldError;
use crate::pages::{Ctx, PageError, form_post, html, page, require_user, see_other};

struct Question {
    /// The form field: the question's id with `.` as `-`, so it is also a plain HTML id.
    field: String,
    text: String,
}

struct DomainForm {
    title: String,
    questions: Vec<Question>,
}

struct Score {
    title: String,
    score: String,
    next_step: Option<String>,
}

#[derive(Template)]
#[template(path = "console_readiness.html")]
struct ReadinessPage<'a> {
    ctx: &'a Ctx,
    may_answer: bool,
    domains: Vec<DomainForm>,
    answers: Vec<(String, String)>,
    latest: Option<(String, String, Vec<Score>)>,
    history: Option<String>,
    form: Form,
    error: Option<FieldError>,
    notice: Option<String>,
}

super::field_errors!(ReadinessPage);

async fn render(
    ctx: &Ctx,
    st: &AppState,
    status: StatusCode,
    form: Form,
    error: Option<FieldError>,
    notice: Option<String>,
) -> Result<HttpResponse, PageError> {
    let t = ctx.text;
    let history = readiness::history(&st.db, &ctx.principal(), st.catalogue, t.locale).await?;
    let latest = history.first().map(|a| {
        (
            t.when(a.submitted_at),
            a.overall.to_string(),
            a.domains
                .iter()
                .map(|d| Score {
                    title: d.title.clone(),
                    score: t.t1("console-readiness-score", "n", i64::from(d.score)),
                    next_step: d.next_step.clone(),
                })
                .collect(),
        )
    });
    let chart = (!history.is_empty()).then(|| {
        let bars: Vec<Bar> = history
            .iter()
            .rev()
            .map(|a| Bar {
                label: a.submitted_at.date().to_string(),
                cell: Cell::Count(u64::from(a.overall)),
            })
            .collect();
        chart::bars("readiness-history-heading", &bars, t, 0)
    });
    let body = ReadinessPage {
        may_answer: ctx.may(Operation::ManageResources),
        domains: readiness::domains_in(st.catalogue, t.locale)
            .into_iter()
            .map(|d| DomainForm {
                title: d.title,
                questions: d
                    .questions
                    .into_iter()
                    .map(|(q, text)| Question {
                        field: slug(q),
                        text,
                    })
                    .collect(),
            })
            .collect(),
        answers: (0..=MAX_ANSWER)
            .map(|v| (v.to_string(), t.t(&format!("readiness-answer-{v}"))))
            .collect(),
        latest,
        history: chart,
        form,
        error,
        notice,
        ctx,
    }
    .render();
    Ok(html(ctx, status, body))
}

#[derive(Deserialize)]
pub struct ReadinessQuery {
    done: Option<String>,
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<ReadinessQuery>,
) -> HttpResponse {
    let st = state.clone();
    let done = query.into_inner().done;
    page(&req, &state, async move |ctx| {
        require_user(ctx)?;
        let notice = super::saved_notice(ctx, done.as_deref(), "console-readiness-saved");
        render(ctx, &st, StatusCode::OK, Form::default(), None, notice).await
    })
    .await
}

/// The answers as core takes them; a question left out is core's to refuse.
fn answers_of(form: &Form) -> Result<BTreeMap<String, u8>, CoreError> {
    let mut out = BTreeMap::new();
    for d in readiness::domains() {
        for q in d.questions {
            if let Some(v) = form.get(&slug(q)) {
                let v = v
                    .parse::<u8>()
                    .map_err(|_| CoreError::bad_input(*q, "choose an answer"))?;
                out.insert((*q).to_owned(), v);
            }
        }
    }
    Ok(out)
}

pub async fn submit(req: HttpRequest, state: web::Data<AppState>, body: Bytes) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, form, _| {
        require_user(ctx)?;
        let outcome = match answers_of(&form) {
            Ok(a) => readiness::submit(
                &st.db,
                &ctx.principal(),
                a,
                form.has("share", "yes"),
                st.catalogue,
                ctx.text.locale,
            )
            .await
            .map(|_| ()),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(()) => Ok(see_other("/console/readiness?done=saved")),
            Err(CoreError::BadInput { field, .. }) => {
                // The first question left unanswered, named in the reader's language.
                let error = FieldError::new(&slug(&field), ctx.t("console-readiness-unanswered"));
                render(ctx, &st, StatusCode::BAD_REQUEST, form, Some(error), None).await
            }
            Err(e) => Err(e.into()),
        }
    })
    .await
}
