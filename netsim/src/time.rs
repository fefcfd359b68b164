//! Timers the stepping loop knows of: tokio's `sleep`, `sleep_until`,
//! `timeout` and `timeout_at`, each of which also notes its deadline with
//! the host it was made on.
//!
//! The stepping loop (`crate::stepper`) skips the ticks in which nothing
//! can happen. It knows a host has nothing to do until its earliest
//! deadline, so every timer of the lab's software on a simulated host must
//! be one of these (quinn's through `QuinnRuntime`; hyper's timers are
//! off in the simulation). They behave exactly as tokio's:
//! each wraps the tokio future of the same name and only adds the note.
//! Off a simulated host (real sockets) there is nobody to tell, and they
//! are tokio's timers and nothing more.
//!
//! A timer the loop does not know of still fires at its time, but a skip
//! may then pass over it: the loop checks, after every skip, that no task
//! ran during it, and fails the run if one did
//! (`RunError::Simulation`).

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Instant;

use crate::clock::{current_deadlines, Deadlines};

/// A timer's note with its host: the slot of its deadline, while it has
/// one.
#[derive(Debug)]
struct Note {
    host: Option<Arc<Deadlines>>,
    slot: Option<usize>,
}

impl Note {
    fn new(deadline: Instant) -> Note {
        let host = current_deadlines();
        let slot = host.as_ref().map(|h| h.add(deadline));
        Note { host, slot }
    }

    fn set(&mut self, deadline: Instant) {
        if let Some(host) = &self.host {
            match self.slot {
                Some(slot) => host.set(slot, Some(deadline)),
                None => self.slot = Some(host.add(deadline)),
            }
        }
    }

    fn clear(&mut self) {
        if let (Some(host), Some(slot)) = (&self.host, self.slot.take()) {
            host.set(slot, None);
        }
    }
}

impl Drop for Note {
    fn drop(&mut self) {
        self.clear();
    }
}

/// The deadline tokio computes for a duration from now (a duration too
/// long for an `Instant` means about 30 years).
fn deadline_after(duration: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(duration)
        .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365 * 30))
}

pin_project_lite::pin_project! {
    /// [`tokio::time::Sleep`], noted with its host.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct Sleep {
        #[pin]
        inner: tokio::time::Sleep,
        note: Note,
    }
}

/// [`tokio::time::sleep`], noted with the current host.
pub fn sleep(duration: Duration) -> Sleep {
    sleep_until(deadline_after(duration))
}

/// [`tokio::time::sleep_until`], noted with the current host.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        inner: tokio::time::sleep_until(deadline),
        note: Note::new(deadline),
    }
}

impl Sleep {
    /// When it fires.
    pub fn deadline(&self) -> Instant {
        self.inner.deadline()
    }

    /// Whether its deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        self.inner.is_elapsed()
    }

    /// Fire at `deadline` instead ([`tokio::time::Sleep::reset`]).
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        let me = self.project();
        me.note.set(deadline);
        me.inner.reset(deadline);
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let me = self.project();
        let out = me.inner.poll(cx);
        if out.is_ready() {
            me.note.clear();
        }
        out
    }
}

pin_project_lite::pin_project! {
    /// [`tokio::time::Timeout`], noted with its host.
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct Timeout<F> {
        #[pin]
        inner: tokio::time::Timeout<F>,
        note: Note,
    }
}

/// [`tokio::time::timeout`], noted with the current host.
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    timeout_at(deadline_after(duration), future)
}

/// [`tokio::time::timeout_at`], noted with the current host.
pub fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> Timeout<F::IntoFuture> {
    Timeout {
        inner: tokio::time::timeout_at(deadline, future),
        note: Note::new(deadline),
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, tokio::time::error::Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let me = self.project();
        let out = me.inner.poll(cx);
        if out.is_ready() {
            me.note.clear();
        }
        out
    }
}

/// quinn's tokio runtime, with its timers noted with their host.
#[derive(Debug)]
pub(crate) struct QuinnRuntime;

impl quinn::Runtime for QuinnRuntime {
    fn new_timer(&self, t: std::time::Instant) -> Pin<Box<dyn quinn::AsyncTimer>> {
        Box::pin(sleep_until(t.into()))
    }

    fn spawn(&self, future: Pin<Box<dyn Future<Output = ()> + Send>>) {
        quinn::TokioRuntime.spawn(future);
    }

    fn wrap_udp_socket(
        &self,
        sock: std::net::UdpSocket,
    ) -> std::io::Result<Arc<dyn quinn::AsyncUdpSocket>> {
        quinn::TokioRuntime.wrap_udp_socket(sock)
    }

    fn now(&self) -> std::time::Instant {
        quinn::TokioRuntime.now()
    }
}

impl quinn::AsyncTimer for Sleep {
    fn reset(self: Pin<&mut Self>, t: std::time::Instant) {
        Sleep::reset(self, t.into());
    }

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Future::poll(self, cx)
    }
}
