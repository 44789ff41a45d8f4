//! Serving one open file the way nginx does: `Range` (one or several ranges, the latter as
//! `multipart/byteranges`), `HEAD`, `ETag`/`Last-Modified` with `If-None-Match`,
//! `If-Modified-Since`, `If-Match`, `If-Unmodified-Since` and `If-Range`, a fitting
//! `Content-Type`, streamed from the file descriptor in fixed-size chunks.
//!
//! Written here rather than with tower-http's `ServeFile` because that one opens by path
//! (following symlinks anywhere); this serves the descriptor `path::Root` opened beneath the
//! tree's root. Range parsing is hand-written too: `http-range-header` refuses overlapping
//! ranges and oversized suffixes that RFC 9110 says to serve.

use std::io::SeekFrom;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use futures::StreamExt;
use rustix::fs::Stat;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

/// Read buffer per streamed response: memory per download is this, whatever the file size.
const CHUNK: usize = 512 * 1024;
/// More ranges than this in one request are answered with the whole file (as nginx's
/// `max_ranges` does when set): many tiny ranges only serve to amplify work.
const MAX_RANGES: usize = 64;

/// What a file is, for validators and headers.
#[derive(Debug, Clone)]
pub struct Meta {
    pub size: u64,
    pub mtime: SystemTime,
    pub etag: String,
}

impl Meta {
    pub fn from_stat(st: &Stat) -> Meta {
        let secs = st.st_mtime.max(0) as u64;
        let nanos = st.st_mtime_nsec;
        let size = st.st_size.max(0) as u64;
        Meta {
            size,
            mtime: UNIX_EPOCH + Duration::from_secs(secs),
            // As nginx: modification time and size, in hex; nanoseconds too, so two writes
            // within one second still change it.
            etag: format!("\"{secs:x}-{nanos:x}-{size:x}\""),
        }
    }

    fn last_modified(&self) -> String {
        httpdate::fmt_http_date(self.mtime)
    }
}

/// Content types a browser would run script in. These are sent as attachments, whatever
/// the request, and every file from a tree carries a sandboxing CSP besides.
fn is_active(mime: &str) -> bool {
    let essence = mime.split(';').next().unwrap_or("").trim();
    matches!(
        essence,
        "text/html"
            | "application/xhtml+xml"
            | "image/svg+xml"
            | "text/xml"
            | "application/xml"
            | "text/xsl"
            | "application/xslt+xml"
            | "text/javascript"
            | "application/javascript"
            | "application/x-javascript"
            | "application/ecmascript"
            | "text/ecmascript"
            | "application/wasm"
            | "application/x-shockwave-flash"
            | "application/vnd.mozilla.xul+xml"
            | "multipart/x-mixed-replace"
    )
}

/// The type a file is served as: by extension; text types get `charset=utf-8`.
pub fn content_type(name: &str) -> String {
    let mime = mime_guess::from_path(name).first_or_octet_stream();
    let s = mime.essence_str().to_owned();
    if mime.type_() == mime_guess::mime::TEXT {
        format!("{s}; charset=utf-8")
    } else {
        s
    }
}

/// `attachment; filename="..."; filename*=UTF-8''...` with the name made safe for a header.
pub fn attachment(name: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded =
        percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC).to_string();
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// Headers every response carrying tree content gets: no sniffing, no script, no framing.
pub fn harden(headers: &mut HeaderMap) {
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    // `sandbox` makes the document an opaque origin with scripts off, even if a browser
    // decided to render it inline; media and images may still load from the same place.
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'",
        ),
    );
    headers.insert("referrer-policy", HeaderValue::from_static("same-origin"));
}

/// A `Range` header's ranges against a size: `None` to serve the whole file (no header, a
/// unit other than bytes, or a header we choose to ignore), `Some(Err)` when nothing in it
/// can be satisfied (416), otherwise inclusive `(first, last)` pairs in request order.
pub fn parse_ranges(value: &str, size: u64) -> Option<Result<Vec<(u64, u64)>, ()>> {
    let spec = value.trim().strip_prefix("bytes=")?;
    let mut out = Vec::new();
    let mut count = 0;
    for part in spec.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        count += 1;
        if count > MAX_RANGES {
            return None;
        }
        let (a, b) = part.split_once('-')?;
        let (a, b) = (a.trim(), b.trim());
        let range = if a.is_empty() {
            // Suffix: the last N bytes (all of them if N exceeds the size).
            let n: u64 = b.parse().ok()?;
            if n == 0 || size == 0 {
                continue;
            }
            (size.saturating_sub(n), size - 1)
        } else {
            let first: u64 = a.parse().ok()?;
            let last: u64 = if b.is_empty() {
                u64::MAX
            } else {
                b.parse().ok()?
            };
            if last < first {
                // Syntactically invalid: RFC 9110 says ignore the whole header.
                return None;
            }
            if first >= size {
                continue;
            }
            (first, last.min(size - 1))
        };
        out.push(range);
    }
    if out.is_empty() {
        return Some(Err(()));
    }
    Some(Ok(out))
}

fn etag_matches(list: &str, etag: &str, weak: bool) -> bool {
    list.split(',').map(str::trim).any(|t| {
        if t == "*" {
            return true;
        }
        if weak {
            t.trim_start_matches("W/") == etag.trim_start_matches("W/")
        } else {
            !t.starts_with("W/") && t == etag
        }
    })
}

fn header_str(h: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

fn not_later(since: &str, mtime: SystemTime) -> bool {
    httpdate::parse_http_date(since).is_ok_and(|t| mtime <= t)
}

enum Decision {
    NotModified,
    PreconditionFailed,
    Serve { honour_range: bool },
}

/// RFC 9110 §13.2.2 order of evaluation.
fn evaluate(req: &HeaderMap, meta: &Meta, is_get_or_head: bool) -> Decision {
    if let Some(im) = header_str(req, header::IF_MATCH) {
        if !etag_matches(im, &meta.etag, false) {
            return Decision::PreconditionFailed;
        }
    } else if let Some(ius) = header_str(req, header::IF_UNMODIFIED_SINCE) {
        if httpdate::parse_http_date(ius).is_ok() && !not_later(ius, meta.mtime) {
            return Decision::PreconditionFailed;
        }
    }
    if let Some(inm) = header_str(req, header::IF_NONE_MATCH) {
        if etag_matches(inm, &meta.etag, true) {
            return if is_get_or_head {
                Decision::NotModified
            } else {
                Decision::PreconditionFailed
            };
        }
    } else if let Some(ims) = header_str(req, header::IF_MODIFIED_SINCE) {
        if is_get_or_head && not_later(ims, meta.mtime) {
            return Decision::NotModified;
        }
    }
    let honour_range = match header_str(req, header::IF_RANGE) {
        None => true,
        Some(v) if v.starts_with('"') => v == meta.etag,
        Some(v) if v.starts_with("W/") => false,
        // A date validator only works if it is exactly the Last-Modified we send.
        Some(v) => httpdate::parse_http_date(v).is_ok_and(|t| t == meta.mtime),
    };
    Decision::Serve { honour_range }
}

fn base(status: StatusCode, meta: &Meta, body: Body) -> Response {
    let mut resp = Response::new(body);
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&meta.etag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&meta.last_modified()) {
        h.insert(header::LAST_MODIFIED, v);
    }
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    harden(h);
    resp
}

fn set(h: &mut HeaderMap, name: header::HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(name, v);
    }
}

/// A stream of `len` bytes of `file` from `start`.
fn slice(
    mut file: tokio::fs::File,
    start: u64,
    len: u64,
) -> impl futures::Stream<Item = std::io::Result<bytes::Bytes>> {
    async_stream_slice(async move {
        file.seek(SeekFrom::Start(start)).await?;
        Ok(ReaderStream::with_capacity(file.take(len), CHUNK))
    })
}

/// Flatten "open a stream asynchronously" into the stream itself.
fn async_stream_slice<S>(
    fut: impl std::future::Future<Output = std::io::Result<S>> + Send + 'static,
) -> impl futures::Stream<Item = std::io::Result<bytes::Bytes>>
where
    S: futures::Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'static,
{
    futures::stream::once(fut)
        .map(|r| match r {
            Ok(s) => s.left_stream(),
            Err(e) => futures::stream::once(async move { Err(e) }).right_stream(),
        })
        .flatten()
}

/// The response for an open regular file. `name` picks the type and the download name;
/// `download` forces `Content-Disposition: attachment`.
pub async fn file_response(
    req: &HeaderMap,
    head: bool,
    file: std::fs::File,
    meta: Meta,
    name: &str,
    download: bool,
) -> Response {
    let ctype = content_type(name);
    match evaluate(req, &meta, true) {
        Decision::NotModified => base(StatusCode::NOT_MODIFIED, &meta, Body::empty()),
        Decision::PreconditionFailed => base(StatusCode::PRECONDITION_FAILED, &meta, Body::empty()),
        Decision::Serve { honour_range } => {
            let ranges = if honour_range {
                header_str(req, header::RANGE).and_then(|r| parse_ranges(r, meta.size))
            } else {
                None
            };
            let file = tokio::fs::File::from_std(file);
            let mut resp = match ranges {
                None => {
                    let body = if head {
                        Body::empty()
                    } else {
                        Body::from_stream(slice(file, 0, meta.size))
                    };
                    let mut r = base(StatusCode::OK, &meta, body);
                    set(
                        r.headers_mut(),
                        header::CONTENT_LENGTH,
                        &meta.size.to_string(),
                    );
                    set(r.headers_mut(), header::CONTENT_TYPE, &ctype);
                    r
                }
                Some(Err(())) => {
                    let mut r = base(StatusCode::RANGE_NOT_SATISFIABLE, &meta, Body::empty());
                    set(
                        r.headers_mut(),
                        header::CONTENT_RANGE,
                        &format!("bytes */{}", meta.size),
                    );
                    return r;
                }
                Some(Ok(ranges)) if ranges.len() == 1 => {
                    let (a, b) = ranges[0];
                    let len = b - a + 1;
                    let body = if head {
                        Body::empty()
                    } else {
                        Body::from_stream(slice(file, a, len))
                    };
                    let mut r = base(StatusCode::PARTIAL_CONTENT, &meta, body);
                    let h = r.headers_mut();
                    set(h, header::CONTENT_LENGTH, &len.to_string());
                    set(h, header::CONTENT_TYPE, &ctype);
                    set(
                        h,
                        header::CONTENT_RANGE,
                        &format!("bytes {a}-{b}/{}", meta.size),
                    );
                    r
                }
                Some(Ok(ranges)) => multipart(file, &meta, &ranges, &ctype, head),
            };
            if download || is_active(&ctype) {
                resp.headers_mut()
                    .insert(header::CONTENT_DISPOSITION, attachment(name));
            }
            resp
        }
    }
}

/// `multipart/byteranges`: each part's headers, then its bytes read from the file as the
/// client takes them.
fn multipart(
    file: tokio::fs::File,
    meta: &Meta,
    ranges: &[(u64, u64)],
    ctype: &str,
    head: bool,
) -> Response {
    let boundary = format!("berth-{:016x}", rand::random::<u64>());
    let heads: Vec<String> = ranges
        .iter()
        .map(|(a, b)| {
            format!(
                "\r\n--{boundary}\r\nContent-Type: {ctype}\r\nContent-Range: bytes {a}-{b}/{}\r\n\r\n",
                meta.size
            )
        })
        .collect();
    let tail = format!("\r\n--{boundary}--\r\n");
    let total: u64 = heads.iter().map(|h| h.len() as u64).sum::<u64>()
        + ranges.iter().map(|(a, b)| b - a + 1).sum::<u64>()
        + tail.len() as u64;
    let body = if head {
        Body::empty()
    } else {
        let parts: Vec<(String, u64, u64)> = heads
            .into_iter()
            .zip(ranges.iter())
            .map(|(h, (a, b))| (h, *a, b - a + 1))
            .collect();
        let stream = futures::stream::unfold(
            (Some(file), parts.into_iter(), Some(tail)),
            |(file, mut parts, tail)| async move {
                let file = file?;
                match parts.next() {
                    Some((head, start, len)) => {
                        // Each part reads through its own handle to the same descriptor.
                        let part_file = match file.try_clone().await {
                            Ok(f) => f,
                            Err(e) => {
                                let err: futures::stream::BoxStream<
                                    'static,
                                    std::io::Result<bytes::Bytes>,
                                > = futures::stream::once(async move { Err(e) }).boxed();
                                return Some((err, (None, parts, tail)));
                            }
                        };
                        let s = futures::stream::once(async move { Ok(bytes::Bytes::from(head)) })
                            .chain(slice(part_file, start, len))
                            .boxed();
                        Some((s, (Some(file), parts, tail)))
                    }
                    None => {
                        let tail = tail?;
                        let s = futures::stream::once(async move { Ok(bytes::Bytes::from(tail)) })
                            .boxed();
                        Some((s, (Some(file), parts, None)))
                    }
                }
            },
        )
        .flatten();
        Body::from_stream(stream)
    };
    let mut r = base(StatusCode::PARTIAL_CONTENT, meta, body);
    let h = r.headers_mut();
    set(h, header::CONTENT_LENGTH, &total.to_string());
    set(
        h,
        header::CONTENT_TYPE,
        &format!("multipart/byteranges; boundary={boundary}"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_ranges("bytes=0-9", 100), Some(Ok(vec![(0, 9)])));
        assert_eq!(parse_ranges("bytes=90-", 100), Some(Ok(vec![(90, 99)])));
        assert_eq!(parse_ranges("bytes=-10", 100), Some(Ok(vec![(90, 99)])));
        assert_eq!(parse_ranges("bytes=-1000", 100), Some(Ok(vec![(0, 99)])));
        assert_eq!(parse_ranges("bytes=95-200", 100), Some(Ok(vec![(95, 99)])));
        assert_eq!(
            parse_ranges("bytes=0-1, 5-6", 100),
            Some(Ok(vec![(0, 1), (5, 6)]))
        );
        assert_eq!(parse_ranges("bytes=200-300", 100), Some(Err(())));
        assert_eq!(parse_ranges("bytes=5-1", 100), None);
        assert_eq!(parse_ranges("items=0-1", 100), None);
        assert_eq!(parse_ranges("bytes=x-1", 100), None);
    }

    #[test]
    fn active_types_are_known() {
        assert!(is_active(&content_type("a.html")));
        assert!(is_active(&content_type("a.svg")));
        assert!(!is_active(&content_type("a.txt")));
        assert!(!is_active(&content_type("a.png")));
    }
}
