//! The threads that run database work: a fixed set, one per pooled connection, shared by every
//! runtime in the process.
//!
//! tokio's `spawn_blocking` keeps a pool per runtime (the node has three: the main one and one
//! per HTTP worker), and a call that arrives while the thread that just finished is not yet idle
//! again starts another thread. Under load that came to 46 threads for 8 connections, each
//! taking turns at the work and so each keeping a glibc arena warm: 30 MiB of arenas at the
//! peak of the load bench (docs/performance.md). Here the same threads do all of it; since
//! `Db`'s slots already let no more than one call per connection run at once, a call never
//! waits here for longer than a thread takes to pick it up.
//!
//! The idle threads wait on a condition variable, so a job wakes one of them and only one. A
//! shared `mpsc::Receiver` behind a mutex woke two: the thread waiting in `recv`, and, when it
//! let the lock go, the next one in line for the lock, which took it only to sleep again in
//! `recv` (#22: about a fifth of the node's voluntary switches under the mixed load).

use std::cell::Cell;
use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use crate::error::CoreError;

type Job = Box<dyn FnOnce() + Send + 'static>;

/// How many stripes a running total written by many transactions at once is kept in (see
/// `requests::workload`).
const STRIPES: usize = 16;

thread_local! {
    /// This thread's number among the database threads; 0 on any other thread.
    static NUMBER: Cell<usize> = const { Cell::new(0) };
}

/// The stripe of a running total this thread writes: each database thread runs one transaction
/// at a time, so no other transaction of this process writes the same stripe at once and none
/// waits for another's lock. Only a pool of more than [`STRIPES`] connections, another replica,
/// or work off these threads (the CLI) shares one, and then it waits, as before stripes.
pub(crate) fn stripe() -> i16 {
    i16::try_from(NUMBER.with(Cell::get) % STRIPES).unwrap_or(0)
}

/// The jobs not yet taken, and whether the handles are all gone.
#[derive(Default)]
struct Queue {
    waiting: Mutex<Waiting>,
    /// Told once for each job added, and to everyone when the last handle goes.
    added: Condvar,
}

#[derive(Default)]
struct Waiting {
    jobs: VecDeque<Job>,
    closed: bool,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, Waiting> {
        // A job runs outside the lock, so a panic cannot leave the queue half changed.
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn add(&self, job: Job) -> Result<(), CoreError> {
        let mut waiting = self.lock();
        if waiting.closed {
            return Err(CoreError::internal("the database threads have stopped"));
        }
        waiting.jobs.push_back(job);
        drop(waiting);
        self.added.notify_one();
        Ok(())
    }

    /// The next job, waiting for one; `None` once the handles are gone and none is left.
    fn next(&self) -> Option<Job> {
        let mut waiting = self.lock();
        loop {
            if let Some(job) = waiting.jobs.pop_front() {
                return Some(job);
            }
            if waiting.closed {
                return None;
            }
            waiting = self
                .added
                .wait(waiting)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// Held by the handles alone: when the last goes, the threads are told to end.
struct Closer(Arc<Queue>);

impl Drop for Closer {
    fn drop(&mut self) {
        self.0.lock().closed = true;
        self.0.added.notify_all();
    }
}

/// A handle on the threads; they end when the last handle is dropped.
#[derive(Clone)]
pub(crate) struct DbThreads {
    jobs: Arc<Queue>,
    _closer: Arc<Closer>,
    /// What the threads remember (`memo`), for a look from off them.
    pub(crate) memos: Arc<super::memo::Memos>,
}

impl DbThreads {
    /// Starts `count` threads (at least one).
    pub(crate) fn start(count: usize) -> Result<Self, CoreError> {
        let jobs = Arc::new(Queue::default());
        // Shared by these threads, and only by them (see `memo`).
        let memos = Arc::new(super::memo::Memos::default());
        for n in 0..count.max(1) {
            let (queue, memos) = (jobs.clone(), memos.clone());
            std::thread::Builder::new()
                .name(format!("alongside-db-{n}"))
                .spawn(move || {
                    NUMBER.with(|number| number.set(n));
                    super::memo::serve(memos);
                    work(&queue)
                })
                .map_err(|e| CoreError::internal(format!("cannot start a database thread: {e}")))?;
        }
        let closer = Arc::new(Closer(jobs.clone()));
        Ok(Self {
            jobs,
            _closer: closer,
            memos,
        })
    }

    /// Runs `job` on one of the threads and waits, without blocking, for its result.
    pub(crate) async fn run<T, F>(&self, job: F) -> Result<T, CoreError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.jobs.add(Box::new(move || {
            // The caller may have gone; the work is done all the same.
            let _ = answer.send(job());
        }))?;
        // Dropped without an answer: the job panicked (and its thread carried on).
        answered
            .await
            .map_err(|_| CoreError::internal("database task failed"))
    }
}

/// One thread's life: take the next job, run it, until every handle is gone.
fn work(queue: &Queue) {
    while let Some(job) = queue.next() {
        // A panic in one call fails that call (its answer is dropped), not the thread.
        let _ = catch_unwind(AssertUnwindSafe(job));
    }
}

#[cfg(test)]
mod tests {
    use super::{Closer, DbThreads, Queue};
    use std::sync::Arc;

    #[test]
    fn jobs_left_when_the_handles_go_are_run_and_then_the_threads_end() {
        let queue = Arc::new(Queue::default());
        let closer = Closer(queue.clone());
        let ran = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        for _ in 0..2 {
            let ran = ran.clone();
            queue
                .add(Box::new(move || {
                    ran.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }))
                .unwrap();
        }
        drop(closer);
        // A thread started now takes both jobs, then finds the queue closed and ends.
        let thread = std::thread::spawn({
            let queue = queue.clone();
            move || super::work(&queue)
        });
        thread.join().unwrap();
        assert_eq!(ran.load(std::sync::atomic::Ordering::SeqCst), 2);
        assert!(
            queue.add(Box::new(|| ())).is_err(),
            "no job is taken once closed"
        );
    }

    #[tokio::test]
    async fn runs_jobs_on_its_own_threads_and_survives_a_panic() {
        let threads = DbThreads::start(2).unwrap();
        let name = threads
            .run(|| std::thread::current().name().map(str::to_owned))
            .await
            .unwrap();
        assert!(name.is_some_and(|n| n.starts_with("alongside-db-")));
        let failed = threads.run(|| -> u32 { panic!("a failing job") }).await;
        assert!(failed.is_err());
        // Both threads are still there after the panic: two jobs that each wait for the other
        // finish only when they run at once.
        let both = std::sync::Arc::new(std::sync::Barrier::new(2));
        let (one, two) = (both.clone(), both);
        let together = async {
            tokio::join!(
                threads.run(move || one.wait().is_leader()),
                threads.run(move || two.wait().is_leader())
            )
        };
        let (a, b) = tokio::time::timeout(std::time::Duration::from_secs(10), together)
            .await
            .expect("two threads ran the two jobs at once");
        assert!(a.unwrap() != b.unwrap(), "one of the two leads");
    }
}
