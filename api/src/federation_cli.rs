//! `alongside keys …` and `alongside federation …`: the operator's side of node identity and
//! membership. They work on the node's data directory and database, so they can run while
//! `serve` runs (a key rotation takes effect when `serve` restarts).

use alongside_core::keyring;
use alongside_core::tokens::NodeKey;
use alongside_core::vocab::{FederationMode, MemberStatus};
use alongside_federation::descriptor::PublicKey;
use alongside_federation::service::{apply_member_status, issue_manifest};
use alongside_federation::store::{self, Settings};
use anyhow::{Context, bail};

use crate::config::Config;
use crate::node;

pub fn keys_generate(config: &Config) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
    let (key, created) = NodeKey::load_or_create(&config.data_dir)?;
    if created {
        println!(
            "Generated signing key {} in {}",
            key.kid(),
            NodeKey::path_in(&config.data_dir).display()
        );
    } else {
        println!(
            "A signing key already exists ({}); use `alongside keys rotate` to replace it.",
            key.kid()
        );
    }
    Ok(())
}

pub fn keys_rotate(config: &Config, grace_hours: i64) -> anyhow::Result<()> {
    if grace_hours < 1 {
        bail!(
            "--grace-hours must be at least 1, so calls and tokens signed just before the rotation still verify"
        );
    }
    if !NodeKey::path_in(&config.data_dir).exists() {
        bail!(
            "there is no signing key in {}; run `alongside keys generate` first",
            config.data_dir.display()
        );
    }
    // Open the database first: a steward's rotation must be followed by its transition manifest.
    let db = node::open_database(config)?;
    node::migrate(&db)?;
    let (old_key, _) = NodeKey::load_or_create(&config.data_dir)?;
    let (old, new) = keyring::rotate(
        &config.data_dir,
        chrono::Duration::hours(grace_hours),
        alongside_core::time::now(),
    )?;
    println!("Rotated: new signing key {new}; {old} stays published for {grace_hours} h.");
    println!("Restart `alongside serve` to sign with the new key.");
    let mut conn = db.get()?;
    match store::settings(&mut conn)?.map(|s| s.mode) {
        Some(FederationMode::Steward) => {
            // A last manifest signed with the old key lists the new one, so members re-pin.
            let (new_key, _) = NodeKey::load_or_create(&config.data_dir)?;
            let m = issue_manifest(
                &mut conn,
                &old_key,
                &own_keys(config, &new_key)?,
                &config.node.id,
                u32::try_from(config.metrics.suppression_k).unwrap_or(u32::MAX),
                chrono::Duration::hours(config.federation.manifest_lifetime_hours),
            )?;
            println!(
                "Issued manifest serial {} signed with {old}, listing {new}: members pin the new key",
                m.serial
            );
            println!(
                "when they fetch it (every federation.manifest_refresh_secs). Restart `serve` after that."
            );
        }
        Some(FederationMode::Member) => {
            println!(
                "The steward reads the new key from this node's descriptor and lists it in its next manifest."
            );
        }
        None => {}
    }
    Ok(())
}

pub fn keys_list(config: &Config) -> anyhow::Result<()> {
    let path = NodeKey::path_in(&config.data_dir);
    if !path.exists() {
        bail!(
            "no signing key in {}; run `alongside keys generate` (or `serve`, which creates one)",
            config.data_dir.display()
        );
    }
    let (key, _) = NodeKey::load_or_create(&config.data_dir)?;
    println!("{}  current", key.kid());
    for k in keyring::retired(&config.data_dir, alongside_core::time::now())? {
        println!(
            "{}  retired {}  published until {}",
            k.kid,
            k.retired_at.format("%Y-%m-%d %H:%M"),
            k.expires_at.format("%Y-%m-%d %H:%M UTC")
        );
    }
    Ok(())
}

/// This node's public keys: the current one and retired ones still published.
fn own_keys(config: &Config, current: &NodeKey) -> anyhow::Result<Vec<PublicKey>> {
    let mut keys = vec![PublicKey::current(current)];
    keys.extend(
        keyring::retired(&config.data_dir, alongside_core::time::now())?
            .iter()
            .map(PublicKey::retired),
    );
    Ok(keys)
}

fn key_and_db(config: &Config) -> anyhow::Result<(NodeKey, alongside_core::db::Db)> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
    let db = node::open_database(config)?;
    node::migrate(&db)?;
    let (key, _) = NodeKey::load_or_create(&config.data_dir)?;
    Ok((key, db))
}

pub fn init_steward(config: &Config) -> anyhow::Result<()> {
    let (key, db) = key_and_db(config)?;
    let mut conn = db.get()?;
    if let Some(s) = store::settings(&mut conn)?
        && s.mode == FederationMode::Member
    {
        bail!("this node is already a member of a federation; a steward runs on a node of its own");
    }
    store::set_settings(
        &mut conn,
        &Settings {
            mode: FederationMode::Steward,
            steward_id: Some(config.node.id.clone()),
            steward_url: None,
            steward_keys: vec![],
        },
    )?;
    let m = issue_manifest(
        &mut conn,
        &key,
        &own_keys(config, &key)?,
        &config.node.id,
        u32::try_from(config.metrics.suppression_k).unwrap_or(u32::MAX),
        chrono::Duration::hours(config.federation.manifest_lifetime_hours),
    )?;
    let pk = PublicKey::current(&key);
    println!(
        "{} is now the steward of a federation (manifest serial {}).",
        config.node.id, m.serial
    );
    println!("Give members this URL and key id, to pin when they ask to join:");
    println!(
        "  alongside federation request-join --steward {} --steward-key {}",
        config.issuer(&config.bind),
        pk.kid
    );
    Ok(())
}

pub fn request_join(
    config: &Config,
    steward: &str,
    steward_key: Option<&str>,
) -> anyhow::Result<()> {
    {
        let (_, db) = key_and_db(config)?;
        let mut conn = db.get()?;
        if store::settings(&mut conn)?.is_some_and(|s| s.mode == FederationMode::Steward) {
            bail!("this node is a federation's steward; a member runs on a node of its own");
        }
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let issuer = config.issuer(&config.bind);
    let (state, _) = node::prepare(config.clone(), issuer)?;
    let descriptor = runtime
        .block_on(state.federation.request_join(steward, steward_key))
        .map_err(|e| anyhow::anyhow!("{} ({})", e, e.code()))?;
    println!(
        "Asked {} ({}) to admit {}.",
        descriptor.name, descriptor.id, config.node.id
    );
    println!(
        "Pinned the steward's key(s): {}",
        descriptor
            .keys
            .iter()
            .filter(|k| k.expires_at.is_none())
            .map(|k| k.kid.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "Once the steward's admin approves, `serve` fetches the manifest within federation.manifest_refresh_secs."
    );
    Ok(())
}

pub fn set_status(config: &Config, node_id: &str, status: MemberStatus) -> anyhow::Result<()> {
    let (key, db) = key_and_db(config)?;
    let mut conn = db.get()?;
    let m = apply_member_status(
        &mut conn,
        &key,
        &own_keys(config, &key)?,
        &config.node.id,
        node_id,
        status,
        u32::try_from(config.metrics.suppression_k).unwrap_or(u32::MAX),
        chrono::Duration::hours(config.federation.manifest_lifetime_hours),
    )
    .map_err(|e| match e {
        alongside_core::CoreError::NotFound(_) => anyhow::anyhow!(
            "{node_id} has not asked to join this federation (see `alongside federation status`)"
        ),
        other => other.into(),
    })?;
    println!(
        "{node_id} is now {status}; manifest serial {} issued.",
        m.serial
    );
    Ok(())
}

pub fn status(config: &Config) -> anyhow::Result<()> {
    let (_, db) = key_and_db(config)?;
    let mut conn = db.get()?;
    let Some(s) = store::settings(&mut conn)? else {
        println!("{} is not in a federation.", config.node.id);
        println!("Start one with `alongside federation init-steward`, or join one with");
        println!("`alongside federation request-join --steward URL --steward-key KID`.");
        return Ok(());
    };
    println!("node: {}   mode: {}", config.node.id, s.mode);
    if let Some(id) = &s.steward_id {
        println!("steward: {id} {}", s.steward_url.as_deref().unwrap_or(""));
    }
    match store::manifest(&mut conn)? {
        Some(m) => println!(
            "manifest: serial {}, expires {}",
            m.serial,
            m.expires_at.format("%Y-%m-%d %H:%M UTC")
        ),
        None => println!("manifest: none yet"),
    }
    if s.mode == FederationMode::Steward {
        for r in store::members(&mut conn)? {
            println!(
                "  {:10} {}  {}  {}",
                r.member.status.as_str(),
                r.member.node_id,
                r.member.name,
                r.member.base_url
            );
        }
    }
    for st in store::sync_states(&mut conn)? {
        println!(
            "  sync {} cursor {} last {} failures {} {}",
            st.origin,
            st.cursor,
            st.synced_at
                .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_else(|| "never".into()),
            st.failures,
            st.last_error.unwrap_or_default()
        );
    }
    Ok(())
}
