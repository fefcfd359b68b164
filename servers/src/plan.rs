//! The decision every protocol shares: from a request's method, path and
//! `Range` header to the response's status, headers and bytes. Pure: no I/O,
//! no clock, no protocol.
//!
//! | Request | Response |
//! |---|---|
//! | `GET` or `HEAD` of `/bytes/{n}[/{name}]` | 200, `n` bytes of content |
//! | the same with `Range: bytes=a-b`, `bytes=a-` or `bytes=-k` | 206 with `content-range` |
//! | a `Range` that is malformed, unsatisfiable or has several ranges | 416 with `content-range: bytes */n` |
//! | a path under `/bytes/` that breaks the grammar | 400 |
//! | any other path | 404 |
//! | another method on a good path | 405 with `allow: GET, HEAD` |
//!
//! Error bodies are short plain text. `HEAD` gets the headers `GET` would get
//! and no body.

use http::header::{HeaderName, HeaderValue};
use http::{header, Method, StatusCode};

/// The only methods the server serves.
pub const ALLOWED_METHODS: &str = "GET, HEAD";

/// Where the server's content lives; a path under it that breaks the grammar
/// is a bad request (400), any other unknown path is not found (404).
const CONTENT_PREFIX: &str = "/bytes/";

/// What to send for one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponsePlan {
    /// The status code.
    pub status: StatusCode,
    /// The headers, in the order they are sent. `content-length` is always
    /// present and is the length a `GET` would get.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The body.
    pub body: PlannedBody,
}

impl ResponsePlan {
    /// The value of header `name`, if present and ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.as_str().eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.to_str().ok())
    }

    /// The number of body bytes the plan sends.
    pub fn body_len(&self) -> u64 {
        match &self.body {
            PlannedBody::Empty => 0,
            PlannedBody::Content { start, end, .. } => end - start,
            PlannedBody::Text(t) => t.len() as u64,
        }
    }
}

/// The body of a [`ResponsePlan`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlannedBody {
    /// No body (a `HEAD` request).
    Empty,
    /// Bytes `start..end` of the content of `path`
    /// (`scenarios::content::fill`).
    Content {
        /// The object's path, which keys its bytes.
        path: String,
        /// First byte offset, inclusive.
        start: u64,
        /// Last byte offset, exclusive.
        end: u64,
    },
    /// A plain-text message (the body of an error response).
    Text(String),
}

/// Why a `Range` header cannot be served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RangeRejection {
    /// Not `bytes=first-last`, `bytes=first-` or `bytes=-suffix`.
    Malformed,
    /// Several ranges; the server serves one.
    Multiple,
    /// A well-formed range outside the body.
    Unsatisfiable,
}

impl RangeRejection {
    fn message(self) -> &'static str {
        match self {
            RangeRejection::Malformed => "malformed range",
            RangeRejection::Multiple => "only a single range is served",
            RangeRejection::Unsatisfiable => "range not satisfiable",
        }
    }
}

/// Decide the response to `method` on `path` (the request target's path,
/// without query) with the raw value of the `Range` header, if any.
///
/// The path is checked first (404, 400), then the method (405), then the
/// range (416, 206). See the module docs for the whole table.
pub fn plan_response(method: &Method, path: &str, range: Option<&[u8]>) -> ResponsePlan {
    let head = *method == Method::HEAD;
    let size = match scenarios::content::size_of_path(path) {
        Ok(size) => size,
        Err(e) if is_under_content_prefix(path) => {
            return error(head, StatusCode::BAD_REQUEST, format!("bad path: {e}"), []);
        }
        Err(_) => {
            return error(
                head,
                StatusCode::NOT_FOUND,
                format!("not found: {path}"),
                [],
            )
        }
    };
    if *method != Method::GET && !head {
        return error(
            head,
            StatusCode::METHOD_NOT_ALLOWED,
            format!("method not allowed: {method}"),
            [(header::ALLOW, HeaderValue::from_static(ALLOWED_METHODS))],
        );
    }
    let (status, start, end) = match range.map(|r| parse_range(r, size)) {
        None => (StatusCode::OK, 0, size),
        Some(Ok((start, end))) => (StatusCode::PARTIAL_CONTENT, start, end),
        Some(Err(why)) => {
            return error(
                head,
                StatusCode::RANGE_NOT_SATISFIABLE,
                why.message().to_string(),
                [(header::CONTENT_RANGE, ascii(format!("bytes */{size}")))],
            );
        }
    };
    let mut headers = vec![
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        ),
        (header::CONTENT_LENGTH, HeaderValue::from(end - start)),
        (header::ACCEPT_RANGES, HeaderValue::from_static("bytes")),
    ];
    if status == StatusCode::PARTIAL_CONTENT {
        headers.push((
            header::CONTENT_RANGE,
            ascii(format!("bytes {start}-{}/{size}", end - 1)),
        ));
    }
    let body = if head {
        PlannedBody::Empty
    } else {
        PlannedBody::Content {
            path: path.to_string(),
            start,
            end,
        }
    };
    ResponsePlan {
        status,
        headers,
        body,
    }
}

fn is_under_content_prefix(path: &str) -> bool {
    path.starts_with(CONTENT_PREFIX)
}

/// A plain-text error response; `HEAD` gets its headers only.
fn error<const N: usize>(
    head: bool,
    status: StatusCode,
    message: String,
    extra: [(HeaderName, HeaderValue); N],
) -> ResponsePlan {
    let text = format!("{message}\n");
    let mut headers = vec![
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        ),
        (header::CONTENT_LENGTH, HeaderValue::from(text.len())),
    ];
    headers.extend(extra);
    ResponsePlan {
        status,
        headers,
        body: if head {
            PlannedBody::Empty
        } else {
            PlannedBody::Text(text)
        },
    }
}

fn ascii(s: String) -> HeaderValue {
    HeaderValue::try_from(s).expect("digits, spaces and punctuation are valid header bytes")
}

/// Parse one `Range` value against a body of `size` bytes into the byte
/// offsets `start..end` it selects (RFC 9110 §14.1.2). The unit is
/// case-insensitive; whitespace around the parts is allowed; numbers too
/// large for a `u64` saturate (so `bytes=0-99999999999999999999` means "to
/// the end").
fn parse_range(value: &[u8], size: u64) -> Result<(u64, u64), RangeRejection> {
    let value = std::str::from_utf8(value).map_err(|_| RangeRejection::Malformed)?;
    let (unit, spec) = value.split_once('=').ok_or(RangeRejection::Malformed)?;
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return Err(RangeRejection::Malformed);
    }
    if spec.contains(',') {
        return Err(RangeRejection::Multiple);
    }
    let (first, last) = spec.split_once('-').ok_or(RangeRejection::Malformed)?;
    let (first, last) = (first.trim(), last.trim());
    match (first.is_empty(), last.is_empty()) {
        (true, true) => Err(RangeRejection::Malformed),
        (true, false) => {
            let suffix = number(last)?;
            if suffix == 0 || size == 0 {
                return Err(RangeRejection::Unsatisfiable);
            }
            Ok((size - suffix.min(size), size))
        }
        (false, true) => {
            let start = number(first)?;
            if start >= size {
                return Err(RangeRejection::Unsatisfiable);
            }
            Ok((start, size))
        }
        (false, false) => {
            let (start, last) = (number(first)?, number(last)?);
            if last < start {
                return Err(RangeRejection::Malformed);
            }
            if start >= size {
                return Err(RangeRejection::Unsatisfiable);
            }
            Ok((start, last.min(size - 1) + 1))
        }
    }
}

/// A run of ASCII digits, saturating at `u64::MAX`.
fn number(s: &str) -> Result<u64, RangeRejection> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(RangeRejection::Malformed);
    }
    Ok(s.bytes().fold(0u64, |n, d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str) -> ResponsePlan {
        plan_response(&Method::GET, path, None)
    }

    fn get_range(path: &str, range: &str) -> ResponsePlan {
        plan_response(&Method::GET, path, Some(range.as_bytes()))
    }

    fn content(path: &str, start: u64, end: u64) -> PlannedBody {
        PlannedBody::Content {
            path: path.to_string(),
            start,
            end,
        }
    }

    #[test]
    fn get_serves_the_whole_object() {
        let p = get("/bytes/100000/x");
        assert_eq!(p.status, StatusCode::OK);
        assert_eq!(p.header("content-length"), Some("100000"));
        assert_eq!(p.header("content-type"), Some("application/octet-stream"));
        assert_eq!(p.header("accept-ranges"), Some("bytes"));
        assert_eq!(p.header("content-range"), None);
        assert_eq!(p.body, content("/bytes/100000/x", 0, 100_000));
        let p = get("/bytes/7");
        assert_eq!(p.body, content("/bytes/7", 0, 7));
    }

    #[test]
    fn empty_object_is_served() {
        let p = get("/bytes/0/empty");
        assert_eq!(p.status, StatusCode::OK);
        assert_eq!(p.header("content-length"), Some("0"));
        assert_eq!(p.body_len(), 0);
    }

    #[test]
    fn head_gets_the_headers_of_get_and_no_body() {
        let p = plan_response(&Method::HEAD, "/bytes/5000/a", None);
        assert_eq!(p.status, StatusCode::OK);
        assert_eq!(p.header("content-length"), Some("5000"));
        assert_eq!(p.body, PlannedBody::Empty);
        let p = plan_response(&Method::HEAD, "/bytes/5000/a", Some(b"bytes=10-19"));
        assert_eq!(p.status, StatusCode::PARTIAL_CONTENT);
        assert_eq!(p.header("content-range"), Some("bytes 10-19/5000"));
        assert_eq!(p.body, PlannedBody::Empty);
        let p = plan_response(&Method::HEAD, "/nothing", None);
        assert_eq!(p.status, StatusCode::NOT_FOUND);
        assert_eq!(p.body, PlannedBody::Empty);
        assert_eq!(p.header("content-length"), Some("20"));
    }

    #[test]
    fn closed_range() {
        let p = get_range("/bytes/1000/r", "bytes=100-199");
        assert_eq!(p.status, StatusCode::PARTIAL_CONTENT);
        assert_eq!(p.header("content-range"), Some("bytes 100-199/1000"));
        assert_eq!(p.header("content-length"), Some("100"));
        assert_eq!(p.body, content("/bytes/1000/r", 100, 200));
    }

    #[test]
    fn closed_range_past_the_end_is_clamped() {
        let p = get_range("/bytes/1000/r", "bytes=900-5000");
        assert_eq!(p.header("content-range"), Some("bytes 900-999/1000"));
        assert_eq!(p.body, content("/bytes/1000/r", 900, 1000));
        let p = get_range("/bytes/1000/r", "bytes=0-99999999999999999999999");
        assert_eq!(p.body, content("/bytes/1000/r", 0, 1000));
    }

    #[test]
    fn single_byte_ranges() {
        let p = get_range("/bytes/1000/r", "bytes=0-0");
        assert_eq!(p.header("content-range"), Some("bytes 0-0/1000"));
        assert_eq!(p.body_len(), 1);
        let p = get_range("/bytes/1000/r", "bytes=999-999");
        assert_eq!(p.body, content("/bytes/1000/r", 999, 1000));
    }

    #[test]
    fn open_range() {
        let p = get_range("/bytes/1000/r", "bytes=250-");
        assert_eq!(p.status, StatusCode::PARTIAL_CONTENT);
        assert_eq!(p.header("content-range"), Some("bytes 250-999/1000"));
        assert_eq!(p.body, content("/bytes/1000/r", 250, 1000));
    }

    #[test]
    fn suffix_range() {
        let p = get_range("/bytes/1000/r", "bytes=-10");
        assert_eq!(p.header("content-range"), Some("bytes 990-999/1000"));
        assert_eq!(p.body, content("/bytes/1000/r", 990, 1000));
        let p = get_range("/bytes/1000/r", "bytes=-5000");
        assert_eq!(p.header("content-range"), Some("bytes 0-999/1000"));
        assert_eq!(p.body, content("/bytes/1000/r", 0, 1000));
    }

    #[test]
    fn unit_is_case_insensitive_and_whitespace_is_allowed() {
        let p = get_range("/bytes/1000/r", " Bytes = 1 - 2 ");
        assert_eq!(p.header("content-range"), Some("bytes 1-2/1000"));
    }

    #[test]
    fn unsatisfiable_ranges_get_416() {
        for range in [
            "bytes=1000-",
            "bytes=1000-2000",
            "bytes=-0",
            "bytes=5000-5001",
        ] {
            let p = get_range("/bytes/1000/r", range);
            assert_eq!(p.status, StatusCode::RANGE_NOT_SATISFIABLE, "{range}");
            assert_eq!(p.header("content-range"), Some("bytes */1000"), "{range}");
            assert_eq!(
                p.body,
                PlannedBody::Text("range not satisfiable\n".into()),
                "{range}"
            );
        }
        let p = get_range("/bytes/0/empty", "bytes=-1");
        assert_eq!(p.status, StatusCode::RANGE_NOT_SATISFIABLE);
        assert_eq!(p.header("content-range"), Some("bytes */0"));
        let p = get_range("/bytes/0/empty", "bytes=0-");
        assert_eq!(p.status, StatusCode::RANGE_NOT_SATISFIABLE);
    }

    #[test]
    fn malformed_ranges_get_416() {
        for range in [
            "bytes=",
            "bytes=-",
            "bytes=a-b",
            "bytes=5-4",
            "bytes=1-2-3",
            "bytes=+1-2",
            "items=0-1",
            "bytes 0-1",
            "0-1",
            "",
        ] {
            let p = get_range("/bytes/1000/r", range);
            assert_eq!(p.status, StatusCode::RANGE_NOT_SATISFIABLE, "{range:?}");
            assert_eq!(p.header("content-range"), Some("bytes */1000"));
            assert_eq!(p.body, PlannedBody::Text("malformed range\n".into()));
        }
        let p = plan_response(&Method::GET, "/bytes/1000/r", Some(b"bytes=\xff-1"));
        assert_eq!(p.status, StatusCode::RANGE_NOT_SATISFIABLE);
    }

    #[test]
    fn several_ranges_get_416() {
        let p = get_range("/bytes/1000/r", "bytes=0-1,5-6");
        assert_eq!(p.status, StatusCode::RANGE_NOT_SATISFIABLE);
        assert_eq!(
            p.body,
            PlannedBody::Text("only a single range is served\n".into())
        );
    }

    #[test]
    fn unknown_paths_get_404() {
        for path in [
            "/",
            "/bytes",
            "/index.html",
            "/bytesx/10",
            "/byte/10",
            "/other/bytes/10",
        ] {
            let p = get(path);
            assert_eq!(p.status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(p.header("content-type"), Some("text/plain; charset=utf-8"));
            assert_eq!(p.body, PlannedBody::Text(format!("not found: {path}\n")));
            assert_eq!(
                p.header("content-length"),
                Some(p.body_len().to_string().as_str())
            );
        }
    }

    #[test]
    fn malformed_content_paths_get_400() {
        for path in [
            "/bytes/",
            "/bytes/abc",
            "/bytes/-1",
            "/bytes/10/bad name",
            "/bytes/10/a/b",
            "/bytes/99999999999999999999999",
        ] {
            let p = get(path);
            assert_eq!(p.status, StatusCode::BAD_REQUEST, "{path}");
            let PlannedBody::Text(t) = &p.body else {
                panic!("{path}: {:?}", p.body);
            };
            assert!(t.starts_with("bad path: "), "{path}: {t}");
        }
    }

    #[test]
    fn objects_over_the_limit_are_bad_requests() {
        let too_big = scenarios::content::MAX_OBJECT_SIZE + 1;
        assert_eq!(
            get(&format!("/bytes/{too_big}/x")).status,
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn other_methods_get_405_with_allow() {
        for method in [Method::POST, Method::PUT, Method::DELETE, Method::OPTIONS] {
            let p = plan_response(&method, "/bytes/10/x", None);
            assert_eq!(p.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
            assert_eq!(p.header("allow"), Some("GET, HEAD"));
            assert_eq!(
                p.body,
                PlannedBody::Text(format!("method not allowed: {method}\n"))
            );
        }
        // The path is judged first.
        let p = plan_response(&Method::POST, "/missing", None);
        assert_eq!(p.status, StatusCode::NOT_FOUND);
    }

    #[test]
    fn range_is_ignored_on_errors_other_than_its_own() {
        let p = get_range("/missing", "bytes=0-1");
        assert_eq!(p.status, StatusCode::NOT_FOUND);
        assert_eq!(p.header("content-range"), None);
    }
}
