//! An h3 transport over quinn whose request streams take a send priority:
//! what the HTTP/3 server runs on when its scheduler is not round-robin.
//!
//! quinn sends the stream of the highest priority first
//! (`quinn::SendStream::set_priority`), but h3-quinn keeps each quinn
//! stream to itself. So [`Connection`] accepts the client's request streams
//! itself, and keeps, by stream id, a handle on each one's priority
//! ([`StreamPriorities`]); the request handler sets it
//! ([`StreamPriorities::set`]) before it sends the response, and the stream
//! applies it before it hands quinn the response's first byte.
//! Unidirectional streams (control, QPACK), in and out, are h3-quinn's own.
//! A server opens no request streams, so opening one is an error here.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes};
use futures_util::stream::{self, BoxStream, StreamExt};
use h3::error::Code;
use h3::quic::{self, ConnectionErrorIncoming, StreamErrorIncoming, StreamId, WriteBuf};
use quinn::{ReadError, WriteError};

/// The send priority of each request stream of one connection that has
/// not been given one yet, by QUIC stream id. Clones share the same map.
#[derive(Clone, Debug, Default)]
pub struct StreamPriorities {
    pending: Arc<Mutex<BTreeMap<u64, Arc<AtomicI32>>>>,
}

impl StreamPriorities {
    /// Give request stream `id` quinn's send `priority` (higher goes
    /// first), once; the stream applies it before its first write. A
    /// stream this connection did not accept, or one already given its
    /// priority, is left as it is.
    pub fn set(&self, id: u64, priority: i32) {
        let slot = self
            .pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
        if let Some(slot) = slot {
            slot.store(priority, Ordering::Relaxed);
        }
    }

    fn slot(&self, id: u64) -> Arc<AtomicI32> {
        let slot = Arc::new(AtomicI32::new(0));
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, slot.clone());
        slot
    }
}

type Accepted = Result<(quinn::SendStream, quinn::RecvStream), quinn::ConnectionError>;

/// A server's QUIC connection for h3, whose request streams take the
/// priority [`StreamPriorities::set`] gives them.
pub struct Connection {
    uni: h3_quinn::Connection,
    incoming: BoxStream<'static, Accepted>,
    priorities: StreamPriorities,
}

impl Connection {
    /// The h3 transport of `conn`, and the handle on its request streams'
    /// priorities.
    pub fn new(conn: quinn::Connection) -> (Connection, StreamPriorities) {
        let priorities = StreamPriorities::default();
        let incoming = stream::unfold(conn.clone(), |conn| async move {
            Some((conn.accept_bi().await, conn))
        })
        .boxed();
        let connection = Connection {
            uni: h3_quinn::Connection::new(conn),
            incoming,
            priorities: priorities.clone(),
        };
        (connection, priorities)
    }
}

impl<B: Buf> quic::Connection<B> for Connection {
    type RecvStream = h3_quinn::RecvStream;
    type OpenStreams = Opener;

    fn poll_accept_recv(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Self::RecvStream, ConnectionErrorIncoming>> {
        quic::Connection::<B>::poll_accept_recv(&mut self.uni, cx)
    }

    fn poll_accept_bidi(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Self::BidiStream, ConnectionErrorIncoming>> {
        let accepted = ready!(self.incoming.poll_next_unpin(cx))
            .expect("accepting streams never ends")
            .map_err(connection_error)?;
        let (send, recv) = accepted;
        let priority = self.priorities.slot(send.id().into());
        Poll::Ready(Ok(RequestStream {
            send: SendHalf {
                stream: send,
                writing: None,
                priority,
                applied: 0,
            },
            recv: RecvHalf { stream: recv },
        }))
    }

    fn opener(&self) -> Self::OpenStreams {
        Opener {
            uni: quic::Connection::<B>::opener(&self.uni),
        }
    }
}

impl<B: Buf> quic::OpenStreams<B> for Connection {
    type BidiStream = RequestStream<B>;
    type SendStream = h3_quinn::SendStream<B>;

    fn poll_open_bidi(
        &mut self,
        _cx: &mut Context<'_>,
    ) -> Poll<Result<Self::BidiStream, StreamErrorIncoming>> {
        Poll::Ready(Err(no_request_streams()))
    }

    fn poll_open_send(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Self::SendStream, StreamErrorIncoming>> {
        quic::OpenStreams::<B>::poll_open_send(&mut self.uni, cx)
    }

    fn close(&mut self, code: Code, reason: &[u8]) {
        quic::OpenStreams::<B>::close(&mut self.uni, code, reason)
    }
}

/// What h3 opens streams with on a [`Connection`]: unidirectional ones only.
pub struct Opener {
    uni: h3_quinn::OpenStreams,
}

impl<B: Buf> quic::OpenStreams<B> for Opener {
    type BidiStream = RequestStream<B>;
    type SendStream = h3_quinn::SendStream<B>;

    fn poll_open_bidi(
        &mut self,
        _cx: &mut Context<'_>,
    ) -> Poll<Result<Self::BidiStream, StreamErrorIncoming>> {
        Poll::Ready(Err(no_request_streams()))
    }

    fn poll_open_send(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Self::SendStream, StreamErrorIncoming>> {
        quic::OpenStreams::<B>::poll_open_send(&mut self.uni, cx)
    }

    fn close(&mut self, code: Code, reason: &[u8]) {
        quic::OpenStreams::<B>::close(&mut self.uni, code, reason)
    }
}

fn no_request_streams() -> StreamErrorIncoming {
    StreamErrorIncoming::Unknown("a server opens no request streams".into())
}

/// A request stream: the client's request in, the response out.
pub struct RequestStream<B: Buf> {
    send: SendHalf<B>,
    recv: RecvHalf,
}

/// The response side of a [`RequestStream`].
pub struct SendHalf<B: Buf> {
    stream: quinn::SendStream,
    /// What h3 handed over and quinn has not taken yet.
    writing: Option<WriteBuf<B>>,
    /// The priority the handler gives it (0 until then).
    priority: Arc<AtomicI32>,
    /// The priority last set on the quinn stream.
    applied: i32,
}

/// The request side of a [`RequestStream`].
pub struct RecvHalf {
    stream: quinn::RecvStream,
}

impl<B: Buf> quic::BidiStream<B> for RequestStream<B> {
    type SendStream = SendHalf<B>;
    type RecvStream = RecvHalf;

    fn split(self) -> (SendHalf<B>, RecvHalf) {
        (self.send, self.recv)
    }
}

impl<B: Buf> quic::RecvStream for RequestStream<B> {
    type Buf = Bytes;

    fn poll_data(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<Bytes>, StreamErrorIncoming>> {
        self.recv.poll_data(cx)
    }

    fn stop_sending(&mut self, error_code: u64) {
        self.recv.stop_sending(error_code)
    }

    fn recv_id(&self) -> StreamId {
        self.recv.recv_id()
    }
}

impl<B: Buf> quic::SendStream<B> for RequestStream<B> {
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), StreamErrorIncoming>> {
        self.send.poll_ready(cx)
    }

    fn send_data<T: Into<WriteBuf<B>>>(&mut self, data: T) -> Result<(), StreamErrorIncoming> {
        self.send.send_data(data)
    }

    fn poll_finish(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), StreamErrorIncoming>> {
        self.send.poll_finish(cx)
    }

    fn reset(&mut self, reset_code: u64) {
        self.send.reset(reset_code)
    }

    fn send_id(&self) -> StreamId {
        self.send.send_id()
    }
}

impl<B: Buf> quic::SendStream<B> for SendHalf<B> {
    /// Hands quinn what h3 gave (after setting the stream's priority, if
    /// the handler has changed it), and is ready when quinn has all of it.
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), StreamErrorIncoming>> {
        let priority = self.priority.load(Ordering::Relaxed);
        if priority != self.applied {
            // Fails only on a stream already closed, whose write fails too.
            let _ = self.stream.set_priority(priority);
            self.applied = priority;
        }
        if let Some(data) = &mut self.writing {
            while data.has_remaining() {
                let written = ready!(Pin::new(&mut self.stream).poll_write(cx, data.chunk()))
                    .map_err(write_error)?;
                data.advance(written);
            }
        }
        self.writing = None;
        Poll::Ready(Ok(()))
    }

    fn send_data<T: Into<WriteBuf<B>>>(&mut self, data: T) -> Result<(), StreamErrorIncoming> {
        if self.writing.is_some() {
            // h3 waits for `poll_ready` between writes; this would be its bug.
            return Err(StreamErrorIncoming::ConnectionErrorIncoming {
                connection_error: ConnectionErrorIncoming::InternalError(
                    "data sent before the stream was ready".to_owned(),
                ),
            });
        }
        self.writing = Some(data.into());
        Ok(())
    }

    fn poll_finish(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), StreamErrorIncoming>> {
        Poll::Ready(
            self.stream
                .finish()
                .map_err(|e| StreamErrorIncoming::Unknown(Box::new(e))),
        )
    }

    fn reset(&mut self, reset_code: u64) {
        let code = quinn::VarInt::from_u64(reset_code).unwrap_or(quinn::VarInt::MAX);
        let _ = self.stream.reset(code);
    }

    fn send_id(&self) -> StreamId {
        stream_id(self.stream.id())
    }
}

/// Bytes read from a request stream at most at once.
const READ_SIZE: usize = 4096;

impl quic::RecvStream for RecvHalf {
    type Buf = Bytes;

    fn poll_data(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<Bytes>, StreamErrorIncoming>> {
        let mut buf = [0u8; READ_SIZE];
        let n = ready!(self.stream.poll_read(cx, &mut buf)).map_err(read_error)?;
        Poll::Ready(Ok((n > 0).then(|| Bytes::copy_from_slice(&buf[..n]))))
    }

    fn stop_sending(&mut self, error_code: u64) {
        let code = quinn::VarInt::from_u64(error_code).unwrap_or(quinn::VarInt::MAX);
        let _ = self.stream.stop(code);
    }

    fn recv_id(&self) -> StreamId {
        stream_id(self.stream.id())
    }
}

fn stream_id(id: quinn::StreamId) -> StreamId {
    StreamId::try_from(u64::from(id)).expect("quinn's stream ids are QUIC's")
}

fn connection_error(e: quinn::ConnectionError) -> ConnectionErrorIncoming {
    match e {
        quinn::ConnectionError::ApplicationClosed(close) => {
            ConnectionErrorIncoming::ApplicationClose {
                error_code: close.error_code.into_inner(),
            }
        }
        quinn::ConnectionError::TimedOut => ConnectionErrorIncoming::Timeout,
        other => ConnectionErrorIncoming::Undefined(Arc::new(other)),
    }
}

fn read_error(e: ReadError) -> StreamErrorIncoming {
    match e {
        ReadError::Reset(code) => StreamErrorIncoming::StreamTerminated {
            error_code: code.into_inner(),
        },
        ReadError::ConnectionLost(e) => StreamErrorIncoming::ConnectionErrorIncoming {
            connection_error: connection_error(e),
        },
        other => StreamErrorIncoming::Unknown(Box::new(other)),
    }
}

fn write_error(e: WriteError) -> StreamErrorIncoming {
    match e {
        WriteError::Stopped(code) => StreamErrorIncoming::StreamTerminated {
            error_code: code.into_inner(),
        },
        WriteError::ConnectionLost(e) => StreamErrorIncoming::ConnectionErrorIncoming {
            connection_error: connection_error(e),
        },
        other => StreamErrorIncoming::Unknown(Box::new(other)),
    }
}
