//! Training: the courses, the sessions coming up, the completions recorded (a peer support
//! course or refresher keeps a supporter's training current), and the trainers the institution
//! lists in the federation's directory — only with their consent and only what they publish.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::CoreError;
use alongside_core::access::{Operation, authorize};
use alongside_core::people;
use alongside_core::training::{self, PUBLISHABLE, TrainerInput};
use alongside_core::vocab::CourseKind;
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use crate::node::AppState;
use crate::pages::form::Form;
use crate::pages::view::FieldError;
use crate::pages::{Ctx, PageError, form_post, html, page, require_user, see_other};

struct CourseRow {
    title: String,
    kind: String,
    validity: String,
}

struct SessionRow {
    when: String,
    course: String,
    format: String,
}

struct CompletionRow {
    who: String,
    course: String,
    when: String,
}

struct TrainerRow {
    name: String,
    details: Vec<String>,
}

/// Which of the page's forms was sent, so only that one shows the error and keeps its input.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Course,
    Session,
    Completion,
    Trainer,
    Other,
}

#[derive(Template)]
#[template(path = "console_training.html")]
struct TrainingPage<'a> {
    ctx: &'a Ctx,
    courses: Vec<CourseRow>,
    course_choices: Vec<(String, String)>,
    kinds: Vec<(&'static str, String)>,
    sessions: Vec<SessionRow>,
    completions: Vec<CompletionRow>,
    trainers: Vec<TrainerRow>,
    publishable: Vec<(&'static str, String)>,
    sent: Part,
    form: Form,
    error: Option<FieldError>,
    notice: Option<String>,
}

super::sent_form_errors!(TrainingPage, Part);

impl TrainingPage<'_> {
    fn value(&self, part: Part, field: &str) -> String {
        self.kept(part, field).unwrap_or_default()
    }
}

async fn render(
    ctx: &Ctx,
    st: &AppState,
    status: StatusCode,
    sent: Part,
    form: Form,
    error: Option<FieldError>,
    notice: Option<String>,
) -> Result<HttpResponse, PageError> {
    let t = ctx.text;
    let who = ctx.principal();
    let today = alongside_core::time::now().date();
    let courses = training::courses(&st.db, &who).await?;
    let sessions = training::sessions(&st.db, &who, today).await?;
    let completions = training::recent_completions(&st.db, &who, 50).await?;
    let trainers = training::directory(&st.db, &who).await?;
    let names: HashMap<Uuid, String> = people::get_many(
        &st.db,
        &who,
        completions.iter().map(|c| c.person_id).collect(),
    )
    .await?
    .into_iter()
    .map(|(id, p)| (id, p.display_name))
    .collect();
    let title: HashMap<Uuid, String> = courses.iter().map(|c| (c.id, c.title.clone())).collect();
    let course_title = |id: &Uuid| title.get(id).cloned().unwrap_or_default();
    let body = TrainingPage {
        courses: courses
            .iter()
            .map(|c| CourseRow {
                title: c.title.clone(),
                kind: t.label("console-course-kind", c.kind.as_str()),
                validity: if c.validity_months == 0 {
                    t.t("console-course-no-expiry")
                } else {
                    t.t1("console-course-valid", "n", i64::from(c.validity_months))
                },
            })
            .collect(),
        course_choices: courses
            .iter()
            .map(|c| (c.id.to_string(), c.title.clone()))
            .collect(),
        kinds: CourseKind::ALL
            .iter()
            .map(|k| (k.as_str(), t.label("console-course-kind", k.as_str())))
            .collect(),
        sessions: sessions
            .iter()
            .map(|s| SessionRow {
                when: s.starts_on.to_string(),
                course: course_title(&s.course_id),
                format: s.format.clone(),
            })
            .collect(),
        completions: completions
            .iter()
            .map(|c| CompletionRow {
                who: names.get(&c.person_id).cloned().unwrap_or_default(),
                course: course_title(&c.course_id),
                when: match c.expires_on {
                    Some(end) => t.catalogue.text_with(
                        t.locale,
                        "console-completion-until",
                        &[
                            ("on", c.completed_on.to_string().into()),
                            ("until", end.to_string().into()),
                        ],
                    ),
                    None => t.t1("console-completion-on", "on", c.completed_on.to_string()),
                },
            })
            .collect(),
        trainers: trainers
            .iter()
            .map(|l| {
                let join = |v: &Option<Vec<String>>| v.as_ref().map(|v| v.join(", "));
                TrainerRow {
                    name: l.display_name.clone(),
                    details: [
                        l.credentials.clone(),
                        l.organization.clone(),
                        join(&l.topics),
                        join(&l.formats),
                        join(&l.regions),
                        l.contact.clone(),
                    ]
                    .into_iter()
                    .flatten()
                    .filter(|d| !d.is_empty())
                    .collect(),
                }
            })
            .collect(),
        publishable: PUBLISHABLE
            .iter()
            .map(|f| (*f, t.label("console-trainer-field", f)))
            .collect(),
        sent,
        form,
        error,
        notice,
        ctx,
    }
    .render();
    Ok(html(ctx, status, body))
}

#[derive(Deserialize)]
pub struct TrainingQuery {
    done: Option<String>,
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<TrainingQuery>,
) -> HttpResponse {
    let st = state.clone();
    let done = query.into_inner().done;
    page(&req, &state, async move |ctx| {
        require_user(ctx)?;
        authorize(&ctx.principal(), Operation::ManageSupporters)?;
        let notice = super::saved_notice(ctx, done.as_deref(), "console-training-saved");
        render(
            ctx,
            &st,
            StatusCode::OK,
            Part::Other,
            Form::default(),
            None,
            notice,
        )
        .await
    })
    .await
}

fn date_of(form: &Form, field: &str) -> Result<NaiveDate, CoreError> {
    form.get(field)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or_else(|| CoreError::bad_input(field, "use YYYY-MM-DD"))
}

fn course_of(form: &Form, field: &str) -> Result<Uuid, CoreError> {
    form.get(field)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| CoreError::bad_input(field, "choose a course"))
}

fn list_of(form: &Form, field: &str) -> Vec<String> {
    form.value(field)
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Core's field names for this page's forms, as the forms name them.
fn rename(e: CoreError, names: &[(&str, &str)]) -> CoreError {
    match e {
        CoreError::BadInput { field, message } => CoreError::BadInput {
            field: names
                .iter()
                .find(|(core, _)| *core == field)
                .map_or(field, |(_, form)| (*form).to_owned()),
            message,
        },
        other => other,
    }
}

async fn apply(ctx: &Ctx, st: &AppState, part: &str, form: &Form) -> Result<(), CoreError> {
    let who = ctx.principal();
    if !["course", "session", "completion", "trainer"].contains(&part) {
        return Err(CoreError::NotFound("training form"));
    }
    // Core's decision on who keeps training records, before anything typed is read.
    authorize(&who, Operation::ManageSupporters)?;
    match part {
        "course" => {
            let kind = form
                .get("kind")
                .and_then(|k| k.parse::<CourseKind>().ok())
                .ok_or_else(|| CoreError::bad_input("kind", "choose a kind of course"))?;
            let months = super::whole(form, "validity_months")?.unwrap_or(0);
            training::create_course(&st.db, &who, kind, form.value("title"), months)
                .await
                .map_err(|e| rename(e, &[("validityMonths", "validity_months")]))?;
        }
        "session" => {
            let course = course_of(form, "session_course")?;
            let starts = date_of(form, "starts_on")?;
            training::schedule_session(&st.db, &who, course, starts, form.value("format"))
                .await
                .map_err(|e| rename(e, &[("courseId", "session_course")]))?;
        }
        "completion" => {
            let person = people::find(&st.db, &who, "person", &form.value("person")).await?;
            let course = course_of(form, "completion_course")?;
            let on = date_of(form, "completed_on")?;
            training::record_completion(&st.db, &who, person.id, course, on)
                .await
                .map_err(|e| {
                    rename(
                        e,
                        &[
                            ("courseId", "completion_course"),
                            ("completedOn", "completed_on"),
                        ],
                    )
                })?;
        }
        "trainer" => {
            let text = |f: &str| form.get(f).map(str::to_owned);
            let input = TrainerInput {
                display_name: form.value("display_name"),
                credentials: text("credentials"),
                organization: text("organization"),
                topics: list_of(form, "topics"),
                formats: list_of(form, "formats"),
                regions: list_of(form, "regions"),
                contact: text("contact"),
                published_fields: PUBLISHABLE
                    .iter()
                    .filter(|f| form.has("publish", f))
                    .map(|f| (*f).to_owned())
                    .collect(),
                consented: form.has("consented", "yes"),
            };
            if !input.consented {
                return Err(CoreError::bad_input(
                    "consented",
                    "a trainer is listed only when they agreed",
                ));
            }
            training::upsert_trainer(&st.db, &who, None, input)
                .await
                .map_err(|e| rename(e, &[("displayName", "display_name")]))?;
        }
        _ => return Err(CoreError::NotFound("training form")),
    }
    Ok(())
}

pub async fn save(
    req: HttpRequest,
    state: web::Data<AppState>,
    part: web::Path<String>,
    body: Bytes,
) -> HttpResponse {
    let part = part.into_inner();
    form_post(req, state, body, async move |ctx, st, form, _| {
        require_user(ctx)?;
        match apply(ctx, &st, &part, &form).await {
            Ok(()) => Ok(see_other("/console/training?done=saved")),
            Err(e @ CoreError::BadInput { .. }) => {
                let (sent, fallback) = match part.as_str() {
                    "course" => (Part::Course, "title"),
                    "session" => (Part::Session, "session_course"),
                    "completion" => (Part::Completion, "person"),
                    "trainer" => (Part::Trainer, "display_name"),
                    _ => (Part::Other, "title"),
                };
                let error = super::field_error(ctx, &e, fallback);
                render(
                    ctx,
                    &st,
                    StatusCode::BAD_REQUEST,
                    sent,
                    form,
                    Some(error),
                    None,
                )
                .await
            }
            Err(e) => Err(e.into()),
        }
    })
    .await
}
