//! Choosing the language of the pages (and of the emails and messages the node sends): saved
//! in the person's profile through the same use case as GraphQL's `updateMyProfile`.

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::people::{self, PersonPatch};

use super::{PageError, form_post, require_user, see_other, session};
use crate::node::AppState;

pub async fn choose(req: HttpRequest, state: web::Data<AppState>, body: Bytes) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, form, _| {
        let me = require_user(ctx)?;
        let patch = PersonPatch {
            locale: Some(form.value("locale")),
            ..PersonPatch::default()
        };
        people::update(&st.db, &ctx.principal(), me.person_id, patch).await?;
        Ok::<_, PageError>(see_other(&session::safe_next(form.get("next"))))
    })
    .await
}
