//! `alongside admin audit verify | witness`: the audit log's chains and their signed heads.

use std::path::PathBuf;

use alongside_core::db::DbConnection;
use anyhow::bail;

use crate::config::Config;

pub fn verify(
    config: &Config,
    conn: &mut DbConnection,
    witness: Vec<PathBuf>,
) -> anyhow::Result<()> {
    use alongside_core::audit::witness as audit_witness;
    let configured = config.maintenance.witness_file(&config.data_dir);
    let files = if witness.is_empty() {
        configured
            .exists()
            .then_some(configured)
            .into_iter()
            .collect()
    } else {
        witness
    };
    let keys = node_public_keys(&config.data_dir)?;
    let mut heads = Vec::new();
    for file in &files {
        heads.extend(audit_witness::read(file, &keys)?);
    }
    let report = alongside_core::audit::verify_against(conn, &heads)?;
    let (main, case) = (report.main.entries, report.case.entries);
    match report.broken() {
        None if files.is_empty() => {
            println!(
                "Audit log intact: {main} entries and {case} about support cases, every \
                 hash checks. No witness file was found, so a chain rebuilt after an \
                 edit would not show: see docs/operations.md."
            );
            Ok(())
        }
        None => {
            println!(
                "Audit log intact: {main} entries and {case} about support cases, every \
                 hash checks, and both chains pass through all {} witnessed heads.",
                heads.len()
            );
            Ok(())
        }
        Some((chain, seq, why)) => {
            bail!(
                "audit log broken at entry {seq} of {}: {why} ({} entries before it \
                 check)",
                chain.described(),
                report.of(chain).entries
            )
        }
    }
}

pub fn witness(config: &Config, conn: &mut DbConnection) -> anyhow::Result<()> {
    crate::files::private_dir(&config.data_dir)?;
    let (key, _) = alongside_core::tokens::NodeKey::load_or_create(&config.data_dir)?;
    let file = config.maintenance.witness_file(&config.data_dir);
    let witnessed = alongside_core::audit::witness::witness(
        conn,
        &key,
        &file,
        None,
        alongside_core::time::now(),
    )?;
    println!(
        "Witnessed the audit heads at entry {} (and entry {} of the case entries) in {}.",
        witnessed.heads.main.0,
        witnessed.heads.case_entries(),
        file.display()
    );
    Ok(())
}

/// The node's current public key and every one it rotated away from, to check what it signed.
fn node_public_keys(
    data_dir: &std::path::Path,
) -> anyhow::Result<Vec<alongside_core::audit::witness::PublicKey>> {
    let mut keys = Vec::new();
    if alongside_core::tokens::NodeKey::path_in(data_dir).exists() {
        let (key, _) = alongside_core::tokens::NodeKey::load_or_create(data_dir)?;
        keys.push((key.kid().to_owned(), key.public_key_bytes()));
    }
    for old in alongside_core::keyring::every_retired(data_dir)? {
        if let Some(bytes) = old.public_key_bytes() {
            keys.push((old.kid, bytes));
        }
    }
    Ok(keys)
}
