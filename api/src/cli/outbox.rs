//! `alongside admin outbox list | requeue`: what waits to be delivered; a dead letter sent again.

use alongside_core::db::DbConnection;

pub fn list(conn: &mut DbConnection, dead: bool) -> anyhow::Result<()> {
    use alongside_core::schema::outbox;
    use diesel::prelude::*;
    let mut q = outbox::table.into_boxed();
    if dead {
        q = q.filter(outbox::state.eq("dead"));
    }
    let rows: Vec<(uuid::Uuid, String, String, String, i32, Option<String>)> = q
        .order(outbox::id.desc())
        .limit(100)
        .select((
            outbox::id,
            outbox::channel,
            outbox::topic,
            outbox::state,
            outbox::attempts,
            outbox::last_error,
        ))
        .load(conn)?;
    for (counts_state, n) in alongside_core::notify::outbox::counts(conn)? {
        print!("{counts_state}: {n}   ");
    }
    println!();
    for (id, channel, topic, state, attempts, error) in rows {
        println!(
            "{id}  {channel:7} {topic:16} {state:10} attempts={attempts} {}",
            error.unwrap_or_default()
        );
    }
    Ok(())
}

pub fn requeue(conn: &mut DbConnection, id: String) -> anyhow::Result<()> {
    let id = alongside_core::ids::parse_id("id", &id)?;
    alongside_core::notify::outbox::requeue_unchecked(conn, id)?;
    println!("Re-queued {id}; the next delivery attempt is due now.");
    Ok(())
}
