//! The request handler every protocol shares, and the body it streams.
//!
//! [`ContentServer::respond`] turns a request into an `http::Response` whose
//! body is a [`ResponseBody`]: content is generated on demand in
//! [`CHUNK`]-sized pieces from one `scenarios::content::BodySource` per
//! response, so a 100 MB
//! object never sits in memory. hyper sends the body through its
//! `http_body::Body` impl; HTTP/3 pulls the chunks with
//! [`ResponseBody::next_chunk`].

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Method, Response};
use hyper::body::{Body, Frame, SizeHint};
use scenarios::content::BodySource;

use crate::plan::{plan_response, PlannedBody};

/// Size of each body chunk handed to the protocol stack: 64 KiB.
pub const CHUNK: usize = 64 * 1024;

/// A deliberate fault in served bodies.
///
/// **Test only.** It exists to prove that clients catch bad bodies (their
/// verification must fail on a corrupted or truncated response); no
/// measurement ever runs with a fault. Only content responses (200 and 206)
/// whose path contains `path_contains` are affected.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Fault {
    /// Serve every body as it is. The default.
    #[default]
    None,
    /// Flip every bit of one byte in the middle of the body (offset
    /// `len / 2` of the bytes sent); the length stays right.
    CorruptByte {
        /// Affect only paths containing this.
        path_contains: String,
    },
    /// Send only the first half of the body (`len / 2` bytes), although
    /// `content-length` announces all of it. HTTP/2 and HTTP/3 then end the
    /// stream cleanly; HTTP/1.1 closes the connection (hyper aborts it when
    /// the body falls short of `content-length`).
    Truncate {
        /// Affect only paths containing this.
        path_contains: String,
    },
}

/// The one request handler of the lab, shared by HTTP/1.1, HTTP/2 and
/// HTTP/3: serves the content model of `scenarios::content` under
/// `/bytes/{n}[/{name}]` (see [`crate::plan`] for every status it answers).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContentServer {
    /// The content seed: bodies are `scenarios::content::fill(seed, path, ..)`.
    pub seed: u64,
    /// A deliberate fault, for clients' verification tests only. Default:
    /// [`Fault::None`].
    pub fault: Fault,
    /// Whether every response advertises HTTP/3 on the same port with
    /// [`ALT_SVC_H3`] (RFC 7838), as servers that offer HTTP/3 do, so that a
    /// browser that reached them over TCP can switch. Default off: the lab's
    /// clients know which protocol to speak unless a run says otherwise.
    pub alt_svc: bool,
}

/// The `alt-svc` value a server that offers HTTP/3 on its own port sends:
/// HTTP/3 at the same host, port 443, valid for a day (RFC 7838 section 3).
pub const ALT_SVC_H3: &str = "h3=\":443\"; ma=86400";

impl ContentServer {
    /// A server of the content keyed by `seed`, with no fault.
    pub fn new(seed: u64) -> ContentServer {
        ContentServer {
            seed,
            fault: Fault::None,
            alt_svc: false,
        }
    }

    /// The same server advertising HTTP/3 with `alt-svc` on every response
    /// (see [`ContentServer::alt_svc`]).
    pub fn with_alt_svc(mut self, on: bool) -> ContentServer {
        self.alt_svc = on;
        self
    }

    /// The same server with `fault` injected into matching bodies. Test only:
    /// see [`Fault`].
    pub fn with_fault(mut self, fault: Fault) -> ContentServer {
        self.fault = fault;
        self
    }

    /// The response to `method` on `path` (without query) with the raw
    /// `Range` header value `range`. The body is generated as it is sent.
    pub fn respond(
        &self,
        method: &Method,
        path: &str,
        range: Option<&[u8]>,
    ) -> Response<ResponseBody> {
        let plan = plan_response(method, path, range);
        let body = match plan.body {
            PlannedBody::Empty => ResponseBody::empty(),
            PlannedBody::Text(text) => ResponseBody::text(text),
            PlannedBody::Content { path, start, end } => {
                let fault = self.fault_for(&path);
                ResponseBody::content(self.seed, &path, start, end, fault)
            }
        };
        let mut response = Response::new(body);
        *response.status_mut() = plan.status;
        response.headers_mut().extend(
            plan.headers
                .into_iter()
                .map(|(name, value)| (Some(name), value)),
        );
        if self.alt_svc {
            response.headers_mut().insert(
                http::header::ALT_SVC,
                http::HeaderValue::from_static(ALT_SVC_H3),
            );
        }
        response
    }

    fn fault_for(&self, path: &str) -> ContentFault {
        match &self.fault {
            Fault::CorruptByte { path_contains } if path.contains(path_contains.as_str()) => {
                ContentFault::Corrupt
            }
            Fault::Truncate { path_contains } if path.contains(path_contains.as_str()) => {
                ContentFault::Truncate
            }
            _ => ContentFault::None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ContentFault {
    None,
    Corrupt,
    Truncate,
}

/// A response body: nothing, a short text, or a byte range of an object's
/// content generated chunk by chunk.
///
/// Implements hyper's `Body` (data frames of at most [`CHUNK`] bytes, no
/// trailers, never an error) and yields the same chunks from
/// [`ResponseBody::next_chunk`].
#[derive(Debug)]
pub struct ResponseBody {
    kind: BodyKind,
}

#[derive(Debug)]
enum BodyKind {
    Empty,
    Text(Option<Bytes>),
    // Boxed: the keystream state is a few hundred bytes.
    Content(Box<ContentStream>),
}

/// The part of one object's content still to send: bytes `offset..stop`.
#[derive(Debug)]
struct ContentStream {
    source: BodySource,
    offset: u64,
    /// Where sending stops: the range's end, or earlier under
    /// [`Fault::Truncate`].
    stop: u64,
    /// The absolute offset of the byte to corrupt, under
    /// [`Fault::CorruptByte`].
    corrupt_at: Option<u64>,
    /// Whether `stop` is the announced length (false when truncated).
    honest_length: bool,
}

impl ResponseBody {
    fn empty() -> ResponseBody {
        ResponseBody {
            kind: BodyKind::Empty,
        }
    }

    fn text(text: String) -> ResponseBody {
        ResponseBody {
            kind: BodyKind::Text(Some(Bytes::from(text))),
        }
    }

    fn content(seed: u64, path: &str, start: u64, end: u64, fault: ContentFault) -> ResponseBody {
        let len = end - start;
        let stop = match fault {
            ContentFault::Truncate => start + len / 2,
            _ => end,
        };
        let corrupt_at = (fault == ContentFault::Corrupt && len > 0).then_some(start + len / 2);
        ResponseBody {
            kind: BodyKind::Content(Box::new(ContentStream {
                source: BodySource::new(seed, path),
                offset: start,
                stop,
                corrupt_at,
                honest_length: fault != ContentFault::Truncate,
            })),
        }
    }

    /// The next chunk to send, or `None` when the body is complete.
    pub fn next_chunk(&mut self) -> Option<Bytes> {
        match &mut self.kind {
            BodyKind::Empty => None,
            BodyKind::Text(text) => text.take().filter(|t| !t.is_empty()),
            BodyKind::Content(stream) => stream.next_chunk(),
        }
    }

    /// The next chunk to send, of at most `max` bytes (and at most
    /// [`CHUNK`]), or `None` when the body is complete. The same bytes as
    /// [`ResponseBody::next_chunk`], cut smaller (for the real-socket
    /// servers' send budget).
    pub fn next_chunk_max(&mut self, max: usize) -> Option<Bytes> {
        let max = max.clamp(1, CHUNK);
        match &mut self.kind {
            BodyKind::Empty => None,
            BodyKind::Text(text) => {
                let rest = text.as_mut().filter(|t| !t.is_empty())?;
                if rest.len() <= max {
                    text.take()
                } else {
                    Some(rest.split_to(max))
                }
            }
            BodyKind::Content(stream) => stream.next_piece(max),
        }
    }

    /// Bytes this body still sends.
    pub fn remaining(&self) -> u64 {
        match &self.kind {
            BodyKind::Empty => 0,
            BodyKind::Text(text) => text.as_ref().map_or(0, |t| t.len() as u64),
            BodyKind::Content(stream) => stream.stop - stream.offset,
        }
    }
}

impl ContentStream {
    fn next_chunk(&mut self) -> Option<Bytes> {
        self.next_piece(CHUNK)
    }

    /// The next at most `max` bytes.
    fn next_piece(&mut self, max: usize) -> Option<Bytes> {
        if self.offset >= self.stop {
            return None;
        }
        let n = (self.stop - self.offset).min(max as u64) as usize;
        let mut buf = vec![0u8; n];
        self.source.fill(self.offset, &mut buf);
        if let Some(at) = self.corrupt_at {
            if (self.offset..self.offset + n as u64).contains(&at) {
                buf[(at - self.offset) as usize] ^= 0xff;
            }
        }
        self.offset += n as u64;
        Some(Bytes::from(buf))
    }
}

impl Body for ResponseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.get_mut().next_chunk().map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining() == 0
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            // A truncated body must not tell hyper its real length, or hyper
            // would trust it over `content-length` and send a short but
            // well-formed response.
            BodyKind::Content(stream) if !stream.honest_length => SizeHint::default(),
            _ => SizeHint::with_exact(self.remaining()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::StatusCode;

    fn collect(mut body: ResponseBody) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(chunk) = body.next_chunk() {
            assert!(!chunk.is_empty() && chunk.len() <= CHUNK);
            out.extend_from_slice(&chunk);
        }
        out
    }

    #[test]
    fn body_is_the_content_model_in_chunks() {
        let server = ContentServer::new(7);
        let r = server.respond(&Method::GET, "/bytes/200000/x", None);
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.body().size_hint().exact(), Some(200_000));
        let got = collect(r.into_body());
        assert_eq!(got, scenarios::content::body(7, "/bytes/200000/x", 200_000));
    }

    #[test]
    fn range_body_is_the_slice() {
        let server = ContentServer::new(7);
        let r = server.respond(&Method::GET, "/bytes/200000/x", Some(b"bytes=65530-131080"));
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
        let full = scenarios::content::body(7, "/bytes/200000/x", 200_000);
        assert_eq!(collect(r.into_body()), full[65530..=131080]);
    }

    /// The form a client resuming a cut-off download sends: `bytes=N-`,
    /// N anywhere (here not on a chunk boundary).
    #[test]
    fn open_range_resumes_the_body() {
        let server = ContentServer::new(7);
        let r = server.respond(&Method::GET, "/bytes/200000/x", Some(b"bytes=65531-"));
        assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(r.headers()["content-range"], "bytes 65531-199999/200000");
        assert_eq!(r.headers()["content-length"], "134469");
        let full = scenarios::content::body(7, "/bytes/200000/x", 200_000);
        assert_eq!(collect(r.into_body()), full[65531..]);
    }

    #[test]
    fn seed_changes_the_bytes() {
        let a = collect(
            ContentServer::new(1)
                .respond(&Method::GET, "/bytes/64", None)
                .into_body(),
        );
        let b = collect(
            ContentServer::new(2)
                .respond(&Method::GET, "/bytes/64", None)
                .into_body(),
        );
        assert_ne!(a, b);
    }

    #[test]
    fn head_and_errors() {
        let server = ContentServer::new(7);
        let r = server.respond(&Method::HEAD, "/bytes/100/x", None);
        assert_eq!(r.headers()["content-length"], "100");
        assert!(r.body().is_end_stream());
        assert!(collect(r.into_body()).is_empty());
        let r = server.respond(&Method::GET, "/nope", None);
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(collect(r.into_body()), b"not found: /nope\n");
    }

    #[test]
    fn corrupt_fault_flips_one_byte_in_the_middle() {
        let server = ContentServer::new(7).with_fault(Fault::CorruptByte {
            path_contains: "bad".into(),
        });
        let good = scenarios::content::body(7, "/bytes/150000/bad", 150_000);
        let got = collect(
            server
                .respond(&Method::GET, "/bytes/150000/bad", None)
                .into_body(),
        );
        assert_eq!(got.len(), good.len());
        let diffs: Vec<usize> = (0..good.len()).filter(|&i| got[i] != good[i]).collect();
        assert_eq!(diffs, [75_000]);
        // Other paths are untouched.
        let ok = collect(
            server
                .respond(&Method::GET, "/bytes/150000/ok", None)
                .into_body(),
        );
        assert_eq!(ok, scenarios::content::body(7, "/bytes/150000/ok", 150_000));
    }

    #[test]
    fn truncate_fault_sends_half_and_hides_the_length() {
        let server = ContentServer::new(7).with_fault(Fault::Truncate {
            path_contains: "/cut".into(),
        });
        let r = server.respond(&Method::GET, "/bytes/150001/cut", None);
        assert_eq!(r.headers()["content-length"], "150001");
        assert_eq!(r.body().size_hint().exact(), None);
        let got = collect(r.into_body());
        assert_eq!(
            got,
            scenarios::content::body(7, "/bytes/150001/cut", 150_001)[..75_000]
        );
    }

    #[test]
    fn smaller_chunks_are_the_same_bytes() {
        let server = ContentServer::new(7).with_fault(Fault::CorruptByte {
            path_contains: "bad".into(),
        });
        let paths = [
            ("/bytes/150000/bad", None),
            ("/bytes/200000/x", Some(&b"bytes=65530-131080"[..])),
            ("/nope", None),
        ];
        for (path, range) in paths {
            let whole = collect(server.respond(&Method::GET, path, range).into_body());
            let mut body = server.respond(&Method::GET, path, range).into_body();
            let mut pieces = Vec::new();
            while let Some(piece) = body.next_chunk_max(7_000) {
                assert!(!piece.is_empty() && piece.len() <= 7_000, "{path}");
                pieces.extend_from_slice(&piece);
            }
            assert!(pieces == whole, "{path}: the pieces differ");
        }
    }
}
