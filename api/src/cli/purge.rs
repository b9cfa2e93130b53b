//! `alongside admin purge`: retention now, rather than at the scheduler's next hourly round.

use alongside_core::db::Db;

use crate::config::Config;

pub fn run(config: &Config, db: &Db, days: Option<u32>) -> anyhow::Result<()> {
    let days = days.unwrap_or(config.maintenance.retention_days);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let report = runtime.block_on(alongside_core::retention::purge_with(
        db,
        alongside_core::time::now(),
        alongside_core::retention::Policy {
            days,
            involvement_years: config.maintenance.event_involvement_years,
        },
    ))?;
    println!(
        "Removed {} ended case(s) and {} outreach record(s) older than {days} days, and {} \
         involvement(s) of events closed before then or recorded more than {} years ago; \
         de-identified counts were kept.",
        report.requests,
        report.outreach,
        report.involvements,
        config.maintenance.event_involvement_years
    );
    Ok(())
}
