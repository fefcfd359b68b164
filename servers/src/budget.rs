//! The send budget: how many response bytes a connection, and the whole
//! server, may hold at once, generated but not yet written to the socket
//! ([`crate::Limits::connection_send_budget`], [`crate::Limits::send_budget`]).
//!
//! A response body under a budget is generated a piece at a time
//! ([`PIECE`]), and only once the budget has room for the piece; the piece's
//! bytes carry their share of the budget and give it back when the
//! protocol stack drops them (once they are written, or the stream is gone).
//! So a stream held at flow-control window 0 holds at most the piece hyper
//! keeps in hand (and one h2 took before the window closed), and the rest of
//! its body is never generated.
//!
//! Real-socket path only: the simulation's bodies are [`ResponseBody`]
//! unchanged.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::content::ResponseBody;
use crate::watchdog::Activity;

/// The most body bytes generated at once under a budget: 16 KiB, one TLS
/// record's plaintext and one HTTP/2 DATA frame of the lab's servers.
pub(crate) const PIECE: usize = 16 * 1024;

/// The budget of one connection: its own semaphore and the server's, each
/// counting bytes, and its [`Activity`], told of every piece taken and let
/// go. Cloning shares them.
#[derive(Clone, Debug)]
pub(crate) struct SendBudget {
    connection: Option<Arc<Semaphore>>,
    server: Option<ServerBudget>,
    activity: Arc<Activity>,
    /// The piece size: [`PIECE`], or less if a budget is smaller.
    piece: usize,
}

/// A share of the budget, given back when dropped.
#[derive(Debug)]
struct Share {
    _connection: Option<OwnedSemaphorePermit>,
    _server: Option<OwnedSemaphorePermit>,
    activity: Arc<Activity>,
    bytes: usize,
}

impl Drop for Share {
    fn drop(&mut self) {
        self.activity.release(self.bytes);
    }
}

/// A piece of body and its share of the budget: what a piece's [`Bytes`]
/// own, so that the share goes back when the last of its bytes is dropped.
struct Piece {
    data: Bytes,
    _share: Share,
}

impl AsRef<[u8]> for Piece {
    fn as_ref(&self) -> &[u8] {
        &self.data
    }
}

/// The server's budget: one semaphore of `bytes` permits, shared by every
/// connection's [`SendBudget`]. Cloning shares it.
#[derive(Clone, Debug)]
pub(crate) struct ServerBudget {
    semaphore: Arc<Semaphore>,
    bytes: usize,
}

impl ServerBudget {
    /// A budget of `bytes` for the whole server.
    pub(crate) fn new(bytes: usize) -> ServerBudget {
        let bytes = bytes.min(Semaphore::MAX_PERMITS);
        ServerBudget {
            semaphore: Arc::new(Semaphore::new(bytes)),
            bytes,
        }
    }
}

impl SendBudget {
    /// A connection's budget of `connection` bytes (`None`: no limit of its
    /// own), inside the server's `server`, reporting to `activity`.
    pub(crate) fn new(
        connection: Option<usize>,
        server: Option<ServerBudget>,
        activity: Arc<Activity>,
    ) -> SendBudget {
        let connection = connection.map(|b| b.min(Semaphore::MAX_PERMITS));
        let piece = [Some(PIECE), connection, server.as_ref().map(|s| s.bytes)]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(PIECE)
            .max(1);
        SendBudget {
            connection: connection.map(|b| Arc::new(Semaphore::new(b))),
            server,
            activity,
            piece,
        }
    }

    /// The piece size of the next piece of `body`: 0 once it is complete.
    fn next_piece(&self, body: &ResponseBody) -> usize {
        usize::try_from(body.remaining()).map_or(self.piece, |r| r.min(self.piece))
    }

    /// Wait until the connection's and the server's budgets both have room
    /// for `bytes`, and take it.
    fn take(&self, bytes: usize) -> impl Future<Output = Share> + Send + 'static {
        let connection = self.connection.clone();
        let server = self.server.as_ref().map(|s| s.semaphore.clone());
        let activity = self.activity.clone();
        // `bytes` is at most `piece`, which fits in u32 and in each budget.
        let permits = u32::try_from(bytes).unwrap_or(u32::MAX);
        async move {
            // A semaphore here is never closed, so acquiring fails never.
            let connection = match connection {
                Some(s) => s.acquire_many_owned(permits).await.ok(),
                None => None,
            };
            let server = match server {
                Some(s) => s.acquire_many_owned(permits).await.ok(),
                None => None,
            };
            activity.hold(bytes);
            Share {
                _connection: connection,
                _server: server,
                activity,
                bytes,
            }
        }
    }

    /// The next piece of `body` once the budget has room for it, or `None`
    /// when the body is complete (for HTTP/3, which pulls its body).
    pub(crate) async fn next_chunk(&self, body: &mut ResponseBody) -> Option<Bytes> {
        let n = self.next_piece(body);
        if n == 0 {
            return body.next_chunk();
        }
        let share = self.take(n).await;
        body.next_chunk_max(n).map(|data| attach(data, share))
    }
}

/// `data` owning `share` (no copy).
fn attach(data: Bytes, share: Share) -> Bytes {
    Bytes::from_owner(Piece {
        data,
        _share: share,
    })
}

/// A response body for hyper under a [`SendBudget`]: pieces of at most
/// [`PIECE`] bytes, each generated once the budget has room for it.
pub(crate) struct BudgetedBody {
    body: ResponseBody,
    budget: SendBudget,
    taking: Option<Pin<Box<dyn Future<Output = Share> + Send>>>,
}

impl std::fmt::Debug for BudgetedBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BudgetedBody")
            .field("body", &self.body)
            .field("budget", &self.budget)
            .field("waiting", &self.taking.is_some())
            .finish()
    }
}

impl BudgetedBody {
    /// `body`, under `budget`.
    pub(crate) fn new(body: ResponseBody, budget: &SendBudget) -> BudgetedBody {
        BudgetedBody {
            body,
            budget: budget.clone(),
            taking: None,
        }
    }
}

impl Body for BudgetedBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        let n = this.budget.next_piece(&this.body);
        if n == 0 {
            return Poll::Ready(this.body.next_chunk().map(|b| Ok(Frame::data(b))));
        }
        let budget = &this.budget;
        let taking = this.taking.get_or_insert_with(|| Box::pin(budget.take(n)));
        let share = ready!(taking.as_mut().poll(cx));
        this.taking = None;
        let piece = this.body.next_chunk_max(n).map(|data| attach(data, share));
        Poll::Ready(piece.map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ContentServer;
    use http::Method;

    fn body(size: u64) -> ResponseBody {
        ContentServer::new(1)
            .respond(&Method::GET, &format!("/bytes/{size}/a.bin"), None)
            .into_body()
    }

    #[tokio::test]
    async fn pieces_carry_the_budget_until_dropped() {
        let server = ServerBudget::new(1 << 20);
        let budget = SendBudget::new(Some(2 * PIECE), Some(server.clone()), Activity::new());
        let mut b = body(10 * PIECE as u64);
        let first = budget.next_chunk(&mut b).await.unwrap();
        let second = budget.next_chunk(&mut b).await.unwrap();
        assert_eq!((first.len(), second.len()), (PIECE, PIECE));
        assert_eq!(server.semaphore.available_permits(), (1 << 20) - 2 * PIECE);
        // The connection's budget is spent: the third piece waits...
        let third = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            budget.next_chunk(&mut b),
        )
        .await;
        assert!(third.is_err(), "a third piece fit a budget of two");
        // ... until a slice of the first, the last of its bytes, goes.
        let tail = first.slice(100..);
        drop(first);
        assert!(budget.connection.as_ref().unwrap().available_permits() == 0);
        drop(tail);
        let third = budget.next_chunk(&mut b).await.unwrap();
        assert_eq!(third.len(), PIECE);
    }

    #[tokio::test]
    async fn the_pieces_are_the_body() {
        let budget = SendBudget::new(Some(PIECE), None, Activity::new());
        let mut pieces = Vec::new();
        let mut b = body(100_000);
        while let Some(piece) = budget.next_chunk(&mut b).await {
            pieces.extend_from_slice(&piece);
        }
        assert!(pieces == scenarios::content::body(1, "/bytes/100000/a.bin", 100_000));
    }

    #[tokio::test]
    async fn a_connection_opened_while_the_server_budget_is_spent_gets_whole_pieces() {
        let server = ServerBudget::new(PIECE);
        let first = SendBudget::new(None, Some(server.clone()), Activity::new());
        let mut b = body(10 * PIECE as u64);
        let held = first.next_chunk(&mut b).await.unwrap();
        let second = SendBudget::new(None, Some(server), Activity::new());
        assert_eq!(second.piece, PIECE);
        drop(held);
        let mut b = body(10 * PIECE as u64);
        assert_eq!(second.next_chunk(&mut b).await.unwrap().len(), PIECE);
    }
}
