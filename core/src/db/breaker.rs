//! Failing fast while the database is down. Once a call finds no database, the next second's
//! calls are refused at once with `UNAVAILABLE` instead of each waiting out the pool's
//! connection timeout; after that, one call at a time probes, and the first success lets
//! everyone through again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::error::CoreError;

/// How long calls are refused after a failure before the next probe.
const REFUSE_FOR: Duration = Duration::from_secs(1);

#[derive(Debug)]
pub(crate) struct Breaker {
    origin: Instant,
    /// Milliseconds since `origin` until which calls are refused; 0 while the database answers.
    refuse_until_ms: AtomicU64,
    /// Set while one call is trying the database after the refusal window.
    probing: AtomicBool,
}

/// Admission to the database: held until the call's outcome is recorded. Dropping a probe's
/// admission frees the probe's place.
#[derive(Debug)]
pub(crate) struct Admission {
    probe: Option<Probe>,
}

impl Admission {
    const OPEN: Self = Self { probe: None };

    /// Whether this call is the one trying a database that was down.
    pub(crate) fn is_probe(&self) -> bool {
        self.probe.is_some()
    }
}

#[derive(Debug)]
pub(crate) struct Probe(Arc<Breaker>);

impl Drop for Probe {
    fn drop(&mut self) {
        self.0.probing.store(false, Ordering::Release);
    }
}

impl Default for Breaker {
    fn default() -> Self {
        Self {
            origin: Instant::now(),
            refuse_until_ms: AtomicU64::new(0),
            probing: AtomicBool::new(false),
        }
    }
}

impl Breaker {
    fn now_ms(&self) -> u64 {
        // Never 0, which means "closed".
        u64::try_from(self.origin.elapsed().as_millis()).unwrap_or(u64::MAX) + 1
    }

    /// Whether a call may go to the database now.
    pub(crate) fn admit(self: &Arc<Self>) -> Result<Admission, CoreError> {
        let until = self.refuse_until_ms.load(Ordering::Acquire);
        if until == 0 {
            return Ok(Admission::OPEN);
        }
        let now = self.now_ms();
        if now < until {
            return Err(refused(until - now));
        }
        if self
            .probing
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            Ok(Admission {
                probe: Some(Probe(self.clone())),
            })
        } else {
            Err(refused(REFUSE_FOR.as_millis() as u64))
        }
    }

    /// Records how a call that was let through went.
    pub(crate) fn record<T>(&self, result: &Result<T, CoreError>) {
        match result {
            Err(CoreError::Unavailable { .. }) => {
                let until = self.now_ms() + REFUSE_FOR.as_millis() as u64;
                self.refuse_until_ms.store(until, Ordering::Release);
            }
            // Any other answer came from a live database.
            _ => {
                if self.refuse_until_ms.load(Ordering::Acquire) != 0 {
                    self.refuse_until_ms.store(0, Ordering::Release);
                }
            }
        }
    }
}

fn refused(wait_ms: u64) -> CoreError {
    CoreError::Unavailable {
        detail: "refused without trying: the database did not answer moments ago".into(),
        retry_after_secs: wait_ms.div_ceil(1000).max(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn down() -> Result<(), CoreError> {
        Err(CoreError::unavailable("connection refused"))
    }

    #[test]
    fn a_failure_refuses_the_next_calls_then_one_probe_at_a_time_and_a_success_reopens() {
        let breaker = Arc::new(Breaker::default());
        assert!(!breaker.admit().unwrap().is_probe());
        breaker.record(&down());
        let refused = breaker.admit().unwrap_err();
        assert_eq!(refused.code(), crate::error::ErrorCode::Unavailable);
        assert_eq!(refused.retry_after(), Some(1));

        // Pretend the refusal window has passed.
        breaker.refuse_until_ms.store(1, Ordering::Release);
        let probe = breaker.admit().unwrap();
        assert!(probe.is_probe());
        assert!(breaker.admit().is_err(), "a second probe must wait");
        drop(probe);
        let probe = breaker.admit().unwrap();
        breaker.record::<()>(&Ok(()));
        drop(probe);
        assert!(!breaker.admit().unwrap().is_probe());
    }

    #[test]
    fn errors_that_came_from_a_live_database_do_not_refuse() {
        let breaker = Arc::new(Breaker::default());
        breaker.record::<()>(&Err(CoreError::NotFound("thing")));
        breaker.record::<()>(&Err(CoreError::internal("syntax error")));
        assert!(!breaker.admit().unwrap().is_probe());
    }
}
