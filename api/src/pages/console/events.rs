//! Events for coordinators: record one with everyone involved, and follow the outreach to each.

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::CoreError;
use alongside_core::events::{self, InvolvedInput, NewEvent};
use alongside_core::page::PageRequest;
use alongside_core::people;
use alongside_core::vocab::{
    EventCategory, InvolvementRole, MilestoneKind, OutreachState, SeverityBand,
};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use crate::node::AppState;
use crate::pages::form::Form;
use crate::pages::view::{FieldError, is_on};
use crate::pages::{Ctx, PageError, form_post, html, page, require_user, see_other};

/// Rows for people involved on a fresh form; "more rows" adds this many.
const ROWS: usize = 6;
/// The most rows the form shows (the API takes up to 200 at once).
const MAX_ROWS: usize = 60;

struct EventRow {
    id: Uuid,
    title: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "console_events.html")]
struct EventsPage<'a> {
    ctx: &'a Ctx,
    events: Vec<EventRow>,
}

pub async fn list(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    let st = state.clone();
    page(&req, &state, async move |ctx| {
        require_user(ctx)?;
        let page = events::list(
            &st.db,
            &ctx.principal(),
            PageRequest {
                first: Some(50),
                ..PageRequest::default()
            },
        )
        .await?;
        let t = ctx.text;
        let events = page
            .items
            .into_iter()
            .map(|e| EventRow {
                id: e.id,
                title: t.label("event-category", e.category.as_str()),
                detail: [Some(e.month.clone()), e.department.clone()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" · "),
            })
            .collect();
        let body = EventsPage { events, ctx }.render();
        Ok::<_, PageError>(html(ctx, StatusCode::OK, body))
    })
    .await
}

#[derive(Template)]
#[template(path = "console_event_new.html")]
struct NewEventPage<'a> {
    ctx: &'a Ctx,
    form: Form,
    error: Option<FieldError>,
    rows: Vec<usize>,
    categories: Vec<(&'static str, String)>,
    severities: Vec<(&'static str, String)>,
    roles: Vec<(&'static str, String)>,
}

impl NewEventPage<'_> {
    fn error_on(&self, field: &str) -> bool {
        is_on(&self.error, field)
    }

    fn error_text(&self) -> String {
        self.error
            .as_ref()
            .map(|e| e.message.clone())
            .unwrap_or_default()
    }

    /// The value typed in a row, kept when the form comes back.
    fn row_value(&self, name: &str, n: &usize) -> String {
        self.form.value(&format!("{name}-{n}"))
    }

    /// A row's label, counting from 1.
    fn row_label(&self, key: &str, n: &usize) -> String {
        self.ctx.text.t1(key, "n", (*n as i64) + 1)
    }

    fn row_has(&self, name: &str, n: &usize, value: &str) -> bool {
        let field = format!("{name}-{n}");
        self.form.get(&field) == Some(value)
    }
}

fn new_event_page(
    ctx: &Ctx,
    status: StatusCode,
    form: Form,
    error: Option<FieldError>,
    rows: usize,
) -> HttpResponse {
    let t = ctx.text;
    let body = NewEventPage {
        form,
        error,
        rows: (0..rows).collect(),
        categories: EventCategory::ALL
            .iter()
            .filter(|c| c.reportable())
            .map(|c| (c.as_str(), t.label("event-category", c.as_str())))
            .collect(),
        severities: SeverityBand::ALL
            .iter()
            .map(|s| (s.as_str(), t.label("console-severity", s.as_str())))
            .collect(),
        roles: InvolvementRole::ALL
            .iter()
            .filter(|r| r.reportable())
            .map(|r| (r.as_str(), t.label("console-role", r.as_str())))
            .collect(),
        ctx,
    }
    .render();
    html(ctx, status, body)
}

pub async fn new_form(req: HttpRequest, state: web::Data<AppState>) -> HttpResponse {
    page(&req, &state, async move |ctx| {
        may_record(ctx)?;
        Ok::<_, PageError>(new_event_page(
            ctx,
            StatusCode::OK,
            Form::default(),
            None,
            ROWS,
        ))
    })
    .await
}

/// The rows the posted form had (at least the default, at most the limit).
fn rows_of(form: &Form) -> usize {
    form.get("rows")
        .and_then(|r| r.parse::<usize>().ok())
        .unwrap_or(ROWS)
        .clamp(ROWS, MAX_ROWS)
}

/// The event as typed, and for each person listed the form row it came from.
fn event_of(ctx: &Ctx, form: &Form, rows: usize) -> Result<(NewEvent, Vec<usize>), FieldError> {
    let t = ctx.text;
    let wrong = |field: &str| FieldError::new(field, t.t(&format!("console-field-{field}")));
    let category = form
        .get("category")
        .and_then(|c| c.parse::<EventCategory>().ok())
        .ok_or_else(|| wrong("category"))?;
    let month = form
        .get("month")
        .map(str::to_owned)
        .ok_or_else(|| wrong("month"))?;
    let severity_band = form
        .get("severity")
        .and_then(|s| s.parse::<SeverityBand>().ok())
        .ok_or_else(|| wrong("severity"))?;
    let mut involved = vec![];
    let mut from_row = vec![];
    for n in 0..rows {
        let Some(who) = form.get(&format!("person-{n}")) else {
            continue;
        };
        let role = form
            .get(&format!("role-{n}"))
            .and_then(|r| r.parse::<InvolvementRole>().ok())
            .ok_or_else(|| FieldError::new(&format!("role-{n}"), t.t("console-field-role")))?;
        let (staff_id, email) = if people::is_email(who) {
            (None, Some(who.to_owned()))
        } else {
            (Some(who.to_owned()), None)
        };
        involved.push(InvolvedInput {
            staff_id,
            email,
            role,
        });
        from_row.push(n);
    }
    if involved.is_empty() {
        return Err(FieldError::new("person-0", t.t("console-field-involved")));
    }
    Ok((
        NewEvent {
            category,
            month,
            department: form.get("department").map(str::to_owned),
            severity_band,
            disclosure_in_progress: form.has("disclosure", "yes"),
            external_ref: form.get("external_ref").map(str::to_owned),
            involved,
        },
        from_row,
    ))
}

/// Core names a person by their place in the list (`involved[2]`); the form by its row.
fn field_of_row(field: &str, from_row: &[usize]) -> String {
    let Some(i) = field
        .strip_prefix("involved[")
        .and_then(|rest| rest.strip_suffix(']'))
        .and_then(|i| i.parse::<usize>().ok())
    else {
        return match field {
            "involved" => "person-0".into(),
            "externalRef" => "external_ref".into(),
            other => other.to_owned(),
        };
    };
    format!("person-{}", from_row.get(i).copied().unwrap_or(0))
}

/// Core's decision on recording events, taken before the form is read: whoever may not record
/// one is refused, not shown what is wrong with their form.
fn may_record(ctx: &Ctx) -> Result<(), PageError> {
    let who = require_user(ctx)?;
    alongside_core::access::authorize(
        &alongside_core::access::Principal::User(who),
        alongside_core::access::Operation::RecordEvents,
    )?;
    Ok(())
}

pub async fn create(req: HttpRequest, state: web::Data<AppState>, body: Bytes) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, form, _| {
        may_record(ctx)?;
        let rows = rows_of(&form);
        if form.get("step") == Some("more") {
            let more = (rows + ROWS).min(MAX_ROWS);
            return Ok(new_event_page(ctx, StatusCode::OK, form, None, more));
        }
        let (event, from_row) = match event_of(ctx, &form, rows) {
            Ok(e) => e,
            Err(error) => {
                return Ok(new_event_page(
                    ctx,
                    StatusCode::BAD_REQUEST,
                    form,
                    Some(error),
                    rows,
                ));
            }
        };
        match events::create(&st.db, &ctx.principal(), event, None).await {
            Ok((e, _)) => Ok(see_other(&format!(
                "/console/events/{}?done=recorded",
                e.id
            ))),
            Err(e @ CoreError::BadInput { .. }) => {
                let mut error = FieldError::from_core(ctx.text, &e)
                    .unwrap_or_else(|| FieldError::new("category", ctx.t("error-bad-input-body")));
                let core_field = error.field.clone();
                error.field = field_of_row(&core_field, &from_row);
                if core_field.starts_with("involved") {
                    error.message = ctx.t("console-field-person-unknown");
                }
                Ok(new_event_page(
                    ctx,
                    StatusCode::BAD_REQUEST,
                    form,
                    Some(error),
                    rows,
                ))
            }
            Err(e) => Err(e.into()),
        }
    })
    .await
}

struct InvolvedRow {
    outreach: Option<Uuid>,
    name: String,
    role: String,
    state: String,
    pending: bool,
    /// How the node reaches them, where it is not email: a text, or nobody (their manager).
    channel: Option<String>,
}

#[derive(Template)]
#[template(path = "console_event.html")]
struct EventPage<'a> {
    ctx: &'a Ctx,
    id: Uuid,
    closed: bool,
    close_hint: String,
    title: String,
    details: Vec<(String, String)>,
    people: Vec<InvolvedRow>,
    /// Staff ids the roster does not have yet, with their role.
    waiting: Vec<(String, String)>,
    milestones: Vec<String>,
    kinds: Vec<(&'static str, String)>,
    form: Form,
    error: Option<FieldError>,
    notice: Option<String>,
}

super::field_errors!(EventPage);

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

async fn render_event(
    ctx: &Ctx,
    st: &AppState,
    id: Uuid,
    status: StatusCode,
    form: Form,
    error: Option<FieldError>,
    notice: Option<String>,
) -> Result<HttpResponse, PageError> {
    let who = ctx.principal();
    let event = events::get(&st.db, &who, id).await?;
    let involved = events::involvements(&st.db, &who, id).await?;
    let outreach = events::outreach_for_event(&st.db, &who, id).await?;
    let milestones = events::milestones(&st.db, &who, id).await?;
    let waiting = events::pending::of_event(&st.db, &who, id).await?;
    let names =
        people::get_many(&st.db, &who, involved.iter().map(|i| i.person_id).collect()).await?;
    let t = ctx.text;
    let people = involved
        .iter()
        .map(|i| {
            // The latest outreach to this person (a milestone renews it).
            let o = outreach.iter().rev().find(|o| o.person_id == i.person_id);
            InvolvedRow {
                outreach: o.map(|o| o.id),
                name: names
                    .get(&i.person_id)
                    .map(|p| p.display_name.clone())
                    .unwrap_or_else(|| t.t("console-someone")),
                role: t.label("console-role", i.role.as_str()),
                state: o
                    .map(|o| t.label("console-outreach", o.state.as_str()))
                    .unwrap_or_default(),
                pending: o.is_some_and(|o| o.state == OutreachState::Pending),
                channel: names.get(&i.person_id).and_then(|p| {
                    if !p.active {
                        Some(t.t("console-channel-inactive"))
                    } else if p.email.is_some() {
                        None
                    } else if p.phone.is_some() {
                        Some(t.t("console-channel-text"))
                    } else {
                        Some(t.t("console-channel-none"))
                    }
                }),
            }
        })
        .collect();
    let mut details = vec![
        (t.t("console-event-month"), event.month.clone()),
        (
            t.t("console-event-severity"),
            t.label("console-severity", event.severity_band.as_str()),
        ),
    ];
    if let Some(d) = &event.department {
        details.push((t.t("console-event-department"), d.clone()));
    }
    if event.disclosure_in_progress {
        details.push((t.t("console-event-disclosure"), t.t("console-yes")));
    }
    if let Some(at) = event.closed_at {
        details.push((t.t("console-event-closed"), t.when(at)));
    }
    let body = EventPage {
        id,
        closed: event.closed_at.is_some(),
        close_hint: t.t1(
            "console-event-close-hint",
            "years",
            i64::from(st.config.maintenance.event_involvement_years),
        ),
        title: t.label("event-category", event.category.as_str()),
        details,
        people,
        waiting: waiting
            .into_iter()
            .map(|w| (w.staff_id, t.label("console-role", w.role.as_str())))
            .collect(),
        milestones: milestones
            .iter()
            .map(|m| {
                t.catalogue.text_with(
                    t.locale,
                    "console-milestone-when",
                    &[
                        ("kind", t.label("console-milestone", m.kind.as_str()).into()),
                        ("month", m.month.as_str().into()),
                    ],
                )
            })
            .collect(),
        kinds: MilestoneKind::ALL
            .iter()
            .map(|k| (k.as_str(), t.label("console-milestone", k.as_str())))
            .collect(),
        form,
        error,
        notice,
        ctx,
    }
    .render();
    Ok(html(ctx, status, body))
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    query: web::Query<Done>,
) -> HttpResponse {
    let st = state.clone();
    let done = query.into_inner().done;
    page(&req, &state, async move |ctx| {
        require_user(ctx)?;
        let id = crate::pages::path_id(&id, "event")?;
        let notice = done.as_deref().and_then(|d| match d {
            "recorded" | "marked" | "milestone" | "event-closed" => {
                Some(ctx.t(&format!("console-done-{d}")))
            }
            _ => None,
        });
        render_event(ctx, &st, id, StatusCode::OK, Form::default(), None, notice).await
    })
    .await
}

/// A later milestone (a peer review, a lawsuit, a deposition) renews outreach to everyone
/// involved; the page shows it at once.
pub async fn add_milestone(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: Bytes,
) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, form, _| {
        require_user(ctx)?;
        let id = crate::pages::path_id(&id, "event")?;
        let who = ctx.principal();
        // Core's decision on who records events, before anything typed is read.
        alongside_core::access::authorize(&who, alongside_core::access::Operation::RecordEvents)?;
        let outcome = match form
            .get("kind")
            .and_then(|k| k.parse::<MilestoneKind>().ok())
        {
            None => Err(CoreError::bad_input("kind", "choose what happened")),
            Some(kind) => {
                events::add_milestone(&st.db, &who, id, kind, form.value("milestone_month"))
                    .await
                    .map_err(|e| match e {
                        CoreError::BadInput { field, message } if field == "month" => {
                            CoreError::BadInput {
                                field: "milestone_month".into(),
                                message,
                            }
                        }
                        other => other,
                    })
            }
        };
        match outcome {
            Ok(_) => Ok(see_other(&format!("/console/events/{id}?done=milestone"))),
            Err(e @ CoreError::BadInput { .. }) => {
                let mut error = super::field_error(ctx, &e, "kind");
                if error.field == "kind" {
                    error.message = ctx.t("console-field-milestone-kind");
                }
                render_event(
                    ctx,
                    &st,
                    id,
                    StatusCode::BAD_REQUEST,
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

/// The event's legal life is over: close it, so who was involved is forgotten.
pub async fn close(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: Bytes,
) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, _, _| {
        require_user(ctx)?;
        let id = crate::pages::path_id(&id, "event")?;
        events::close(&st.db, &ctx.principal(), id).await?;
        Ok::<_, PageError>(see_other(&format!(
            "/console/events/{id}?done=event-closed"
        )))
    })
    .await
}

/// The coordinator records that they reached someone, or could not.
pub async fn mark_outreach(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: Bytes,
) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, form, _| {
        require_user(ctx)?;
        let id = crate::pages::path_id(&id, "outreach")?;
        let to = match form.get("state") {
            Some("reached") => OutreachState::Reached,
            Some("no_answer") => OutreachState::NoAnswer,
            _ => return Err(CoreError::bad_input("state", "reached or no answer").into()),
        };
        let marked = events::mark_outreach(&st.db, &ctx.principal(), id, to).await?;
        Ok::<_, PageError>(see_other(&format!(
            "/console/events/{}?done=marked",
            marked.event_id
        )))
    })
    .await
}
