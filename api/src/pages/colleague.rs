//! "I'm worried about a colleague": any member asks the program to reach out to someone. The
//! use case and its limits are `alongside_core::events::referral`.

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::CoreError;
use alongside_core::events::referral::{self, Referral};
use askama::Template;

use super::form::Form;
use super::view::{FieldError, is_on};
use super::{Ctx, PageError, form_post, html, page, require_user};
use crate::node::AppState;

#[derive(Template)]
#[template(path = "colleague.html")]
struct ColleaguePage<'a> {
    ctx: &'a Ctx,
    form: Form,
    error: Option<FieldError>,
    /// Just sent.
    sent: bool,
}

impl ColleaguePage<'_> {
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

pub async fn show(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    page(&req, &state, async move |ctx| {
        require_user(ctx).map(|_| {
            let body = ColleaguePage {
                ctx,
                form: Form::default(),
                error: None,
                sent: false,
            }
            .render();
            html(ctx, StatusCode::OK, body)
        })
    })
    .await
}

pub async fn submit(req: HttpRequest, state: web::Data<AppState>, body: Bytes) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, form, _| {
        ctx.path = "/colleague".into();

        async {
            require_user(ctx)?;
            let referral = Referral {
                colleague: form.value("colleague"),
                share_my_name: form.has("share_my_name", "yes"),
            };
            let outcome = referral::refer_colleague(&st.db, &ctx.principal(), referral).await;
            let t = ctx.text;
            let (status, form, error, sent) = match outcome {
                Ok(()) => (StatusCode::OK, Form::default(), None, true),
                Err(CoreError::BadInput { .. }) => (
                    StatusCode::BAD_REQUEST,
                    form,
                    Some(FieldError::new("colleague", t.t("field-error-colleague"))),
                    false,
                ),
                Err(CoreError::LimitExceeded(_)) => (
                    StatusCode::TOO_MANY_REQUESTS,
                    form,
                    Some(FieldError::new("colleague", t.t("colleague-limit"))),
                    false,
                ),
                Err(e) => return Err(PageError::from(e)),
            };
            let body = ColleaguePage {
                ctx,
                form,
                error,
                sent,
            }
            .render();
            Ok::<_, PageError>(html(ctx, status, body))
        }
        .await
    })
    .await
}
