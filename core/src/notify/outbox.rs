//! The outbox table: enqueue inside the caller's transaction, claim for delivery (row locks taken
//! with SKIP LOCKED on PostgreSQL, SQLite's one writer at a time: a row goes to one worker),
//! record success (a batch at a time), retry with capped exponential backoff and jitter,
//! dead-letter after too many attempts, and re-queue by an admin.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text, Timestamp};
use uuid::Uuid;

use crate::access::{Operation, Principal, authorize};
use crate::db::together::Writes;
use crate::db::{Db, DbConnection, Id};
use crate::error::CoreError;
use crate::ids::new_id;
use crate::schema::outbox;
use crate::stored::to_json;
use crate::{secrets, time};

use super::templates::{Topic, Vars};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Email,
    Webhook,
    /// A message to another node of the federation (an introduction or its answer).
    Federation,
    /// A text message (SMS, or a pager through its email gateway) to a phone number.
    Text,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Webhook => "webhook",
            Self::Federation => "federation",
            Self::Text => "text",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboxState {
    Pending,
    Delivering,
    Done,
    Dead,
}

impl OutboxState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivering => "delivering",
            Self::Done => "done",
            Self::Dead => "dead",
        }
    }
}

/// What the outbox erases of a message's payload, declared with it when it is queued: a
/// property of its topic, so the outbox itself knows no topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Erase {
    Never,
    /// Once delivered.
    Delivered,
    /// Once delivered, or when given up on (dead-lettered): it held what a person chose to share.
    DeliveredOrDead,
}

impl Erase {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Never => "never",
            Self::Delivered => "delivered",
            Self::DeliveredOrDead => "delivered_or_dead",
        }
    }
}

#[derive(Debug, Clone, Queryable, QueryableByName)]
#[diesel(table_name = outbox)]
pub struct OutboxRow {
    pub id: Uuid,
    pub channel: String,
    pub topic: String,
    /// Sent with the message (email Message-ID, webhook delivery id) so a receiver recognises a
    /// redelivery after a crash.
    pub idempotency_key: String,
    pub recipient: String,
    pub payload: String,
    pub state: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub locked_until: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
    /// [`Erase`] as stored.
    pub erase: String,
}

/// Queues an email to `to` (an address) about `topic`. `key` makes the row unique: the same
/// change never queues the same message twice.
pub fn enqueue_email(
    conn: &mut DbConnection,
    topic: Topic,
    to: &str,
    key: &str,
    vars: &Vars,
) -> Result<(), CoreError> {
    use crate::schema::people;
    // The recipient's language, as their profile says now; nobody the hospital's records mark
    // as gone is written to.
    let person: Option<(Option<String>, bool)> = people::table
        .filter(people::email.eq(to.trim().to_lowercase()))
        .select((people::locale, people::active))
        .first(conn)
        .optional()?;
    if matches!(person, Some((_, false))) {
        return Ok(());
    }
    let mut vars = vars.clone();
    if vars.locale.is_none() {
        vars.locale = person.and_then(|(locale, _)| locale);
    }
    enqueue(
        conn,
        Channel::Email,
        topic.as_str(),
        to,
        key,
        &to_json(&vars)?,
        topic.erase(),
    )
}

/// Whether a person who has an email address gets a text message as well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlsoText {
    /// Where they chose text messages (offers, alerts, urgent outreach: minutes count).
    IfChosen,
    /// Email only.
    Never,
}

/// How a message reached a person: by email, by text, both, or neither (no channel, or the
/// hospital's records mark them as gone).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reached {
    pub email: bool,
    pub text: bool,
}

/// Queues a message about `topic` to a person through whatever channel they have: email where
/// they have an address, a text where they chose texts (if `also`) or where a phone number is
/// all the node has for them. Nothing for a deactivated person.
pub fn enqueue_for_person(
    conn: &mut DbConnection,
    topic: Topic,
    person: Uuid,
    key: &str,
    vars: &Vars,
    also: AlsoText,
) -> Result<Reached, CoreError> {
    let mut writes = Writes::new();
    let reached = enqueue_for_person_with(conn, &mut writes, topic, person, key, vars, also)?;
    writes.finish(conn)?;
    Ok(reached)
}

/// [`enqueue_for_person`], its rows held in `writes` (an email and a text: one statement).
pub(crate) fn enqueue_for_person_with(
    conn: &mut DbConnection,
    writes: &mut Writes,
    topic: Topic,
    person: Uuid,
    key: &str,
    vars: &Vars,
    also: AlsoText,
) -> Result<Reached, CoreError> {
    let Some(c) = contact_of(conn, person)? else {
        return Ok(Reached::default());
    };
    enqueue_for_contact(conn, writes, topic, &c, key, vars, also)
}

/// [`enqueue_for_person_with`] for a person whose channels the caller has just read (an active
/// person's).
pub(crate) fn enqueue_for_contact(
    conn: &mut DbConnection,
    writes: &mut Writes,
    topic: Topic,
    c: &Contact,
    key: &str,
    vars: &Vars,
    also: AlsoText,
) -> Result<Reached, CoreError> {
    let mut reached = Reached::default();
    if let Some(email) = &c.email {
        let mut vars = vars.clone();
        if vars.locale.is_none() {
            vars.locale.clone_from(&c.locale);
        }
        enqueue_with(
            conn,
            writes,
            Channel::Email,
            topic.as_str(),
            email,
            key,
            &to_json(&vars)?,
            topic.erase(),
        )?;
        reached.email = true;
    }
    let wants_text = c.email.is_none() || (also == AlsoText::IfChosen && c.text_messages);
    if wants_text {
        reached.text = text(conn, writes, topic, c, key, vars)?;
    }
    Ok(reached)
}

/// A person's channels: where and in which language a message reaches them.
#[derive(Debug, Clone)]
pub(crate) struct Contact {
    pub(crate) email: Option<String>,
    pub(crate) phone: Option<String>,
    pub(crate) text_messages: bool,
    pub(crate) locale: Option<String>,
}

#[derive(Queryable)]
struct ContactRow {
    email: Option<String>,
    phone: Option<String>,
    text_messages: bool,
    locale: Option<String>,
    active: bool,
}

/// A person's channels, or `None` when they are unknown or deactivated.
fn contact_of(conn: &mut DbConnection, person: Uuid) -> Result<Option<Contact>, CoreError> {
    use crate::schema::people;
    let found: Option<ContactRow> = people::table
        .filter(people::id.eq(Id(person)))
        .select((
            people::email,
            people::phone,
            people::text_messages,
            people::locale,
            people::active,
        ))
        .first(conn)
        .optional()?;
    Ok(found.filter(|r| r.active).map(|r| Contact {
        email: r.email,
        phone: r.phone,
        text_messages: r.text_messages,
        locale: r.locale,
    }))
}

fn text(
    conn: &mut DbConnection,
    writes: &mut Writes,
    topic: Topic,
    c: &Contact,
    key: &str,
    vars: &Vars,
) -> Result<bool, CoreError> {
    let Some(phone) = &c.phone else {
        return Ok(false);
    };
    let mut vars = vars.clone();
    if vars.locale.is_none() {
        vars.locale.clone_from(&c.locale);
    }
    enqueue_with(
        conn,
        writes,
        Channel::Text,
        topic.as_str(),
        phone,
        &format!("text:{key}"),
        &to_json(&vars)?,
        topic.erase(),
    )?;
    Ok(true)
}

pub(crate) fn enqueue(
    conn: &mut DbConnection,
    channel: Channel,
    topic: &str,
    recipient: &str,
    key: &str,
    payload: &str,
    erase: Erase,
) -> Result<(), CoreError> {
    let mut writes = Writes::new();
    enqueue_with(
        conn,
        &mut writes,
        channel,
        topic,
        recipient,
        key,
        payload,
        erase,
    )?;
    writes.finish(conn)
}

/// [`enqueue`], the row held in `writes`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn enqueue_with(
    conn: &mut DbConnection,
    writes: &mut Writes,
    channel: Channel,
    topic: &str,
    recipient: &str,
    key: &str,
    payload: &str,
    erase: Erase,
) -> Result<(), CoreError> {
    let now = time::now();
    // A duplicate key means this exact message is already queued: nothing to do (one statement,
    // not a look and then an insert).
    let insert = diesel::insert_into(outbox::table)
        .values((
            outbox::id.eq(Id(new_id())),
            outbox::channel.eq(channel.as_str()),
            outbox::topic.eq(topic.to_owned()),
            outbox::idempotency_key.eq(key.to_owned()),
            outbox::recipient.eq(recipient.to_owned()),
            outbox::payload.eq(payload.to_owned()),
            outbox::state.eq(OutboxState::Pending.as_str()),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(now),
            outbox::created_at.eq(now),
            outbox::erase.eq(erase.as_str()),
        ))
        .on_conflict(outbox::idempotency_key)
        .do_nothing();
    writes.insert(conn, insert)
}

/// Warm-up (`db::warm`): a message queued, in the warm-up's transaction that is rolled back.
pub(crate) fn warm(conn: &mut DbConnection) -> Result<(), CoreError> {
    enqueue(
        conn,
        Channel::Email,
        "warm-up",
        "",
        "warm-up",
        "{}",
        Erase::Never,
    )
}

/// A row claimed for delivery by one worker until `locked_until`.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub row: OutboxRow,
}

/// Rows claimed at most per statement on SQLite (its bound values are limited), and rows
/// marked done at most per statement on either backend.
const ROWS_PER_STATEMENT: usize = 500;

/// Claims up to `limit` due rows for `lease`. A row is due when pending and its time has come,
/// or when a previous claim's lease ran out (its worker died mid-delivery).
///
/// One statement on PostgreSQL for the whole batch (its rows locked with `SKIP LOCKED`, so two
/// workers never take the same row), three on SQLite (whose one writer at a time makes the
/// read and the update one step): a claim used to cost two statements a row.
pub fn claim(
    conn: &mut DbConnection,
    limit: i64,
    lease: Duration,
    now: NaiveDateTime,
) -> Result<Vec<Claimed>, CoreError> {
    let delivering = OutboxState::Delivering.as_str();
    let mut rows = conn.transaction(|conn| -> Result<Vec<OutboxRow>, CoreError> {
        crate::db::take_write_lock(conn)?;
        match conn {
            // Planned at each run, never kept prepared: a plan kept from when the table was
            // small would read all of it once it is not.
            DbConnection::Pg(pg) => Ok(diesel::sql_query(
                "UPDATE outbox SET state = $1, locked_until = $2, attempts = attempts + 1 \
                 WHERE id IN (SELECT id FROM outbox \
                 WHERE (state = 'pending' AND next_attempt_at <= $3) \
                 OR (state = 'delivering' AND locked_until < $3) \
                 ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED) \
                 RETURNING *",
            )
            .bind::<Text, _>(delivering)
            .bind::<Timestamp, _>(now + lease)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(limit)
            .load::<OutboxRow>(pg)?),
            DbConnection::Sqlite(_) => {
                let due = outbox::state
                    .eq(OutboxState::Pending.as_str())
                    .and(outbox::next_attempt_at.le(now))
                    .or(outbox::state
                        .eq(delivering)
                        .and(outbox::locked_until.lt(now)));
                let ids: Vec<Id> = outbox::table
                    .filter(due)
                    .order(outbox::next_attempt_at.asc())
                    .limit(limit)
                    .select(outbox::id)
                    .load::<Uuid>(conn)?
                    .into_iter()
                    .map(Id)
                    .collect();
                let mut rows = Vec::with_capacity(ids.len());
                for chunk in ids.chunks(ROWS_PER_STATEMENT) {
                    diesel::update(outbox::table.filter(outbox::id.eq_any(chunk)))
                        .set((
                            outbox::state.eq(delivering),
                            outbox::locked_until.eq(Some(now + lease)),
                            outbox::attempts.eq(outbox::attempts + 1),
                        ))
                        .execute(conn)?;
                    rows.extend(
                        outbox::table
                            .filter(outbox::id.eq_any(chunk))
                            .load::<OutboxRow>(conn)?,
                    );
                }
                Ok(rows)
            }
        }
    })?;
    // Oldest first, as they were chosen.
    rows.sort_by_key(|r| r.next_attempt_at);
    Ok(rows.into_iter().map(|row| Claimed { row }).collect())
}

/// Records the delivery of one row: see [`mark_all_done`].
pub fn mark_done(conn: &mut DbConnection, id: Uuid) -> Result<(), CoreError> {
    mark_all_done(conn, &[id])
}

/// Records the delivery of `ids`, a statement for up to [`ROWS_PER_STATEMENT`] of them: a
/// worker's batch is marked together, not a transaction a message.
pub fn mark_all_done(conn: &mut DbConnection, ids: &[Uuid]) -> Result<(), CoreError> {
    let now = time::now();
    // What its topic declared (a sign-in link, an acknowledgement code, what a person chose to
    // share) does not stay readable in the database once delivered.
    const DONE: &str = "UPDATE outbox SET \
        payload = CASE WHEN erase = $1 THEN payload ELSE '{}' END, \
        state = $2, delivered_at = $3, locked_until = NULL, last_error = NULL";
    for chunk in ids.chunks(ROWS_PER_STATEMENT) {
        match conn {
            // Planned at each run, as `claim`'s statement is.
            DbConnection::Pg(pg) => diesel::sql_query(format!("{DONE} WHERE id = ANY($4)"))
                .bind::<Text, _>(Erase::Never.as_str())
                .bind::<Text, _>(OutboxState::Done.as_str())
                .bind::<Timestamp, _>(now)
                .bind::<Array<Text>, _>(
                    chunk
                        .iter()
                        .map(|id| id.hyphenated().to_string())
                        .collect::<Vec<_>>(),
                )
                .execute(pg)?,
            DbConnection::Sqlite(c) => {
                let ids: Vec<Id> = chunk.iter().copied().map(Id).collect();
                diesel::update(
                    outbox::table
                        .filter(outbox::id.eq_any(&ids))
                        .filter(outbox::erase.ne(Erase::Never.as_str())),
                )
                .set(outbox::payload.eq("{}"))
                .execute(c)?;
                diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
                    .set((
                        outbox::state.eq(OutboxState::Done.as_str()),
                        outbox::delivered_at.eq(Some(now)),
                        outbox::locked_until.eq(None::<NaiveDateTime>),
                        outbox::last_error.eq(None::<String>),
                    ))
                    .execute(c)?
            }
        };
    }
    Ok(())
}

/// Retry policy: `base * 2^(attempt-1)`, capped, with ±20% jitter so retries spread out.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
    pub max_attempts: i32,
}

impl Backoff {
    pub fn delay(&self, attempt: i32) -> Duration {
        let exp = attempt.clamp(1, 30) - 1;
        let raw = self.base.num_milliseconds().saturating_mul(1i64 << exp);
        let capped = raw.min(self.max.num_milliseconds()).max(1);
        let jitter = secrets::random_bytes::<2>()
            .map(u16::from_le_bytes)
            .unwrap_or(0);
        // jitter in [-20%, +20%]
        let spread = capped / 5;
        let offset = if spread > 0 {
            i64::from(jitter) % (2 * spread + 1) - spread
        } else {
            0
        };
        Duration::milliseconds((capped + offset).max(1))
    }
}

/// Records a failed attempt: retried later, or dead-lettered after `max_attempts`, or at once when
/// `permanent` (e.g. a webhook endpoint answered 410 Gone).
pub fn mark_failed(
    conn: &mut DbConnection,
    row: &OutboxRow,
    error: &str,
    backoff: &Backoff,
    permanent: bool,
) -> Result<OutboxState, CoreError> {
    // A mail server's refusal may quote the address; the outbox never shows recipients.
    let error: String = error
        .split(' ')
        .map(|w| if w.contains('@') { "[address]" } else { w })
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(500)
        .collect();
    let dead = permanent || row.attempts >= backoff.max_attempts;
    let state = if dead {
        OutboxState::Dead
    } else {
        OutboxState::Pending
    };
    if dead && row.erase == Erase::DeliveredOrDead.as_str() {
        // A message that will not be delivered must not keep what a person shared.
        diesel::update(outbox::table.filter(outbox::id.eq(Id(row.id))))
            .set(outbox::payload.eq("{}"))
            .execute(conn)?;
    }
    diesel::update(outbox::table.filter(outbox::id.eq(Id(row.id))))
        .set((
            outbox::state.eq(state.as_str()),
            outbox::next_attempt_at.eq(time::now() + backoff.delay(row.attempts)),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(Some(error)),
        ))
        .execute(conn)?;
    Ok(state)
}

/// Rows in the dead-letter state, newest first. Admins.
pub async fn dead_letters(db: &Db, who: &Principal) -> Result<Vec<OutboxRow>, CoreError> {
    authorize(who, Operation::ManageAccounts)?;
    db.run(|conn| {
        Ok(outbox::table
            .filter(outbox::state.eq(OutboxState::Dead.as_str()))
            .order(outbox::id.desc())
            .limit(200)
            .load::<OutboxRow>(conn)?)
    })
    .await
}

/// Puts a dead row back in the queue with a fresh attempt count.
pub fn requeue_unchecked(conn: &mut DbConnection, id: Uuid) -> Result<OutboxRow, CoreError> {
    let erased: i64 = outbox::table
        .filter(outbox::id.eq(Id(id)))
        .filter(outbox::erase.eq(Erase::DeliveredOrDead.as_str()))
        .filter(outbox::state.eq(OutboxState::Dead.as_str()))
        .filter(outbox::payload.eq("{}"))
        .count()
        .get_result(conn)?;
    if erased > 0 {
        return Err(CoreError::Conflict(
            "this message's contents were erased when it was dead-lettered, as they held what a person chose to share; it cannot be sent again (the person can ask again)".into(),
        ));
    }
    let changed = diesel::update(
        outbox::table
            .filter(outbox::id.eq(Id(id)))
            .filter(outbox::state.eq(OutboxState::Dead.as_str())),
    )
    .set((
        outbox::state.eq(OutboxState::Pending.as_str()),
        outbox::attempts.eq(0),
        outbox::next_attempt_at.eq(time::now()),
        outbox::last_error.eq(None::<String>),
    ))
    .execute(conn)?;
    if changed == 0 {
        let exists: i64 = outbox::table
            .filter(outbox::id.eq(Id(id)))
            .count()
            .get_result(conn)?;
        return Err(if exists == 0 {
            CoreError::NotFound("outbox message")
        } else {
            CoreError::Conflict("only dead-lettered messages can be re-queued".into())
        });
    }
    Ok(outbox::table
        .filter(outbox::id.eq(Id(id)))
        .first::<OutboxRow>(conn)?)
}

pub async fn requeue(db: &Db, who: &Principal, id: Uuid) -> Result<OutboxRow, CoreError> {
    authorize(who, Operation::ManageAccounts)?;
    db.transaction(move |conn| requeue_unchecked(conn, id))
        .await
}

/// Counts by state, for operators and the metrics endpoint.
pub fn counts(conn: &mut DbConnection) -> Result<Vec<(String, i64)>, CoreError> {
    let states: Vec<String> = outbox::table.select(outbox::state).load(conn)?;
    let mut out: Vec<(String, i64)> = Vec::new();
    for s in [
        OutboxState::Pending,
        OutboxState::Delivering,
        OutboxState::Done,
        OutboxState::Dead,
    ] {
        out.push((
            s.as_str().to_owned(),
            states.iter().filter(|x| *x == s.as_str()).count() as i64,
        ));
    }
    Ok(out)
}

/// Outbox depth for monitoring: messages per channel and state, and the age of the oldest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Depth {
    pub channel: String,
    pub state: String,
    pub count: i64,
    /// Seconds since the oldest of them was queued.
    pub oldest_secs: i64,
}

pub fn depth(conn: &mut DbConnection, now: NaiveDateTime) -> Result<Vec<Depth>, CoreError> {
    let rows: Vec<(String, String, NaiveDateTime)> = outbox::table
        .filter(outbox::state.ne(OutboxState::Done.as_str()))
        .select((outbox::channel, outbox::state, outbox::created_at))
        .load(conn)?;
    let mut out: Vec<Depth> = Vec::new();
    for (channel, state, created) in rows {
        let age = (now - created).num_seconds().max(0);
        match out
            .iter_mut()
            .find(|d| d.channel == channel && d.state == state)
        {
            Some(d) => {
                d.count += 1;
                d.oldest_secs = d.oldest_secs.max(age);
            }
            None => out.push(Depth {
                channel,
                state,
                count: 1,
                oldest_secs: age,
            }),
        }
    }
    Ok(out)
}
