//! `alongside keys …` and `alongside federation …`: the operator's side of node identity and
//! membership. They work on the node's data directory and database, so they can run while
//! `serve` runs (a key rotation takes effect when `serve` restarts).

use alongside_core::access::Principal;
use alongside_core::keyring;
use alongside_core::tokens::NodeKey;
use alongside_core::vocab::{FederationMode, MemberStatus};
use alongside_federation::{FedError, Federation};
use anyhow::{Context, bail};

use crate::config::Config;
use crate::node;

pub fn keys_generate(config: &Config) -> anyhow::Result<()> {
    crate::files::private_dir(&config.data_dir)?;
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
    // The federation first, holding the old key: a steward's rotation is followed by a
    // transition manifest signed with it that lists the new one.
    let fed = node::federation_only(config)?;
    let (old, new) = keyring::rotate(
        &config.data_dir,
        chrono::Duration::hours(grace_hours),
        alongside_core::time::now(),
    )?;
    println!("Rotated: new signing key {new}; {old} stays published for {grace_hours} h.");
    println!("Restart `alongside serve` to sign with the new key.");
    match on_its_own_thread(fed.mode())?? {
        Some(FederationMode::Steward) => {
            let m =
                on_its_own_thread(fed.issue_manifest(&Principal::Operator))?.map_err(fed_error)?;
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

/// Runs one of the federation's calls to completion on a thread of its own, so the operator's
/// commands work both from a shell and from inside a test's runtime.
fn on_its_own_thread<F>(work: F) -> anyhow::Result<F::Output>
where
    F: std::future::Future + Send,
    F::Output: Send,
{
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map(|rt| rt.block_on(work))
            })
            .join()
            .map_err(|_| anyhow::anyhow!("the federation command stopped unexpectedly"))?
            .context("cannot start the federation command's runtime")
    })
}

fn fed_error(e: FedError) -> anyhow::Error {
    anyhow::anyhow!("{e} ({})", e.code())
}

fn federation(config: &Config) -> anyhow::Result<Federation> {
    node::federation_only(config)
}

pub fn init_steward(config: &Config) -> anyhow::Result<()> {
    let fed = federation(config)?;
    let m = on_its_own_thread(fed.become_steward(&Principal::Operator))?.map_err(fed_error)?;
    let kid = fed
        .own_descriptor(true)
        .keys
        .first()
        .map(|k| k.kid.clone())
        .unwrap_or_default();
    println!(
        "{} is now the steward of a federation (manifest serial {}).",
        config.node.id, m.serial
    );
    println!("Give members this URL and key id, to pin when they ask to join:");
    println!(
        "  alongside federation request-join --steward {} --steward-key {kid}",
        config.issuer(&config.bind),
    );
    Ok(())
}

pub fn request_join(
    config: &Config,
    steward: &str,
    steward_key: Option<&str>,
) -> anyhow::Result<()> {
    let fed = federation(config)?;
    let descriptor =
        on_its_own_thread(fed.request_join(&Principal::Operator, steward, steward_key))?
            .map_err(fed_error)?;
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
    let fed = federation(config)?;
    let (_, m) = on_its_own_thread(fed.set_member_status(
        &Principal::Operator,
        node_id.to_owned(),
        status,
    ))?
    .map_err(|e| match e {
        FedError::Core(alongside_core::CoreError::NotFound(_)) => anyhow::anyhow!(
            "{node_id} has not asked to join this federation (see `alongside federation status`)"
        ),
        other => fed_error(other),
    })?;
    println!(
        "{node_id} is now {status}; manifest serial {} issued.",
        m.serial
    );
    Ok(())
}

pub fn status(config: &Config) -> anyhow::Result<()> {
    let fed = federation(config)?;
    let s = on_its_own_thread(fed.status(&Principal::Operator))?.map_err(fed_error)?;
    let Some(mode) = s.mode else {
        println!("{} is not in a federation.", config.node.id);
        println!("Start one with `alongside federation init-steward`, or join one with");
        println!("`alongside federation request-join --steward URL --steward-key KID`.");
        return Ok(());
    };
    println!("node: {}   mode: {mode}", config.node.id);
    if let Some(id) = &s.steward_id {
        println!("steward: {id} {}", s.steward_url.as_deref().unwrap_or(""));
    }
    match &s.manifest {
        Some(m) => println!(
            "manifest: serial {}, expires {}",
            m.serial,
            m.expires_at.format("%Y-%m-%d %H:%M UTC")
        ),
        None => println!("manifest: none yet"),
    }
    if let Some(problem) = &s.problem {
        println!(
            "problem: {} {problem}",
            s.problem_code.as_deref().unwrap_or_default()
        );
        if let Some(hint) = s.problem_code.as_deref().and_then(what_to_do) {
            println!("  what to do: {hint}");
        }
    }
    for r in &s.members {
        println!(
            "  {:10} {}  {}  {}",
            r.member.status.as_str(),
            r.member.node_id,
            r.member.name,
            r.member.base_url
        );
    }
    for st in s.sync {
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
    match s.problem_code {
        Some(code) => bail!("the federation is not healthy on this node ({code})"),
        None => Ok(()),
    }
}

/// What an operator does about a problem `federation status` names.
fn what_to_do(code: &str) -> Option<&'static str> {
    Some(match code {
        "MANIFEST_UNTRUSTED_SIGNER" => {
            "the steward signs with a key this node has not pinned (a rotation it missed, and no bridge left). Ask the steward's operator for their current key id (`alongside keys list`), then run `alongside federation repin --steward-key KID`."
        }
        "MANIFEST_EXPIRED" | "MANIFEST_MISSING" => {
            "the steward has not been reached: check federation.steward_url, the network, and that the steward's admins approved this node."
        }
        "FEDERATION_NOT_ACTIVE" => {
            "the steward has suspended this node or no longer lists it; ask the steward's admins. Matches, introductions and the network directory wait until it is active again."
        }
        "FEDERATION_UNREACHABLE" | "FEDERATION_TIMEOUT" | "MANIFEST_UNAVAILABLE" => {
            "the steward did not answer; the manifest held is used until it expires. Check the steward's URL and that it is up."
        }
        _ => return None,
    })
}

pub fn repin(config: &Config, steward_key: &str) -> anyhow::Result<()> {
    let fed = federation(config)?;
    let serial =
        on_its_own_thread(fed.repin(&Principal::Operator, steward_key))?.map_err(fed_error)?;
    println!("Pinned steward key {steward_key}; manifest serial {serial} verified and held.");
    Ok(())
}
