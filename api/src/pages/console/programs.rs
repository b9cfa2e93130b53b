//! Programs and tiers: every support the institution offers (tier 1 self-care and colleagues,
//! tier 2 trained peers, tier 3 professional help) with its clocks and follow-ups, and the form
//! that adds one or changes it. A program is retired, never deleted: requests keep naming it.

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::CoreError;
use alongside_core::page::{MAX_PAGE_SIZE, PageRequest};
use alongside_core::programs::{self, Program, ProgramInput, ProgramPatch};
use alongside_core::vocab::{Profession, ProgramKind};
use askama::Template;
use serde::Deserialize;
use uuid::Uuid;

use crate::node::AppState;
use crate::pages::form::Form;
use crate::pages::view::FieldError;
use crate::pages::{Ctx, PageError, form_post, html, page, require_user, see_other};

struct Card {
    id: Uuid,
    name: String,
    tier: String,
    kind: String,
    audience: String,
    hours: String,
    contact: String,
    clocks: String,
    follow_ups: String,
    privileged: bool,
    retired: bool,
}

#[derive(Template)]
#[template(path = "console_programs.html")]
struct ProgramsPage<'a> {
    ctx: &'a Ctx,
    programs: Vec<Card>,
    kinds: Vec<(&'static str, String)>,
    professions: Vec<(&'static str, String)>,
    /// The program being changed, if any (else the form adds one).
    editing: Option<Uuid>,
    form: Form,
    error: Option<FieldError>,
    notice: Option<String>,
}

super::field_errors!(ProgramsPage);

/// Every program there is, retired ones too (a page of 100, which no institution nears).
async fn all(st: &AppState, ctx: &Ctx) -> Result<Vec<Program>, CoreError> {
    let page = programs::list(
        &st.db,
        &ctx.principal(),
        PageRequest {
            first: Some(MAX_PAGE_SIZE),
            ..PageRequest::default()
        },
        true,
    )
    .await?;
    let mut all = page.items;
    all.sort_by(|a, b| (a.tier, &a.name).cmp(&(b.tier, &b.name)));
    Ok(all)
}

fn card(ctx: &Ctx, p: &Program) -> Card {
    let t = ctx.text;
    Card {
        id: p.id,
        name: p.name.clone(),
        tier: t.t(&format!("console-tier-{}", p.tier)),
        kind: t.label("program-kind", p.kind.as_str()),
        audience: if p.audience.is_empty() {
            t.t("console-program-everyone")
        } else {
            p.audience
                .iter()
                .map(|a| t.label("profession", a.as_str()))
                .collect::<Vec<_>>()
                .join(", ")
        },
        hours: p.hours.clone(),
        contact: p.contact.clone(),
        clocks: t.catalogue.text_with(
            t.locale,
            "console-program-clocks",
            &[
                ("ack", i64::from(p.ack_target_minutes).into()),
                ("contact", i64::from(p.first_contact_target_hours).into()),
                ("urgent", i64::from(p.urgent_outreach_hours).into()),
            ],
        ),
        follow_ups: if p.follow_up_days.is_empty() {
            t.t("console-program-no-follow-ups")
        } else {
            t.t1(
                "console-program-follow-ups",
                "days",
                p.follow_up_days
                    .iter()
                    .map(i32::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        },
        privileged: p.privileged,
        retired: !p.active,
    }
}

async fn render(
    ctx: &Ctx,
    st: &AppState,
    status: StatusCode,
    editing: Option<Uuid>,
    form: Form,
    error: Option<FieldError>,
    notice: Option<String>,
) -> Result<HttpResponse, PageError> {
    let t = ctx.text;
    let programs = all(st, ctx).await?.iter().map(|p| card(ctx, p)).collect();
    let body = ProgramsPage {
        programs,
        kinds: ProgramKind::ALL
            .iter()
            .map(|k| (k.as_str(), t.label("program-kind", k.as_str())))
            .collect(),
        professions: Profession::ALL
            .iter()
            .map(|p| (p.as_str(), t.label("profession", p.as_str())))
            .collect(),
        editing,
        form,
        error,
        notice,
        ctx,
    }
    .render();
    Ok(html(ctx, status, body))
}

#[derive(Deserialize)]
pub struct ProgramsQuery {
    edit: Option<String>,
    done: Option<String>,
}

/// The form filled in with a program's values, to change it.
fn fields_of(p: &Program) -> Vec<(String, String)> {
    let mut f: Vec<(String, String)> = vec![
        ("name".into(), p.name.clone()),
        ("kind".into(), p.kind.as_str().into()),
        ("tier".into(), p.tier.to_string()),
        ("hours".into(), p.hours.clone()),
        ("contact".into(), p.contact.clone()),
        (
            "follow_up_days".into(),
            p.follow_up_days
                .iter()
                .map(i32::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (
            "ack_target_minutes".into(),
            p.ack_target_minutes.to_string(),
        ),
        (
            "first_contact_target_hours".into(),
            p.first_contact_target_hours.to_string(),
        ),
        (
            "urgent_outreach_hours".into(),
            p.urgent_outreach_hours.to_string(),
        ),
        (
            "recontact_days".into(),
            p.recontact_days
                .iter()
                .map(i32::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (
            "intake_email".into(),
            p.intake.email.clone().unwrap_or_default(),
        ),
        (
            "intake_phone".into(),
            p.intake.phone.clone().unwrap_or_default(),
        ),
    ];
    f.extend(
        p.audience
            .iter()
            .map(|a| ("audience".to_owned(), a.as_str().to_owned())),
    );
    if p.privileged {
        f.push(("privileged".into(), "yes".into()));
    }
    if p.active {
        f.push(("active".into(), "yes".into()));
    }
    f
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<ProgramsQuery>,
) -> HttpResponse {
    let st = state.clone();
    let q = query.into_inner();
    page(&req, &state, async move |ctx| {
        require_user(ctx)?;
        // Core's decision on who manages programs, before one is looked up to change.
        alongside_core::access::authorize(
            &ctx.principal(),
            alongside_core::access::Operation::ManagePrograms,
        )?;
        let editing = q.edit.as_deref().and_then(|e| e.parse::<Uuid>().ok());
        let fields = match editing {
            Some(id) => fields_of(&programs::get(&st.db, &ctx.principal(), id).await?),
            None => vec![
                ("tier".into(), "2".into()),
                (
                    "recontact_days".into(),
                    programs::DEFAULT_RECONTACT_DAYS
                        .map(|d| d.to_string())
                        .join(", "),
                ),
            ],
        };
        let notice = super::saved_notice(ctx, q.done.as_deref(), "console-program-saved");
        render(
            ctx,
            &st,
            StatusCode::OK,
            editing,
            Form::from_fields(fields),
            None,
            notice,
        )
        .await
    })
    .await
}

/// A list of days ("1, 7, 30") from the form's `field`.
fn days(form: &Form, field: &str) -> Result<Vec<i32>, CoreError> {
    form.value(field)
        .split([',', ' '])
        .filter(|d| !d.is_empty())
        .map(|d| {
            d.parse::<i32>()
                .map_err(|_| CoreError::bad_input(field, "give days as whole numbers"))
        })
        .collect()
}

/// The intake fields, checked by core and named as the form names them.
fn intake_of(form: &Form) -> Result<programs::Intake, CoreError> {
    programs::check_intake(&programs::Intake {
        email: form.get("intake_email").map(str::to_owned),
        phone: form.get("intake_phone").map(str::to_owned),
        webhook_id: None,
    })
    .map_err(|e| match e {
        CoreError::BadInput { field, message } => {
            CoreError::bad_input(format!("intake_{field}"), message)
        }
        other => other,
    })
}

fn input_of(form: &Form) -> Result<ProgramInput, CoreError> {
    let kind = form
        .get("kind")
        .and_then(|k| k.parse::<ProgramKind>().ok())
        .ok_or_else(|| CoreError::bad_input("kind", "choose a kind of support"))?;
    let tier =
        super::whole(form, "tier")?.ok_or_else(|| CoreError::bad_input("tier", "choose a tier"))?;
    let audience = Profession::ALL
        .iter()
        .filter(|p| form.has("audience", p.as_str()))
        .copied()
        .collect();
    Ok(ProgramInput {
        name: form.value("name"),
        kind,
        tier,
        audience,
        hours: form.value("hours"),
        contact: form.value("contact"),
        privileged: form.has("privileged", "yes"),
        follow_up_days: days(form, "follow_up_days")?,
        ack_target_minutes: super::whole(form, "ack_target_minutes")?,
        first_contact_target_hours: super::whole(form, "first_contact_target_hours")?,
        urgent_outreach_hours: super::whole(form, "urgent_outreach_hours")?,
        // Urgent categories stay as they are: the API sets them.
        urgent_categories: vec![],
        recontact_days: Some(days(form, "recontact_days")?),
    })
}

pub async fn save(req: HttpRequest, state: web::Data<AppState>, body: Bytes) -> HttpResponse {
    form_post(req, state, body, async move |ctx, st, form, _| {
        require_user(ctx)?;
        let who = ctx.principal();
        alongside_core::access::authorize(&who, alongside_core::access::Operation::ManagePrograms)?;
        let editing = form.get("id").and_then(|i| i.parse::<Uuid>().ok());
        // Everything checked before anything is saved, so a bad intake changes nothing.
        let checked = input_of(&form).and_then(|i| Ok((i, intake_of(&form)?)));
        let outcome = match (checked, editing) {
            (Err(e), _) => Err(e),
            (Ok((i, intake)), None) => {
                let tier = i.tier;
                match programs::create(&st.db, &who, i).await {
                    Ok(p) if tier == 3 => programs::set_intake(&st.db, &who, p.id, intake)
                        .await
                        .map(|_| ()),
                    other => other.map(|_| ()),
                }
            }
            (Ok((i, intake)), Some(id)) => {
                let tier = i.tier;
                let patch = ProgramPatch {
                    name: Some(i.name),
                    kind: Some(i.kind),
                    tier: Some(i.tier),
                    audience: Some(i.audience),
                    hours: Some(i.hours),
                    contact: Some(i.contact),
                    privileged: Some(i.privileged),
                    follow_up_days: Some(i.follow_up_days),
                    active: Some(form.has("active", "yes")),
                    ack_target_minutes: i.ack_target_minutes,
                    first_contact_target_hours: i.first_contact_target_hours,
                    urgent_outreach_hours: i.urgent_outreach_hours,
                    urgent_categories: None,
                    recontact_days: i.recontact_days,
                };
                match programs::update(&st.db, &who, id, patch).await {
                    // The webhook an admin set through the API stays.
                    Ok(p) if tier == 3 => {
                        let intake = programs::Intake {
                            webhook_id: p.intake.webhook_id,
                            ..intake
                        };
                        programs::set_intake(&st.db, &who, id, intake)
                            .await
                            .map(|_| ())
                    }
                    other => other.map(|_| ()),
                }
            }
        };
        match outcome {
            Ok(()) => Ok(see_other("/console/programs?done=saved")),
            Err(e @ CoreError::BadInput { .. }) => {
                let error = super::field_error(ctx, &e, "name");
                render(
                    ctx,
                    &st,
                    StatusCode::BAD_REQUEST,
                    editing,
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
