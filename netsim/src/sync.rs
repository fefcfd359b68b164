//! Locking: the one helper every module shares.

use std::sync::{Mutex, MutexGuard};

/// Lock a mutex, ignoring poisoning: a panic elsewhere already fails the run.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
