//! Values that change rarely and that most writes read (the active webhook endpoints, the peer
//! support program's targets), remembered for [`FRESH_FOR`] by the threads of one `Db`.
//!
//! Each is one round trip fewer for nearly every write (a new request made nine before). The
//! threads of one `Db` share what they remember, and only they do: several nodes in one process
//! (the federation's tests) never see each other's values, and code on any other thread (the
//! CLI, tests holding a connection) reads the database every time.
//!
//! A change made through this node is seen by its next transaction: [`forget`] drops the value
//! when the change is made and again when its transaction ends, so a value read by another
//! thread in between (still the old one, committed) is not kept. A change made by another
//! replica or process is seen within [`FRESH_FOR`], as an account's roles are.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::error::CoreError;

/// How long a value read from the database is used before it is read again.
pub const FRESH_FOR: Duration = Duration::from_secs(2);

/// What the threads of one `Db` remember, by name.
#[derive(Default)]
pub(crate) struct Memos {
    slots: Mutex<HashMap<&'static str, Slot>>,
}

#[derive(Default)]
struct Slot {
    /// Moved on by every [`forget`]: a value read before it is not kept.
    generation: u64,
    /// By key (empty for a value that has only one); [`forget`] drops them all.
    values: HashMap<String, (Instant, Arc<dyn Any + Send + Sync>)>,
}

impl Memos {
    fn slots(&self) -> MutexGuard<'_, HashMap<&'static str, Slot>> {
        // A panic while the lock was held left at worst a value about to be dropped.
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `name`'s value under `key`, when read less than [`FRESH_FOR`] ago, or else the
    /// generation a value read now must still find to be kept.
    fn lookup<T: Clone + 'static>(&self, name: &'static str, key: &str) -> Result<T, u64> {
        let slots = self.slots();
        let Some(slot) = slots.get(name) else {
            return Err(0);
        };
        match slot.values.get(key) {
            Some((at, value)) if at.elapsed() < FRESH_FOR => {
                value.downcast_ref::<T>().cloned().ok_or(slot.generation)
            }
            _ => Err(slot.generation),
        }
    }

    /// [`remembered_by`]'s value if it has one now, for a caller off the database threads
    /// (`Db::run_remembered`): it spares the trip to a thread and reads nothing itself.
    pub(crate) fn fresh<T: Clone + 'static>(&self, name: &'static str, key: &str) -> Option<T> {
        self.lookup(name, key).ok()
    }

    fn drop_value(&self, name: &'static str) {
        let mut slots = self.slots();
        let slot = slots.entry(name).or_default();
        slot.generation += 1;
        slot.values.clear();
    }
}

thread_local! {
    /// The memos of the `Db` whose thread this is; `None` on any other thread.
    static MINE: RefCell<Option<Arc<Memos>>> = const { RefCell::new(None) };
    /// Set while a `Db::transaction` runs on this thread.
    static IN_TRANSACTION: Cell<bool> = const { Cell::new(false) };
    /// What the running transaction changed: not remembered until it ends.
    static CHANGED: RefCell<Vec<&'static str>> = const { RefCell::new(Vec::new()) };
}

/// Makes this thread one of `memos`' `Db`'s (called once, as the thread starts).
pub(crate) fn serve(memos: Arc<Memos>) {
    MINE.with(|m| *m.borrow_mut() = Some(memos));
}

/// `name`'s value: remembered when read less than [`FRESH_FOR`] ago, else `read` from the
/// database (and remembered, unless something changed it meanwhile).
pub(crate) fn remembered<T>(
    name: &'static str,
    read: impl FnOnce() -> Result<T, CoreError>,
) -> Result<T, CoreError>
where
    T: Clone + Send + Sync + 'static,
{
    remembered_by(name, String::new(), read)
}

/// [`remembered`] for one of several values under `name` (a page of a list, say, by its reader's
/// language and size). Keys are the caller's to keep few: each stays until `name` is forgotten.
pub(crate) fn remembered_by<T>(
    name: &'static str,
    key: String,
    read: impl FnOnce() -> Result<T, CoreError>,
) -> Result<T, CoreError>
where
    T: Clone + Send + Sync + 'static,
{
    let Some(memos) = MINE.with(|m| m.borrow().clone()) else {
        return read();
    };
    // This transaction's own change is not committed: read it here, tell no other thread.
    if CHANGED.with(|c| c.borrow().contains(&name)) {
        return read();
    }
    let generation = match memos.lookup(name, &key) {
        Ok(value) => return Ok(value),
        Err(generation) => generation,
    };
    let value = read()?;
    let mut slots = memos.slots();
    let slot = slots.entry(name).or_default();
    if slot.generation == generation {
        slot.values
            .insert(key, (Instant::now(), Arc::new(value.clone())));
    }
    Ok(value)
}

/// `name` is being changed: its value is read again from now on, and again after the running
/// transaction ends.
pub(crate) fn forget(name: &'static str) {
    let Some(memos) = MINE.with(|m| m.borrow().clone()) else {
        return;
    };
    memos.drop_value(name);
    if IN_TRANSACTION.with(Cell::get) {
        CHANGED.with(|c| {
            let mut c = c.borrow_mut();
            if !c.contains(&name) {
                c.push(name);
            }
        });
    }
}

/// Runs `transaction` (a `Db::transaction`'s, committed or rolled back by the time it returns),
/// then forgets again whatever it changed: a value another thread read before the commit is the
/// old one.
pub(crate) fn around_transaction<T>(transaction: impl FnOnce() -> T) -> T {
    let outer = IN_TRANSACTION.with(|t| t.replace(true));
    let result = transaction();
    if !outer {
        IN_TRANSACTION.with(|t| t.set(false));
        let changed = CHANGED.with(|c| std::mem::take(&mut *c.borrow_mut()));
        if let Some(memos) = MINE.with(|m| m.borrow().clone()) {
            for name in changed {
                memos.drop_value(name);
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_counting(count: &Cell<u32>, value: u32) -> Result<u32, CoreError> {
        count.set(count.get() + 1);
        Ok(value)
    }

    #[test]
    fn remembers_on_its_threads_and_reads_again_after_a_change() {
        let reads = Cell::new(0);
        // Not a Db's thread: read every time.
        assert_eq!(remembered("n", || read_counting(&reads, 1)).unwrap(), 1);
        assert_eq!(remembered("n", || read_counting(&reads, 1)).unwrap(), 1);
        assert_eq!(reads.get(), 2);

        serve(Arc::default());
        assert_eq!(remembered("n", || read_counting(&reads, 1)).unwrap(), 1);
        assert_eq!(remembered("n", || read_counting(&reads, 2)).unwrap(), 1);
        assert_eq!(reads.get(), 3);

        around_transaction(|| {
            forget("n");
            // The transaction's own change: read, and not shown to others.
            assert_eq!(remembered("n", || read_counting(&reads, 5)).unwrap(), 5);
            assert_eq!(remembered("n", || read_counting(&reads, 5)).unwrap(), 5);
        });
        assert_eq!(reads.get(), 5);
        assert_eq!(remembered("n", || read_counting(&reads, 6)).unwrap(), 6);
        assert_eq!(remembered("n", || read_counting(&reads, 7)).unwrap(), 6);
        assert_eq!(reads.get(), 6);
    }

    #[test]
    fn a_value_read_before_a_change_is_not_kept() {
        let memos: Arc<Memos> = Arc::default();
        serve(memos.clone());
        let value = remembered("m", || {
            // Another thread changes it while this one reads.
            memos.drop_value("m");
            Ok(1)
        })
        .unwrap();
        assert_eq!(value, 1);
        let reads = Cell::new(0);
        assert_eq!(remembered("m", || read_counting(&reads, 2)).unwrap(), 2);
        assert_eq!(reads.get(), 1);
    }

    #[test]
    fn keyed_values_are_apart_and_forgotten_together() {
        serve(Arc::default());
        let reads = Cell::new(0);
        let read = |key: &str, value: u32| {
            remembered_by("k", key.to_owned(), || read_counting(&reads, value))
        };
        assert_eq!(read("en", 1).unwrap(), 1);
        assert_eq!(read("es", 2).unwrap(), 2);
        assert_eq!(read("en", 3).unwrap(), 1);
        assert_eq!(read("es", 4).unwrap(), 2);
        assert_eq!(reads.get(), 2);
        forget("k");
        assert_eq!(read("en", 5).unwrap(), 5);
        assert_eq!(read("es", 6).unwrap(), 6);
        assert_eq!(reads.get(), 4);
    }
}
