//! Crisis resources and on-call settings: the words shown with every crisis request and on
//! every page (admins change them), whom a crisis alert reaches (the weekly rota, overrides for
//! holidays and swaps, the lead paged last), and who is on call now.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use alongside_core::CoreError;
use alongside_core::institution::{self, InstitutionPatch};
use alongside_core::oncall::{self, Rota, RotaInput, Shift};
use alongside_core::people;
use alongside_core::vocab::Weekday;
use askama::Template;
use chrono::{NaiveDateTime, NaiveTime};
use serde::Deserialize;
use uuid::Uuid;

use crate::node::AppState;
use crate::pages::form::Form;
use crate::pages::view::FieldError;
use crate::pages::{Ctx, PageError, form_post, html, page, require_user, see_other};

struct ShiftRow {
    who: String,
    when: String,
    position: String,
    /// What the remove button sends back to name this shift.
    key: String,
}

struct OverrideRow {
    id: Uuid,
    who: String,
    when: String,
    position: String,
}

/// Which of the page's forms was sent, so only that one shows the error and keeps its input.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Institution,
    Rota,
    Shift,
    Override,
    Other,
}

#[derive(Template)]
#[template(path = "console_settings.html")]
struct SettingsPage<'a> {
    ctx: &'a Ctx,
    may_edit_institution: bool,
    crisis: String,
    on_call_email: String,
    time_zone: String,
    escalate_after: i32,
    lead: String,
    on_call_now: Vec<String>,
    shifts: Vec<ShiftRow>,
    overrides: Vec<OverrideRow>,
    weekdays: Vec<(&'static str, String)>,
    zone_hint: String,
    sent: Part,
    form: Form,
    error: Option<FieldError>,
    notice: Option<String>,
}

super::sent_form_errors!(SettingsPage, Part);

impl SettingsPage<'_> {
    /// What a field shows: the person's input when its form came back, else what is set now.
    fn value(&self, part: Part, field: &str) -> String {
        self.kept(part, field).unwrap_or_else(|| match field {
            "crisis_resources" => self.crisis.clone(),
            "on_call_email" => self.on_call_email.clone(),
            "time_zone" => self.time_zone.clone(),
            "escalate_after_minutes" => self.escalate_after.to_string(),
            "lead" => self.lead.clone(),
            _ => String::new(),
        })
    }
}

const TIME: &str = "%H:%M";
const MOMENT: &str = "%Y-%m-%d %H:%M";

fn shift_key(s: &Shift) -> String {
    format!(
        "{}|{}|{}|{}|{}",
        s.person_id,
        s.weekday.as_str(),
        s.start.format(TIME),
        s.end.format(TIME),
        s.position
    )
}

async fn names(
    st: &AppState,
    ctx: &Ctx,
    rota: &Rota,
) -> Result<HashMap<Uuid, (String, String)>, CoreError> {
    let ids: Vec<Uuid> = rota
        .shifts
        .iter()
        .map(|s| s.person_id)
        .chain(rota.overrides.iter().map(|o| o.person_id))
        .chain(rota.on_call_now.iter().copied())
        .chain(rota.lead_person_id)
        .collect();
    Ok(people::get_many(&st.db, &ctx.principal(), ids)
        .await?
        .into_iter()
        .map(|(id, p)| {
            let key = p.staff_id.or(p.email).unwrap_or_default();
            (id, (p.display_name, key))
        })
        .collect())
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
    let rota = oncall::rota(&st.db, &who).await?;
    let inst = institution::get(&st.db, &who).await?;
    let names = names(st, ctx, &rota).await?;
    let name = |id: &Uuid| {
        names
            .get(id)
            .map(|(name, key)| format!("{name} ({key})"))
            .unwrap_or_else(|| id.to_string())
    };
    let body = SettingsPage {
        may_edit_institution: ctx.may_manage_accounts(),
        crisis: inst.crisis_resources,
        on_call_email: inst.on_call_email.unwrap_or_default(),
        time_zone: rota.time_zone.clone(),
        escalate_after: rota.escalate_after_minutes,
        // The form names people as coordinators type them: by staff id or email.
        lead: rota
            .lead_person_id
            .and_then(|l| names.get(&l))
            .map(|(_, key)| key.clone())
            .unwrap_or_default(),
        on_call_now: rota.on_call_now.iter().map(name).collect(),
        shifts: rota
            .shifts
            .iter()
            .map(|s| ShiftRow {
                who: name(&s.person_id),
                when: t.catalogue.text_with(
                    t.locale,
                    "console-shift-when",
                    &[
                        ("day", t.label("weekday", s.weekday.as_str()).into()),
                        ("start", s.start.format(TIME).to_string().into()),
                        ("end", s.end.format(TIME).to_string().into()),
                    ],
                ),
                position: t.t1("console-position", "n", i64::from(s.position)),
                key: shift_key(s),
            })
            .collect(),
        overrides: rota
            .overrides
            .iter()
            .map(|o| OverrideRow {
                id: o.id,
                who: name(&o.person_id),
                when: t.catalogue.text_with(
                    t.locale,
                    "console-override-when",
                    &[
                        (
                            "from",
                            oncall::in_rota_zone(&rota, o.starts_at)
                                .format(MOMENT)
                                .to_string()
                                .into(),
                        ),
                        (
                            "to",
                            oncall::in_rota_zone(&rota, o.ends_at)
                                .format(MOMENT)
                                .to_string()
                                .into(),
                        ),
                    ],
                ),
                position: t.t1("console-position", "n", i64::from(o.position)),
            })
            .collect(),
        weekdays: Weekday::ALL
            .iter()
            .map(|d| (d.as_str(), t.label("weekday", d.as_str())))
            .collect(),
        zone_hint: t.t1("console-override-hint", "zone", rota.time_zone.clone()),
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
pub struct SettingsQuery {
    done: Option<String>,
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<SettingsQuery>,
) -> HttpResponse {
    let st = state.clone();
    let done = query.into_inner().done;
    page(&req, &state, async move |ctx| {
        require_user(ctx)?;
        let notice = super::saved_notice(ctx, done.as_deref(), "console-settings-saved");
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

fn time_of(form: &Form, field: &str) -> Result<NaiveTime, CoreError> {
    form.get(field)
        .and_then(|v| NaiveTime::parse_from_str(v, TIME).ok())
        .ok_or_else(|| CoreError::bad_input(field, "give a time as HH:MM, for example 19:00"))
}

fn moment_of(form: &Form, field: &str) -> Result<NaiveDateTime, CoreError> {
    form.get(field)
        .and_then(|v| NaiveDateTime::parse_from_str(v, MOMENT).ok())
        .ok_or_else(|| CoreError::bad_input(field, "give a date and time as YYYY-MM-DD HH:MM"))
}

fn position_of(form: &Form, field: &str) -> Result<i32, CoreError> {
    super::whole(form, field)?.ok_or_else(|| CoreError::bad_input(field, "give a position"))
}

/// The rota as it is, to be sent back with one change.
fn input_of(rota: &Rota) -> RotaInput {
    RotaInput {
        time_zone: rota.time_zone.clone(),
        escalate_after_minutes: Some(rota.escalate_after_minutes),
        lead_person_id: rota.lead_person_id,
        shifts: rota.shifts.clone(),
    }
}

async fn apply(ctx: &Ctx, st: &AppState, part: &str, form: &Form) -> Result<(), CoreError> {
    let who = ctx.principal();
    match part {
        "institution" => {
            institution::update(
                &st.db,
                &who,
                InstitutionPatch {
                    crisis_resources: Some(form.value("crisis_resources")),
                    on_call_email: Some(form.value("on_call_email")),
                    ..InstitutionPatch::default()
                },
            )
            .await?;
        }
        "rota" => {
            let rota = oncall::rota(&st.db, &who).await?;
            let lead = match form.get("lead") {
                None => None,
                Some(key) => Some(people::find(&st.db, &who, "lead", key).await?.id),
            };
            oncall::set_rota(
                &st.db,
                &who,
                RotaInput {
                    time_zone: form.value("time_zone"),
                    escalate_after_minutes: super::whole(form, "escalate_after_minutes")?,
                    lead_person_id: lead,
                    ..input_of(&rota)
                },
            )
            .await?;
        }
        "shifts" => {
            let rota = oncall::rota(&st.db, &who).await?;
            let person = people::find(&st.db, &who, "person", &form.value("person")).await?;
            let weekday = form
                .get("weekday")
                .and_then(|d| d.parse::<Weekday>().ok())
                .ok_or_else(|| CoreError::bad_input("weekday", "choose a day"))?;
            let shift = Shift {
                person_id: person.id,
                weekday,
                start: time_of(form, "start")?,
                end: time_of(form, "end")?,
                position: position_of(form, "position")?,
            };
            let mut input = input_of(&rota);
            input.shifts.push(shift);
            oncall::set_rota(&st.db, &who, input).await?;
        }
        "shifts-remove" => {
            let rota = oncall::rota(&st.db, &who).await?;
            let key = form.value("shift");
            let mut input = input_of(&rota);
            let before = input.shifts.len();
            input.shifts.retain(|s| shift_key(s) != key);
            if input.shifts.len() == before {
                return Err(CoreError::NotFound("shift"));
            }
            oncall::set_rota(&st.db, &who, input).await?;
        }
        "overrides" => {
            let rota = oncall::rota(&st.db, &who).await?;
            let person = people::find(
                &st.db,
                &who,
                "override_person",
                &form.value("override_person"),
            )
            .await?;
            let starts = oncall::from_rota_zone(&rota, "starts", moment_of(form, "starts")?)?;
            let ends = oncall::from_rota_zone(&rota, "ends", moment_of(form, "ends")?)?;
            let position = position_of(form, "override_position")?;
            oncall::add_override(&st.db, &who, person.id, position, starts, ends)
                .await
                .map_err(|e| match e {
                    // Core's names for this form's fields.
                    CoreError::BadInput { field, message } => CoreError::BadInput {
                        field: match field.as_str() {
                            "endsAt" => "ends".into(),
                            "position" => "override_position".into(),
                            _ => field,
                        },
                        message,
                    },
                    other => other,
                })?;
        }
        "overrides-remove" => {
            let id = form
                .get("override")
                .and_then(|i| i.parse::<Uuid>().ok())
                .ok_or(CoreError::NotFound("on-call override"))?;
            oncall::remove_override(&st.db, &who, id).await?;
        }
        _ => return Err(CoreError::NotFound("settings form")),
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
            Ok(()) => Ok(see_other("/console/settings?done=saved")),
            Err(e @ CoreError::BadInput { .. }) => {
                let sent = match part.as_str() {
                    "institution" => Part::Institution,
                    "rota" => Part::Rota,
                    "shifts" => Part::Shift,
                    "overrides" => Part::Override,
                    _ => Part::Other,
                };
                let fallback = match sent {
                    Part::Institution => "crisis_resources",
                    Part::Rota => "time_zone",
                    Part::Override => "override_person",
                    _ => "person",
                };
                let mut error = super::field_error(ctx, &e, fallback);
                // Core names a person it could not find `personId`; each form names its own.
                if error.field == "person_id" {
                    error.field = fallback.into();
                }
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
