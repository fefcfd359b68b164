//! The watchdog of a connection on real sockets: when it last made
//! progress ([`Activity`]), the IO wrapper that records reads and writes
//! ([`Watched`]), and [`serve_watched`], which shuts a connection down once
//! it is idle or stalled for [`crate::Limits::idle_timeout`].
//!
//! Real-socket path only: it reads tokio's clock, which outside the
//! simulation is the machine's.

use std::future::Future;
use std::io;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

/// How long a connection that was asked to shut down may go on without
/// progress before it is dropped: long enough to write a GOAWAY or finish a
/// response that is moving, short against any idle timeout.
pub(crate) const GRACE: Duration = Duration::from_secs(1);

/// When one connection last made progress, shared by its IO, its response
/// bodies and its watchdog.
#[derive(Debug)]
pub(crate) struct Activity {
    /// The origin of the times below.
    base: Instant,
    /// When a byte was last read or written (ns since `base`).
    io_at: AtomicU64,
    /// When held response data last moved: a piece taken or let go (ns
    /// since `base`).
    moved_at: AtomicU64,
    /// Response bytes held for the connection (see [`crate::budget`]).
    held: AtomicUsize,
}

/// Why a watchdog gave up on a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stuck {
    /// Nothing read or written for the idle timeout.
    Idle,
    /// Response data held without any of it moving for the idle timeout.
    Stalled,
}

impl Activity {
    /// A connection that made progress just now.
    pub(crate) fn new() -> Arc<Activity> {
        Arc::new(Activity {
            base: Instant::now(),
            io_at: AtomicU64::new(0),
            moved_at: AtomicU64::new(0),
            held: AtomicUsize::new(0),
        })
    }

    fn now(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    fn at(&self, ns: u64) -> Instant {
        self.base + Duration::from_nanos(ns)
    }

    /// Bytes were read or written.
    fn io(&self) {
        self.io_at.store(self.now(), Ordering::Relaxed);
    }

    /// `bytes` of response data are now held for the connection.
    pub(crate) fn hold(&self, bytes: usize) {
        self.held.fetch_add(bytes, Ordering::Relaxed);
        self.moved_at.store(self.now(), Ordering::Relaxed);
    }

    /// `bytes` of held response data left (written to the socket, or
    /// dropped).
    pub(crate) fn release(&self, bytes: usize) {
        self.held.fetch_sub(bytes, Ordering::Relaxed);
        self.moved_at.store(self.now(), Ordering::Relaxed);
    }

    /// Count the connection as having made progress now.
    fn touch(&self) {
        let now = self.now();
        self.io_at.store(now, Ordering::Relaxed);
        self.moved_at.store(now, Ordering::Relaxed);
    }

    /// Resolves once the connection has been idle (if `io` counts: nothing
    /// read or written) or stalled (response data held, none of it moving)
    /// for `limit`.
    async fn until_stuck(&self, limit: Duration, io: bool) -> Stuck {
        loop {
            let now = Instant::now();
            let idle = io.then(|| {
                (
                    self.at(self.io_at.load(Ordering::Relaxed)) + limit,
                    Stuck::Idle,
                )
            });
            let stalled = (self.held.load(Ordering::Relaxed) > 0).then(|| {
                (
                    self.at(self.moved_at.load(Ordering::Relaxed)) + limit,
                    Stuck::Stalled,
                )
            });
            let next = match (idle, stalled) {
                (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
                (a, b) => a.or(b),
            };
            match next {
                Some((deadline, stuck)) if deadline <= now => return stuck,
                Some((deadline, _)) => netsim::time::sleep_until(deadline).await,
                // Neither rule applies now (a QUIC connection holding
                // nothing); look again in a while.
                None => netsim::time::sleep(limit).await,
            }
        }
    }

    /// Resolves once the connection has held response data without any of
    /// it moving for `limit` (for QUIC, whose idle timeout quinn keeps).
    pub(crate) async fn until_stalled(&self, limit: Duration) {
        self.until_stuck(limit, false).await;
    }
}

/// Drive `conn` (a hyper connection) to its end, unless, with `watch`, it
/// is idle or stalled for the duration given (see [`Activity`]): then call
/// `shutdown` on it (a graceful shutdown: HTTP/2 sends GOAWAY, HTTP/1.1
/// closes once no response is in progress) and drive it on until it ends
/// or makes no progress for [`GRACE`], then drop it. `None` if it was
/// dropped. With no `watch`, just `conn.await`.
pub(crate) async fn serve_watched<C: Future>(
    conn: C,
    shutdown: impl FnOnce(Pin<&mut C>),
    watch: Option<(&Activity, Duration)>,
) -> Option<C::Output> {
    let Some((activity, idle)) = watch else {
        return Some(conn.await);
    };
    let mut conn = pin!(conn);
    tokio::select! {
        out = conn.as_mut() => return Some(out),
        _ = activity.until_stuck(idle, true) => {}
    }
    activity.touch();
    shutdown(conn.as_mut());
    tokio::select! {
        out = conn.as_mut() => Some(out),
        _ = activity.until_stuck(GRACE, true) => None,
    }
}

/// An IO stream that records each read and write that moved bytes in its
/// connection's [`Activity`].
#[derive(Debug)]
pub(crate) struct Watched<S> {
    io: S,
    activity: Arc<Activity>,
}

impl<S> Watched<S> {
    /// Watch `io` for `activity`.
    pub(crate) fn new(io: S, activity: Arc<Activity>) -> Watched<S> {
        Watched { io, activity }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.io).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.io();
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.io).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.io();
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.io();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    //! Real time, short limits: a limit is never early, and late by no
    //! more than a generous margin on a busy machine.

    use super::*;

    const LIMIT: Duration = Duration::from_millis(200);
    const MARGIN: Duration = Duration::from_secs(2);

    fn assert_took_the_limit(start: Instant) {
        let took = start.elapsed();
        assert!(took >= LIMIT && took < LIMIT + MARGIN, "took {took:?}");
    }

    #[tokio::test]
    async fn an_idle_connection_is_stuck_after_the_limit() {
        let activity = Activity::new();
        let start = Instant::now();
        assert_eq!(activity.until_stuck(LIMIT, true).await, Stuck::Idle);
        assert_took_the_limit(start);
    }

    #[tokio::test]
    async fn held_data_that_does_not_move_is_a_stall_despite_traffic() {
        let activity = Activity::new();
        activity.hold(1000);
        let start = Instant::now();
        let traffic = {
            let activity = activity.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(LIMIT / 10).await;
                    activity.io();
                }
            })
        };
        let stuck = activity.until_stuck(LIMIT, true).await;
        traffic.abort();
        assert_eq!(stuck, Stuck::Stalled);
        assert_took_the_limit(start);
    }

    #[tokio::test]
    async fn a_connection_holding_nothing_is_never_stalled() {
        let activity = Activity::new();
        let waited = tokio::time::timeout(LIMIT * 3, activity.until_stalled(LIMIT)).await;
        assert!(waited.is_err(), "stalled while holding nothing");
        activity.hold(10);
        let start = Instant::now();
        activity.until_stalled(LIMIT).await;
        assert_took_the_limit(start);
    }
}
