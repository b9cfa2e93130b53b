//! Hand-off to professional help. Escalating a request to a tier-3 program (EAP, counselling,
//! psychiatry) tells that program's intake — by email, text or its signed webhook, as the
//! program is set up — and records when the program acknowledged it. Only what the person
//! agreed to share travels: by default nothing but the program, the urgency and the language;
//! with their consent, a first name and a way to reach them, kept only until the program
//! acknowledges. Emails and texts carry a link, never the details.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde_json::json;
use uuid::Uuid;

use super::SupportRequest;
use crate::db::{Db, DbConnection, Id};
use crate::error::CoreError;
use crate::ids::new_id;
use crate::notify::outbox::{Channel, enqueue};
use crate::notify::templates::{Topic, Vars};
use crate::notify::webhooks;
use crate::programs::Program;
use crate::schema::{handoffs, programs};
use crate::stored::to_json;
use crate::{secrets, time, validate};

/// What the person agreed to share with the program, if anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Share {
    pub first_name: String,
    /// How the program may reach them: a phone number, an email, "call the ward".
    pub contact: String,
}

impl Share {
    /// Both or neither: a name without a way to reach them (or the reverse) helps no one.
    pub fn from_parts(
        first_name: Option<&str>,
        contact: Option<&str>,
    ) -> Result<Option<Share>, CoreError> {
        match (first_name, contact) {
            (None, None) => Ok(None),
            (Some(n), Some(c)) => Ok(Some(Share {
                first_name: validate::line("shareFirstName", n, 40)?,
                contact: validate::line("shareContact", c, 120)?,
            })),
            (None, Some(_)) => Err(CoreError::bad_input(
                "shareFirstName",
                "give the first name they agreed to share, with the contact",
            )),
            (Some(_), None) => Err(CoreError::bad_input(
                "shareContact",
                "give how the program may reach them, with the first name",
            )),
        }
    }
}

/// Records the hand-off and queues it to every channel the program's intake has.
pub(crate) fn send(
    conn: &mut DbConnection,
    req: &SupportRequest,
    program: &Program,
    share: Option<&Share>,
) -> Result<(), CoreError> {
    let code = secrets::random_token()?;
    let id = new_id();
    diesel::insert_into(handoffs::table)
        .values((
            handoffs::id.eq(Id(id)),
            handoffs::request_id.eq(Id(req.id)),
            handoffs::program_id.eq(Id(program.id)),
            handoffs::code_hash.eq(secrets::sha256_hex(&code)),
            handoffs::shared_name.eq(share.map(|s| s.first_name.clone())),
            handoffs::shared_contact.eq(share.map(|s| s.contact.clone())),
            handoffs::created_at.eq(time::now()),
        ))
        .execute(conn)?;
    let vars = Vars {
        token: Some(code.clone()),
        ..Vars::default()
    };
    let key = format!("handoff:{id}");
    if let Some(email) = &program.intake.email {
        enqueue(
            conn,
            Channel::Email,
            Topic::Handoff.as_str(),
            email,
            &key,
            &to_json(&vars)?,
            Topic::Handoff.erase(),
        )?;
    }
    if let Some(phone) = &program.intake.phone {
        enqueue(
            conn,
            Channel::Text,
            Topic::Handoff.as_str(),
            phone,
            &format!("text:{key}"),
            &to_json(&vars)?,
            Topic::Handoff.erase(),
        )?;
    }
    if let Some(endpoint) = program.intake.webhook_id {
        webhooks::send_to(
            conn,
            endpoint,
            webhooks::HANDOFF_CREATED,
            json!({
                "handoff_id": id,
                "program_id": program.id,
                "urgency": req.urgency.as_str(),
                "language": req.preferences.language,
                "shared": share.map(|s| json!({ "first_name": s.first_name, "contact": s.contact })),
                // Acknowledge with POST /api/v1/handoffs/acknowledge {"code": …}.
                "acknowledge_code": code,
            }),
            Topic::Handoff.erase(),
        )?;
    }
    Ok(())
}

/// A hand-off as its program's intake sees it, by its code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandoffView {
    pub program: String,
    pub shared: Option<Share>,
    pub created_at: NaiveDateTime,
    pub acknowledged_at: Option<NaiveDateTime>,
}

type Row = (
    Uuid,
    Option<String>,
    Option<String>,
    NaiveDateTime,
    Option<NaiveDateTime>,
);

fn by_code(conn: &mut DbConnection, code: &str) -> Result<(Uuid, Row), CoreError> {
    let code = code.trim();
    if code.is_empty() || code.len() > 128 {
        return Err(CoreError::NotFound("hand-off"));
    }
    handoffs::table
        .filter(handoffs::code_hash.eq(secrets::sha256_hex(code)))
        .select((
            handoffs::id,
            (
                handoffs::program_id,
                handoffs::shared_name,
                handoffs::shared_contact,
                handoffs::created_at,
                handoffs::acknowledged_at,
            ),
        ))
        .first(conn)
        .optional()?
        .ok_or(CoreError::NotFound("hand-off"))
}

/// What the link in the intake's email or text shows. No sign-in: the code is the key.
pub async fn view(db: &Db, code: String) -> Result<HandoffView, CoreError> {
    db.run(move |conn| {
        let (_, (program, name, contact, created_at, acknowledged_at)) = by_code(conn, &code)?;
        let program: String = programs::table
            .filter(programs::id.eq(Id(program)))
            .select(programs::name)
            .first(conn)?;
        Ok(HandoffView {
            program,
            shared: name.zip(contact).map(|(first_name, contact)| Share {
                first_name,
                contact,
            }),
            created_at,
            acknowledged_at,
        })
    })
    .await
}

/// The program acknowledges the hand-off: recorded once, and what was shared is erased (the
/// program has it now). Returns whether this call acknowledged it (false: already done).
pub async fn acknowledge(db: &Db, code: String) -> Result<bool, CoreError> {
    db.transaction(move |conn| {
        let (id, (_, _, _, _, acknowledged_at)) = by_code(conn, &code)?;
        if acknowledged_at.is_some() {
            return Ok(false);
        }
        diesel::update(handoffs::table.filter(handoffs::id.eq(Id(id))))
            .set((
                handoffs::acknowledged_at.eq(Some(time::now())),
                handoffs::shared_name.eq(None::<String>),
                handoffs::shared_contact.eq(None::<String>),
            ))
            .execute(conn)?;
        Ok(true)
    })
    .await
}

/// A request's latest hand-off: when it was sent and when the program acknowledged it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandoffStatus {
    pub sent_at: NaiveDateTime,
    pub acknowledged_at: Option<NaiveDateTime>,
}

/// For coordinators following an escalation.
pub async fn status(
    db: &Db,
    who: &crate::access::Principal,
    request: Uuid,
) -> Result<Option<HandoffStatus>, CoreError> {
    crate::access::authorize(who, crate::access::Operation::CoordinateRequests)?;
    db.run(move |conn| {
        Ok(handoffs::table
            .filter(handoffs::request_id.eq(Id(request)))
            .order(handoffs::created_at.desc())
            .select((handoffs::created_at, handoffs::acknowledged_at))
            .first::<(NaiveDateTime, Option<NaiveDateTime>)>(conn)
            .optional()?
            .map(|(sent_at, acknowledged_at)| HandoffStatus {
                sent_at,
                acknowledged_at,
            }))
    })
    .await
}
