//! `alongside admin import-staff FILE.csv [--dry-run]`: the staff roster from a CSV export.

use alongside_core::db::DbConnection;
use anyhow::Context;

pub fn run(conn: &mut DbConnection, file: std::path::PathBuf, dry_run: bool) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
    let report = alongside_core::staff_import::import(conn, &text, dry_run)?;
    for r in &report.rejected {
        eprintln!("{}:{}: {}", file.display(), r.line, r.reason);
    }
    if !report.rejected.is_empty() {
        anyhow::bail!(
            "{} row(s) rejected: nothing was imported; fix them and run again",
            report.rejected.len()
        );
    }
    let verb = if report.applied { "" } else { "would be " };
    println!(
        "{} {verb}created, {} {verb}updated ({} {verb}deactivated), {} unchanged{}",
        report.created,
        report.updated,
        report.deactivated,
        report.unchanged,
        if report.applied {
            "."
        } else {
            " (dry run: nothing changed)."
        }
    );
    Ok(())
}
