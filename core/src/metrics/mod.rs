//! Program metrics: aggregates only, suppressed before anyone sees them.

pub mod program;
pub mod suppression;
