//! A peer supporter's page for someone from another hospital whose introduction they accepted:
//! how to reach them, recording a conversation (counts only, as for local cases), and saying
//! the support has ended. The requester's hospital learns only "first contact made" and "ended".

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::requests::outside::{self, Conversation, Introduction};
use alongside_core::requests::{self};
use alongside_core::vocab::{DurationBand, IntroductionState, Modality};
use askama::Template;
use uuid::Uuid;

use super::form::Form;
use super::view::{FieldError, is_on};
use super::{Ctx, PageError, form_post, html, page, require_user, see_other};
use crate::node::AppState;

#[derive(Template)]
#[template(path = "introduction.html")]
struct IntroductionPage<'a> {
    ctx: &'a Ctx,
    id: Uuid,
    title: String,
    notice: Option<String>,
    name: Option<String>,
    contact: Option<String>,
    conversations: String,
    form: Form,
    error: Option<FieldError>,
    date: String,
    today: String,
    durations: Vec<(&'static str, String)>,
    modalities: Vec<(&'static str, String)>,
}

impl IntroductionPage<'_> {
    /// The mode chosen, else the phone (most conversations with someone elsewhere are calls).
    fn modality_checked(&self, value: &str) -> bool {
        self.form
            .get("modality")
            .unwrap_or(Modality::Phone.as_str())
            == value
    }

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

async fn render(
    st: &AppState,
    ctx: &Ctx,
    intro: Introduction,
    form: Form,
    error: Option<FieldError>,
    notice: Option<String>,
) -> Result<HttpResponse, PageError> {
    // Only an accepted introduction has a page; the list answers the others.
    if intro.state != IntroductionState::Accepted {
        return Ok(see_other("/support"));
    }
    let t = ctx.text;
    let names = st.federation.member_names().await.unwrap_or_default();
    let today = requests::now().date().to_string();
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let body = IntroductionPage {
        ctx,
        id: intro.id,
        title: t.t1(
            "support-introduction-title",
            "institution",
            names
                .get(&intro.peer_node)
                .cloned()
                .unwrap_or(intro.peer_node),
        ),
        notice,
        name: intro.first_name,
        contact: intro.contact,
        conversations: t.t1(
            "introduction-conversations",
            "count",
            i64::from(intro.encounters),
        ),
        date: form.get("occurred_on").unwrap_or(&today).to_owned(),
        today,
        durations: DurationBand::ALL
            .iter()
            .map(|d| (d.as_str(), t.label("duration", d.as_str())))
            .collect(),
        modalities: Modality::ALL
            .iter()
            .map(|m| (m.as_str(), t.label("modality", m.as_str())))
            .collect(),
        form,
        error,
    }
    .render();
    Ok(html(ctx, status, body))
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<super::care::CareQuery>,
) -> HttpResponse {
    let st = state.clone();
    let done = query.into_inner().done;
    page(&req, &state, async move |ctx| {
        require_user(ctx)?;
        let id = super::path_id(&id, "introduction")?;
        let intro = outside::my_introduction(&st.db, &ctx.principal(), id).await?;
        let notice = (done.as_deref() == Some("conversation")).then(|| ctx.t("encounter-recorded"));
        render(&st, ctx, intro, Form::default(), None, notice).await
    })
    .await
}

/// The form's answers as core's input, or the field to fix.
fn conversation_of(ctx: &Ctx, form: &Form) -> Result<Conversation, FieldError> {
    let (occurred_on, duration, modality) = super::care::conversation_fields(ctx, form)?;
    Ok(Conversation {
        occurred_on,
        duration,
        modality,
    })
}

pub async fn record_conversation(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: Bytes,
) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, form, _| {
        require_user(ctx)?;
        let id = super::path_id(&id, "introduction")?;
        let who = ctx.principal();
        // Whose it is comes first: a stranger learns nothing from a bad form.
        let intro = outside::my_introduction(&st.db, &who, id).await?;
        let conversation = match conversation_of(ctx, &form) {
            Ok(c) => c,
            Err(e) => return render(&st, ctx, intro, form.clone(), Some(e), None).await,
        };
        if let Err(e) = outside::record_conversation(&st.db, &who, id, conversation).await {
            return match FieldError::from_core(ctx.text, &e) {
                Some(field) => render(&st, ctx, intro, form.clone(), Some(field), None).await,
                None => Err(e.into()),
            };
        }
        Ok(see_other(&format!(
            "/support/introductions/{id}?done=conversation"
        )))
    })
    .await
}

pub async fn close(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: Bytes,
) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, _form, _| {
        require_user(ctx)?;
        let id = super::path_id(&id, "introduction")?;
        outside::close_introduction(&st.db, &ctx.principal(), id).await?;
        Ok::<_, PageError>(see_other("/support?answered=introduction-closed"))
    })
    .await
}
