//! Dynamic TLS record sizing, as production HTTPS servers do it.
//!
//! rustls seals one TLS record per write (up to 16 KiB). A record can be
//! decrypted only once all of it has arrived, so a 16 KiB first record that
//! carries the response head needs about 12 segments: more than TCP's
//! initial window of 10, which delays the first byte by one round trip.
//! Servers that care about time to first byte therefore start each
//! connection with records that fit in one TCP segment and switch to full
//! records once the connection is warm. Cloudflare described this as
//! "dynamic TLS record sizing" (small records for the first megabyte, and
//! again after a second of idleness); the lab does the same, so HTTP/1.1 and
//! HTTP/2 are not penalised by a server setting that QUIC (whose packets are
//! each decryptable) does not have.
//!
//! [`DynamicRecords`] sits between hyper and the TLS stream and limits each
//! write: at most [`SMALL_RECORD`] bytes while fewer than [`WARM_BYTES`]
//! have been written since the connection started or last went idle for
//! [`IDLE_RESET`]; unlimited (rustls's 16 KiB records) after that. Time is
//! tokio's clock, which inside the simulation is simulated time.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;

/// Plaintext bytes per record while the connection is cold: a record of
/// 1400 bytes plus 22 bytes of TLS overhead fits in one 1448-byte segment.
pub const SMALL_RECORD: usize = 1400;
/// Bytes written in small records before switching to full ones.
pub const WARM_BYTES: u64 = 1 << 20;
/// Idle time after which records are small again.
pub const IDLE_RESET: Duration = Duration::from_secs(1);

/// A write-size limiter that yields small TLS records on a cold connection
/// (see the module docs).
#[derive(Debug)]
pub struct DynamicRecords<S> {
    inner: S,
    warm_bytes: u64,
    last_write: Option<Instant>,
}

impl<S> DynamicRecords<S> {
    /// Wrap a TLS stream.
    pub fn new(inner: S) -> Self {
        DynamicRecords {
            inner,
            warm_bytes: 0,
            last_write: None,
        }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    fn limit(&mut self, now: Instant) -> Option<usize> {
        if self.last_write.is_some_and(|t| now - t >= IDLE_RESET) {
            self.warm_bytes = 0;
        }
        (self.warm_bytes < WARM_BYTES).then_some(SMALL_RECORD)
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for DynamicRecords<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for DynamicRecords<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let now = Instant::now();
        let len = self.limit(now).map_or(buf.len(), |l| l.min(buf.len()));
        let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &buf[..len]))?;
        self.warm_bytes += n as u64;
        self.last_write = Some(now);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    /// Records the size of every write it receives.
    #[derive(Default)]
    struct Sizes(Vec<usize>);

    impl AsyncWrite for Sizes {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            self.0.push(buf.len());
            Poll::Ready(Ok(buf.len()))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test(start_paused = true)]
    async fn small_records_until_warm_then_full_then_small_after_idle() {
        let mut w = DynamicRecords::new(Sizes::default());
        let chunk = vec![0u8; 64 * 1024];
        let mut written = 0u64;
        while written < WARM_BYTES {
            written += w.write(&chunk).await.unwrap() as u64;
        }
        assert!(w.inner.0.iter().all(|&n| n <= SMALL_RECORD));
        assert_eq!(
            w.write(&chunk).await.unwrap(),
            chunk.len(),
            "warm: full writes"
        );
        tokio::time::advance(IDLE_RESET).await;
        assert_eq!(
            w.write(&chunk).await.unwrap(),
            SMALL_RECORD,
            "idle: small again"
        );
    }
}
