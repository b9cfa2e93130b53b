//! Choosing the language of the pages (and of the emails and messages the node sends): saved
//! in the person's profile through the same use case as GraphQL's `updateMyProfile`.

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::people::{self, PersonPatch};

use super::form::Form;
use super::{PageError, check_post, page, require_user, see_other, session};
use crate::node::AppState;

pub async fn choose(req: HttpRequest, state: web::Data<AppState>, body: Bytes) -> HttpResponse {
    let st = state.clone();
    let form = Form::parse(&body);
    let rq = req.clone();
    page(&req, &state, |ctx| async move {
        let result = async {
            check_post(&rq, &st, &ctx, &form)?;
            let me = require_user(&ctx)?;
            let patch = PersonPatch {
                locale: Some(form.value("locale")),
                ..PersonPatch::default()
            };
            people::update(&st.db, &ctx.principal(), me.person_id, patch).await?;
            Ok::<_, PageError>(see_other(&session::safe_next(form.get("next"))))
        }
        .await;
        (ctx, result)
    })
    .await
}
