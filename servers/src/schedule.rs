//! The order responses leave in when several share one HTTP/2 or HTTP/3
//! connection: what [`scenarios::Scheduler`] names, carried out.
//!
//! Every response gets a [`Rank`] from the scheduler, its stream and (for
//! [`Scheduler::Priorities`]) its request's `priority` header: sequential
//! ranks every response by stream alone; priorities by urgency, then
//! non-incremental before incremental, then (non-incremental only) by
//! stream. Round-robin ranks nothing, and the servers run exactly as they
//! did before schedulers existed.
//!
//! - HTTP/2 (`crate::tcp`): the h2 crate has no scheduler to configure (it
//!   round-robins one DATA frame per stream), so order is imposed above it.
//!   Each connection keeps its [`Turns`]; a response body ([`ScheduledBody`])
//!   hands hyper its next piece only while its rank is [`Turns`]' first
//!   (or, for incremental ranks, one of the first group), and leaves when
//!   hyper drops it, after its last piece. Pieces are at most [`H2_SCHEDULED_PIECE`] bytes,
//!   and hyper buffers at most [`H2_SCHEDULED_SEND_BUFFER`] bytes per stream
//!   in h2, so that little of one response is still inside h2 when the next
//!   one starts; `docs/servers.md` states the overlap that remains.
//! - HTTP/3 (`crate::quic`): quinn schedules by a per-stream priority (higher
//!   first; equal priorities round-robin), so each request stream gets
//!   [`Rank::quinn_priority`]: a level of its own for each non-incremental
//!   response, one shared level for the incremental responses of one urgency
//!   (`crate::prioritized` sets it on the quinn stream).
//!
//! Nothing here reads a clock; [`Turns`] keeps its ranks in a `BTreeMap`, so
//! who is woken, and in what order, depends on ranks alone.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use scenarios::{Coalescing, Priority, Scheduler};

use crate::content::ResponseBody;

/// The most body bytes a scheduled HTTP/2 response hands hyper at once:
/// 16 KiB, one DATA frame of the lab's maximum frame size.
pub const H2_SCHEDULED_PIECE: usize = 16 * 1024;

/// The largest HTTP/2 frame payload the server accepts: 16 KiB, the
/// protocol's default.
pub const H2_MAX_FRAME_SIZE: u32 = 16 * 1024;

/// hyper's per-stream send buffer (`max_send_buf_size`) on a connection
/// with a scheduler other than round-robin: 16 KiB, one DATA frame. hyper's
/// own default, which round-robin keeps, is 400 KiB.
pub const H2_SCHEDULED_SEND_BUFFER: usize = 16 * 1024;

/// What a report says of the HTTP layer of a run whose server schedules
/// with `scheduler`, whose client sends RFC 9218 `priority` headers or
/// not, and whose client coalesces a page's origins onto one HTTP/2 or
/// HTTP/3 connection or not: the scheduler, for HTTP/2 the piece and
/// send-buffer sizes it imposes (round-robin keeps hyper's own), the
/// priority headers, and `coalescing = off` only when it is off (so that
/// the settings of every run that coalesces, as every run did before it
/// was a choice, stay as they were).
pub fn http_settings(
    scheduler: Scheduler,
    priority_headers: bool,
    coalescing: Coalescing,
) -> netsim::Settings {
    let on_off = |b: bool| if b { "on" } else { "off" }.to_owned();
    let mut parameters = vec![("scheduler".to_owned(), scheduler.label().to_owned())];
    if scheduler != Scheduler::RoundRobin {
        parameters.push(("h2_piece".to_owned(), format!("{H2_SCHEDULED_PIECE} bytes")));
        parameters.push((
            "h2_send_buffer".to_owned(),
            format!("{H2_SCHEDULED_SEND_BUFFER} bytes"),
        ));
    }
    parameters.push(("priority_headers".to_owned(), on_off(priority_headers)));
    // The HTTP/2 server's own settings (servers::tcp).
    parameters.push((
        "h2_max_concurrent_streams".to_owned(),
        netsim::MAX_CONCURRENT_STREAMS.to_string(),
    ));
    parameters.push((
        "h2_max_frame_size".to_owned(),
        format!("{H2_MAX_FRAME_SIZE} bytes"),
    ));
    parameters.push((
        "h2_windows".to_owned(),
        "stream and connection windows of the transport buffer (see TCP's receive_buffer); adaptive window off".to_owned(),
    ));
    if !coalescing.is_on() {
        parameters.push(("coalescing".to_owned(), coalescing.label().to_owned()));
    }
    netsim::Settings::new("hyper / h3", parameters)
}

/// Where one response stands in its connection's order: lower ranks go
/// first. Ordered by urgency, then non-incremental before incremental,
/// then stream (RFC 9218 section 10; the tie-break between incremental and
/// non-incremental responses of one urgency is quiche's).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rank {
    /// RFC 9218 urgency, 0 (first) to 7; 0 for every response under
    /// [`Scheduler::Sequential`].
    pub urgency: u8,
    /// Whether the response shares its turn with the other incremental
    /// responses of its urgency.
    pub incremental: bool,
    /// The stream (HTTP/2: the order the connection received the request
    /// in; HTTP/3: the QUIC stream id), which orders requests.
    pub stream: u64,
}

impl Rank {
    /// The rank `scheduler` gives the response on `stream` whose request
    /// carried the `priority` header value `priority` (if any); `None` for
    /// [`Scheduler::RoundRobin`], which ranks nothing.
    pub fn of(scheduler: Scheduler, priority: Option<&str>, stream: u64) -> Option<Rank> {
        let priority = match scheduler {
            Scheduler::RoundRobin => return None,
            Scheduler::Sequential => Priority {
                urgency: 0,
                incremental: false,
            },
            Scheduler::Priorities => Priority::parse(priority),
        };
        Some(Rank {
            urgency: priority.urgency,
            incremental: priority.incremental,
            stream,
        })
    }

    /// Whether a response of this rank may send while `first` is the
    /// lowest rank waiting: it is `first`, or both are incremental of the
    /// same urgency.
    fn runs_beside(&self, first: &Rank) -> bool {
        self == first || (first.incremental && self.incremental && self.urgency == first.urgency)
    }

    /// quinn's send priority for this rank (higher goes first; streams of
    /// equal priority round-robin): below 0, where quinn keeps the
    /// connection's own streams (control, QPACK), so that those are never
    /// held up by a response; one level per urgency, with every
    /// non-incremental response a level of its own in stream order above
    /// the one level its urgency's incremental responses share.
    pub fn quinn_priority(&self) -> i32 {
        // Streams beyond 2^22 (four million requests) share the last level.
        const STREAMS: u64 = 1 << 22;
        let within = if self.incremental {
            STREAMS
        } else {
            self.stream.min(STREAMS - 1)
        };
        let level = u64::from(self.urgency.min(Priority::LOWEST_URGENCY)) * (STREAMS + 1) + within;
        // At most 8 * (2^22 + 1) < 2^31: it fits.
        -1 - level as i32
    }
}

/// The responses of one HTTP/2 connection that still have body to send,
/// by rank: who may send now. Clones share the same set.
#[derive(Clone, Debug, Default)]
pub struct Turns {
    waiting: Arc<Mutex<BTreeMap<Rank, Option<Waker>>>>,
}

impl Turns {
    /// An empty set, for a new connection.
    pub fn new() -> Turns {
        Turns::default()
    }

    /// Join the set with `rank`; the response leaves it when the returned
    /// [`Turn`] is dropped.
    pub fn join(&self, rank: Rank) -> Turn {
        self.lock().insert(rank, None);
        Turn {
            turns: self.clone(),
            rank,
        }
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<Rank, Option<Waker>>> {
        self.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One response's place in its connection's [`Turns`].
#[derive(Debug)]
pub struct Turn {
    turns: Turns,
    rank: Rank,
}

impl Turn {
    /// Ready when this response may send: it has the lowest rank waiting,
    /// or is incremental beside the lowest, which is incremental of the
    /// same urgency. Otherwise it is woken when that changes.
    pub fn poll_ready(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut waiting = self.turns.lock();
        let first = *waiting.keys().next().expect("a turn waits until dropped");
        if self.rank.runs_beside(&first) {
            return Poll::Ready(());
        }
        waiting.insert(self.rank, Some(cx.waker().clone()));
        Poll::Pending
    }
}

impl Drop for Turn {
    /// Leave the set, and wake the responses whose turn it now is, in rank
    /// order.
    fn drop(&mut self) {
        let mut waiting = self.turns.lock();
        waiting.remove(&self.rank);
        let Some(first) = waiting.keys().next().copied() else {
            return;
        };
        let wake: Vec<Waker> = waiting
            .iter_mut()
            .filter(|(rank, _)| rank.runs_beside(&first))
            .filter_map(|(_, waker)| waker.take())
            .collect();
        drop(waiting);
        for waker in wake {
            waker.wake();
        }
    }
}

/// A response body as the HTTP/1.1 and HTTP/2 server sends it: the
/// [`ResponseBody`] itself (HTTP/1.1, and HTTP/2 under round-robin: every
/// call passes straight through), or, with a [`Turn`], one that waits for
/// its turn before each piece, hands hyper pieces of at most
/// [`H2_SCHEDULED_PIECE`] bytes, and gives its turn up when it is dropped
/// (hyper drops it once the last piece and the end of the stream are in
/// h2's hands).
#[derive(Debug)]
pub struct ScheduledBody {
    body: ResponseBody,
    /// The turn, while the body still has bytes to hand over.
    turn: Option<Turn>,
    /// What is left of the last chunk the body gave.
    piece: Bytes,
}

impl ScheduledBody {
    /// `body`, sent whenever hyper asks for it.
    pub fn unscheduled(body: ResponseBody) -> ScheduledBody {
        ScheduledBody {
            body,
            turn: None,
            piece: Bytes::new(),
        }
    }

    /// `body`, sent in turn among the bodies of its connection's `turns`
    /// with `rank`. A body with nothing to send takes no turn.
    pub fn in_turn(body: ResponseBody, turns: &Turns, rank: Rank) -> ScheduledBody {
        let turn = (body.remaining() > 0).then(|| turns.join(rank));
        ScheduledBody {
            body,
            turn,
            piece: Bytes::new(),
        }
    }

    fn remaining(&self) -> u64 {
        self.body.remaining() + self.piece.len() as u64
    }
}

impl Body for ScheduledBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        let Some(turn) = &this.turn else {
            return Pin::new(&mut this.body).poll_frame(cx);
        };
        if turn.poll_ready(cx).is_pending() {
            return Poll::Pending;
        }
        if this.piece.is_empty() {
            match this.body.next_chunk() {
                Some(chunk) => this.piece = chunk,
                None => {
                    this.turn = None;
                    return Poll::Ready(None);
                }
            }
        }
        let n = this.piece.len().min(H2_SCHEDULED_PIECE);
        // The turn is kept past the last piece, until hyper drops the body,
        // which it does once it has handed h2 that piece with the end of
        // the stream: h2 then wakes its connection task, which writes what
        // it holds of this response to TLS before the next response's task,
        // woken later, hands h2 anything.
        Poll::Ready(Some(Ok(Frame::data(this.piece.split_to(n)))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining() == 0
    }

    fn size_hint(&self) -> SizeHint {
        match self.body.size_hint().exact() {
            // What the body says, plus the piece in hand.
            Some(_) => SizeHint::with_exact(self.remaining()),
            // A truncated body hides its length; so does this.
            None => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    fn rank(urgency: u8, incremental: bool, stream: u64) -> Rank {
        Rank {
            urgency,
            incremental,
            stream,
        }
    }

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Whether each turn may send now.
    fn ready(turns: &[&Turn]) -> Vec<bool> {
        let waker = Waker::from(Arc::new(Count(AtomicUsize::new(0))));
        let mut cx = Context::from_waker(&waker);
        turns
            .iter()
            .map(|t| t.poll_ready(&mut cx).is_ready())
            .collect()
    }

    #[test]
    fn round_robin_ranks_nothing_and_sequential_ranks_by_stream() {
        assert_eq!(Rank::of(Scheduler::RoundRobin, Some("u=0"), 1), None);
        assert_eq!(
            Rank::of(Scheduler::Sequential, Some("u=5, i"), 7),
            Some(rank(0, false, 7))
        );
        assert_eq!(
            Rank::of(Scheduler::Priorities, Some("u=5, i"), 7),
            Some(rank(5, true, 7))
        );
        assert_eq!(
            Rank::of(Scheduler::Priorities, None, 7),
            Some(rank(3, false, 7))
        );
    }

    #[test]
    fn one_non_incremental_response_sends_at_a_time() {
        let turns = Turns::new();
        let css = turns.join(rank(0, false, 3));
        let js = turns.join(rank(1, false, 1));
        let font = turns.join(rank(0, false, 5));
        assert_eq!(ready(&[&css, &js, &font]), [true, false, false]);
        drop(css);
        assert_eq!(ready(&[&js, &font]), [false, true]);
        drop(font);
        assert_eq!(ready(&[&js]), [true]);
    }

    #[test]
    fn incremental_responses_of_one_urgency_send_together_after_the_others() {
        let turns = Turns::new();
        let image_a = turns.join(rank(3, true, 1));
        let image_b = turns.join(rank(3, true, 3));
        let script = turns.join(rank(3, false, 5));
        let later = turns.join(rank(4, true, 7));
        assert_eq!(
            ready(&[&image_a, &image_b, &script, &later]),
            [false, false, true, false]
        );
        drop(script);
        assert_eq!(ready(&[&image_a, &image_b, &later]), [true, true, false]);
        drop(image_a);
        drop(image_b);
        assert_eq!(ready(&[&later]), [true]);
    }

    #[test]
    fn leaving_wakes_whoever_is_next() {
        let turns = Turns::new();
        let first = turns.join(rank(0, false, 1));
        let second = turns.join(rank(0, false, 3));
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        assert!(second
            .poll_ready(&mut Context::from_waker(&waker))
            .is_pending());
        drop(first);
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn quinn_priorities_follow_the_rank_order() {
        let ranks = [
            rank(0, false, 0),
            rank(0, false, 4),
            rank(0, true, 0),
            rank(1, false, 8),
            rank(3, false, 4),
            rank(3, true, 8),
            rank(7, true, 0),
        ];
        for pair in ranks.windows(2) {
            assert!(pair[0] < pair[1]);
            assert!(pair[0].quinn_priority() > pair[1].quinn_priority());
        }
        assert!(ranks.iter().all(|r| r.quinn_priority() < 0));
        // Incremental responses of one urgency share a level.
        assert_eq!(
            rank(3, true, 8).quinn_priority(),
            rank(3, true, 400).quinn_priority()
        );
        assert!(rank(7, true, 0).quinn_priority() > i32::MIN);
    }

    #[test]
    fn a_scheduled_body_sends_the_same_bytes_in_pieces_then_leaves() {
        let server = crate::ContentServer::new(7);
        let body = server
            .respond(&http::Method::GET, "/bytes/100000/x", None)
            .into_body();
        let turns = Turns::new();
        let mut scheduled = ScheduledBody::in_turn(body, &turns, rank(0, false, 1));
        let waker = Waker::from(Arc::new(Count(AtomicUsize::new(0))));
        let mut cx = Context::from_waker(&waker);
        let mut got = Vec::new();
        // As hyper does: no poll once the body says it has ended.
        while !scheduled.is_end_stream() {
            let Poll::Ready(Some(Ok(frame))) = Pin::new(&mut scheduled).poll_frame(&mut cx) else {
                panic!("a body in its turn has its next piece ready");
            };
            let data = frame.into_data().unwrap();
            assert!(data.len() <= H2_SCHEDULED_PIECE);
            got.extend_from_slice(&data);
        }
        assert_eq!(got, scenarios::content::body(7, "/bytes/100000/x", 100_000));
        assert_eq!(
            turns.lock().len(),
            1,
            "the turn is kept until the body goes"
        );
        drop(scheduled);
        assert!(
            turns.lock().is_empty(),
            "dropping the body gives the turn up"
        );
    }
}
