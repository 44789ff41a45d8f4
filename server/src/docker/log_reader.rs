//! A container's log stream read straight off the daemon's socket, a batch of lines per
//! read.
//!
//! `GET /containers/{id}/logs` sends every log line as its own HTTP chunk. Through bollard
//! and hyper each chunk crosses a channel between the connection task and the reader on its
//! own; here the socket is read 64 KiB at a time and everything a read holds (chunked or
//! plain body, Docker's 8-byte stream frames or a TTY's raw bytes) is decoded in place, so a
//! busy container costs one wake-up per read, not per line.

use std::io;
use std::time::Duration;

use futures::FutureExt;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::Endpoint;
use crate::error::{AppError, AppResult};

/// How much one read asks of the socket.
const READ: usize = 64 * 1024;
/// How long a read waits while the stream is busy, so that it takes the lines of that
/// time at once: the daemon writes every line on its own, and reading them one by one
/// costs a wake-up each (here and in the client) without being any sooner.
const GATHER: Duration = Duration::from_millis(1);
/// A read that found this much waiting is behind: the next one goes at once. (The daemon's
/// socket holds only a few hundred one-line writes before its writes block, as each
/// costs the kernel an skb of about a kilobyte: a few milliseconds of a busy container.)
const BEHIND: usize = 16 * 1024;
/// The most of an HTTP head, or of an error's body, that is read.
const HEAD_MAX: usize = 64 * 1024;

/// Which stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Stdout,
    Stderr,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Stdout => "stdout",
            Source::Stderr => "stderr",
        }
    }
}

/// What to ask the daemon for (`timestamps=1` always: the caller orders and resumes by them).
pub struct Request<'a> {
    pub id: &'a str,
    pub follow: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub since: i64,
    /// `all` or a number of lines.
    pub tail: &'a str,
    /// A TTY container's output is raw bytes, not stream frames.
    pub tty: bool,
}

use super::transport::Io;

/// An open log stream.
pub struct LogReader {
    io: Box<dyn Io>,
    /// The read buffer: its capacity is filled by reads without being zeroed first, so an
    /// idle stream's buffer costs only the pages its reads touched.
    buf: Vec<u8>,
    /// Body bytes that came with the head, decoded by the first [`LogReader::next_batch`].
    pending: Vec<u8>,
    body: Body,
    lines: Lines,
    ended: bool,
    /// The last read found some data already waiting (less than [`BEHIND`]): the
    /// container writes faster than the stream is read, so the next read waits [`GATHER`]
    /// first and takes many lines at once.
    busy: bool,
}

/// Opens the stream on `ep`'s daemon, with the API version its client negotiated. A daemon
/// that cannot be reached is [`AppError::DockerUnavailable`]; an error answer maps as
/// bollard's would (404: no such container).
pub async fn open(ep: &Endpoint, req: &Request<'_>) -> AppResult<LogReader> {
    let client = ep.client().await?;
    let version = client.client_version();
    let io = ep.dial().await?;
    let host = "docker";
    let path = format!(
        "/v{version}/containers/{}/logs?follow={}&stdout={}&stderr={}&since={}&tail={}&timestamps=1",
        percent_encoding::utf8_percent_encode(req.id, percent_encoding::NON_ALPHANUMERIC),
        u8::from(req.follow),
        u8::from(req.stdout),
        u8::from(req.stderr),
        req.since.max(0),
        percent_encoding::utf8_percent_encode(req.tail, percent_encoding::NON_ALPHANUMERIC),
    );
    open_path(ep, io, host, &path, req.tty).await
}

/// Opens a log stream at `path` (with its version prefix): a container's or, as
/// `/services/{id}/logs`, a service's, which the daemon frames the same way.
pub async fn open_path(
    ep: &Endpoint,
    io: Box<dyn Io>,
    host: &str,
    path: &str,
    tty: bool,
) -> AppResult<LogReader> {
    let unavailable = |e: io::Error| AppError::DockerUnavailable(format!("{}: {e}", ep.name));
    LogReader::start(io, host, path, tty)
        .await
        .map_err(|e| match e {
            Failure::Io(e) => unavailable(e),
            Failure::Status(status, message) => {
                AppError::from(bollard::errors::Error::DockerResponseServerError {
                    status_code: status,
                    message,
                })
            }
        })
}

/// Why a stream could not be opened.
#[derive(Debug)]
enum Failure {
    Io(io::Error),
    /// A status other than 2xx and the daemon's message.
    Status(u16, String),
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Io(e)
    }
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

impl LogReader {
    async fn start(
        mut io: Box<dyn Io>,
        host: &str,
        path: &str,
        tty: bool,
    ) -> Result<Self, Failure> {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: berth\r\nAccept: */*\r\n\r\n"
        );
        io.write_all(request.as_bytes()).await?;
        io.flush().await?;
        // The head; what follows it in the same reads is the body's start. (The daemon may
        // hold the head back until the container writes something.)
        let mut head = Vec::with_capacity(4096);
        let end = loop {
            if let Some(end) = find(&head, b"\r\n\r\n") {
                break end;
            }
            if head.len() > HEAD_MAX {
                return Err(bad("the daemon's answer has no end of head").into());
            }
            let mut chunk = [0u8; 4096];
            let n = io.read(&mut chunk).await?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the daemon closed the connection before answering",
                )
                .into());
            }
            head.extend_from_slice(&chunk[..n]);
        };
        let rest = head.split_off(end + 4);
        let (status, body) = parse_head(&head[..end])?;
        let mut reader = LogReader {
            io,
            buf: Vec::with_capacity(READ),
            pending: Vec::new(),
            body,
            lines: Lines::new(tty),
            ended: false,
            busy: false,
        };
        if !(200..300).contains(&status) {
            let message = reader.error_body(rest).await;
            return Err(Failure::Status(status, message));
        }
        reader.pending = rest;
        Ok(reader)
    }

    /// The daemon's message for an error answer (`{"message": ...}`), read to its end.
    async fn error_body(&mut self, rest: Vec<u8>) -> String {
        let mut text = Vec::new();
        let mut input = rest;
        loop {
            let done = self
                .body
                .feed(&input, |data| text.extend_from_slice(data))
                .unwrap_or(true);
            if done || text.len() > HEAD_MAX {
                break;
            }
            self.buf.clear();
            match self.io.read_buf(&mut self.buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => input = self.buf.clone(),
            }
        }
        #[derive(serde::Deserialize)]
        struct Message {
            message: String,
        }
        match serde_json::from_slice::<Message>(&text) {
            Ok(m) => m.message,
            Err(_) => String::from_utf8_lossy(&text).trim().to_string(),
        }
    }

    /// Reads once (64 KiB at most; while the stream is busy, after a [`GATHER`] pause) and calls `each` with every complete line it finished:
    /// its stream and its bytes as the daemon sent them (`TIMESTAMP text\n`). False when the
    /// stream is over (lines may still have been given). Cancel-safe: lines are only given
    /// after the read, in the same poll.
    pub async fn next_batch(&mut self, mut each: impl FnMut(Source, &[u8])) -> AppResult<bool> {
        if self.ended {
            return Ok(false);
        }
        let LogReader {
            io,
            buf,
            pending,
            body,
            lines,
            ended,
            busy,
        } = self;
        let (input, eof): (&[u8], bool) = if !pending.is_empty() {
            (pending.as_slice(), false)
        } else {
            if *busy {
                tokio::time::sleep(GATHER).await;
            }
            // Data already waiting means a busy stream (unless the reads fall behind); none
            // means the next line is awaited and leaves as soon as it comes.
            buf.clear();
            let read = match io.read_buf(buf).now_or_never() {
                Some(read) => {
                    *busy = read.as_ref().is_ok_and(|&n| n < BEHIND);
                    read
                }
                None => {
                    *busy = false;
                    io.read_buf(buf).await
                }
            };
            match read {
                Ok(0) => (&[], true),
                Ok(_) => (buf.as_slice(), false),
                Err(e) => return Err(AppError::DockerUnavailable(e.to_string())),
            }
        };
        let done = body
            .feed(input, |data| lines.feed(data, &mut each))
            .map_err(|e| AppError::Docker(format!("the daemon's log stream: {e}")))?;
        pending.clear();
        if done {
            lines.finish(&mut each);
            *ended = true;
            return Ok(false);
        }
        if eof {
            lines.finish(&mut each);
            *ended = true;
            if matches!(body, Body::Eof) {
                return Ok(false);
            }
            return Err(AppError::DockerUnavailable(
                "the daemon closed the log stream mid-answer".into(),
            ));
        }
        Ok(true)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The status and how the body is framed.
fn parse_head(head: &[u8]) -> io::Result<(u16, Body)> {
    let head = std::str::from_utf8(head).map_err(|_| bad("a head that is not text"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|_| status_line.starts_with("HTTP/1."))
        .ok_or_else(|| bad("not an HTTP/1 status line"))?;
    let (mut chunked, mut length) = (false, None);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked |= value
                .split(',')
                .any(|v| v.trim().eq_ignore_ascii_case("chunked"));
        } else if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .parse::<u64>()
                    .map_err(|_| bad("a Content-Length that is not a number"))?,
            );
        }
    }
    let body = if chunked {
        Body::Chunked(Chunk::Size {
            value: 0,
            digits: 0,
            ext: false,
        })
    } else if let Some(n) = length {
        Body::Length(n)
    } else if status == 204 || status == 304 {
        Body::Length(0)
    } else {
        Body::Eof
    };
    Ok((status, body))
}

/// How the body is framed, and where the decoder is in it.
#[derive(Debug)]
enum Body {
    Chunked(Chunk),
    /// Bytes left.
    Length(u64),
    /// Until the connection closes.
    Eof,
}

/// `Transfer-Encoding: chunked`: `SIZE[;ext]\r\n DATA \r\n ... 0\r\n [trailers] \r\n`.
#[derive(Debug)]
enum Chunk {
    Size {
        value: u64,
        digits: u8,
        ext: bool,
    },
    SizeLf(u64),
    Data(u64),
    DataCr,
    DataLf,
    /// In the trailer section; true at the start of a line.
    Trailer(bool),
    TrailerLf(bool),
    Done,
}

impl Body {
    /// Decodes `input`, giving the body's bytes to `data`; true once the body is complete.
    fn feed(&mut self, mut input: &[u8], mut data: impl FnMut(&[u8])) -> io::Result<bool> {
        match self {
            Body::Eof => {
                if !input.is_empty() {
                    data(input);
                }
                Ok(false)
            }
            Body::Length(left) => {
                let n = (*left).min(input.len() as u64) as usize;
                if n > 0 {
                    data(&input[..n]);
                }
                *left -= n as u64;
                Ok(*left == 0)
            }
            Body::Chunked(state) => {
                while !input.is_empty() {
                    if let Chunk::Data(left) = state {
                        let n = (*left).min(input.len() as u64) as usize;
                        data(&input[..n]);
                        input = &input[n..];
                        *left -= n as u64;
                        if *left == 0 {
                            *state = Chunk::DataCr;
                        }
                        continue;
                    }
                    let b = input[0];
                    input = &input[1..];
                    *state = match *state {
                        Chunk::Size { value, digits, ext } => match b {
                            b'\r' if digits > 0 => Chunk::SizeLf(value),
                            _ if ext => Chunk::Size { value, digits, ext },
                            b';' if digits > 0 => Chunk::Size {
                                value,
                                digits,
                                ext: true,
                            },
                            b' ' | b'\t' if digits > 0 => Chunk::Size {
                                value,
                                digits,
                                ext: true,
                            },
                            _ => {
                                let d = (b as char)
                                    .to_digit(16)
                                    .ok_or_else(|| bad("a bad chunk size"))?;
                                if digits >= 15 {
                                    return Err(bad("a chunk too big"));
                                }
                                Chunk::Size {
                                    value: value * 16 + u64::from(d),
                                    digits: digits + 1,
                                    ext,
                                }
                            }
                        },
                        Chunk::SizeLf(value) => match b {
                            b'\n' if value == 0 => Chunk::Trailer(true),
                            b'\n' => Chunk::Data(value),
                            _ => return Err(bad("a chunk size without its line end")),
                        },
                        Chunk::DataCr => match b {
                            b'\r' => Chunk::DataLf,
                            _ => return Err(bad("a chunk without its line end")),
                        },
                        Chunk::DataLf => match b {
                            b'\n' => Chunk::Size {
                                value: 0,
                                digits: 0,
                                ext: false,
                            },
                            _ => return Err(bad("a chunk without its line end")),
                        },
                        Chunk::Trailer(start) => match b {
                            b'\r' => Chunk::TrailerLf(start),
                            _ => Chunk::Trailer(false),
                        },
                        Chunk::TrailerLf(start) => match b {
                            b'\n' if start => Chunk::Done,
                            b'\n' => Chunk::Trailer(true),
                            _ => return Err(bad("a trailer without its line end")),
                        },
                        Chunk::Data(_) | Chunk::Done => return Ok(true),
                    };
                }
                Ok(matches!(state, Chunk::Done))
            }
        }
    }
}

/// Splits the body into lines: Docker's stream frames (an 8-byte header: the stream, three
/// zeros, the payload's length big-endian; one frame per line), or, for a TTY container,
/// raw bytes split after each `\n`.
#[derive(Debug)]
struct Lines {
    tty: bool,
    header: [u8; 8],
    /// Header bytes seen of the current frame.
    have: usize,
    /// Payload bytes still to come of the current frame.
    left: usize,
    /// The current frame's stream; None for one that is not shown (stdin).
    source: Option<Source>,
    /// A line or payload begun in an earlier read.
    partial: Vec<u8>,
}

impl Lines {
    fn new(tty: bool) -> Self {
        Lines {
            tty,
            header: [0; 8],
            have: 0,
            left: 0,
            source: None,
            partial: Vec::new(),
        }
    }

    fn feed(&mut self, mut input: &[u8], each: &mut impl FnMut(Source, &[u8])) {
        if self.tty {
            while !input.is_empty() {
                let Some(nl) = input.iter().position(|&b| b == b'\n') else {
                    self.partial.extend_from_slice(input);
                    return;
                };
                let (line, rest) = input.split_at(nl + 1);
                if self.partial.is_empty() {
                    each(Source::Stdout, line);
                } else {
                    self.partial.extend_from_slice(line);
                    each(Source::Stdout, &self.partial);
                    self.partial.clear();
                }
                input = rest;
            }
            return;
        }
        while !input.is_empty() {
            if self.have < 8 {
                let n = (8 - self.have).min(input.len());
                self.header[self.have..self.have + n].copy_from_slice(&input[..n]);
                self.have += n;
                input = &input[n..];
                if self.have < 8 {
                    return;
                }
                self.source = match self.header[0] {
                    1 => Some(Source::Stdout),
                    2 | 3 => Some(Source::Stderr),
                    _ => None,
                };
                let h = &self.header;
                self.left = u32::from_be_bytes([h[4], h[5], h[6], h[7]]) as usize;
                if self.left == 0 {
                    self.have = 0;
                }
                continue;
            }
            let n = self.left.min(input.len());
            let (payload, rest) = input.split_at(n);
            input = rest;
            self.left -= n;
            if self.left == 0 {
                self.have = 0;
            }
            let Some(source) = self.source else {
                continue;
            };
            if self.left == 0 && self.partial.is_empty() {
                each(source, payload);
            } else {
                self.partial.extend_from_slice(payload);
                if self.left == 0 {
                    each(source, &self.partial);
                    self.partial.clear();
                }
            }
        }
    }

    /// The stream ended: a TTY's last line without its `\n` is still a line.
    fn finish(&mut self, each: &mut impl FnMut(Source, &[u8])) {
        if self.tty && !self.partial.is_empty() {
            each(Source::Stdout, &self.partial);
        }
        self.partial.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(stream: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![stream, 0, 0, 0];
        f.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    /// The body as the daemon sends it: one chunk per frame, with an extension on one.
    fn chunked(frames: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            if i == 1 {
                out.extend_from_slice(format!("{:X};x=y\r\n", f.len()).as_bytes());
            } else {
                out.extend_from_slice(format!("{:x}\r\n", f.len()).as_bytes());
            }
            out.extend_from_slice(f);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\nX-Trailer: 1\r\n\r\n");
        out
    }

    fn decode(
        body: &mut Body,
        lines: &mut Lines,
        parts: &[&[u8]],
    ) -> (Vec<(Source, Vec<u8>)>, bool) {
        let mut got = Vec::new();
        let mut done = false;
        for part in parts {
            let mut each = |s: Source, l: &[u8]| got.push((s, l.to_vec()));
            done = body.feed(part, |d| lines.feed(d, &mut each)).unwrap();
        }
        let mut each = |s: Source, l: &[u8]| got.push((s, l.to_vec()));
        lines.finish(&mut each);
        (got, done)
    }

    fn new_chunked() -> Body {
        Body::Chunked(Chunk::Size {
            value: 0,
            digits: 0,
            ext: false,
        })
    }

    #[test]
    fn frames_in_chunks_split_at_every_byte_decode_the_same() {
        let frames = vec![
            frame(1, b"2026-01-02T03:04:05.1Z one\n"),
            frame(2, b"2026-01-02T03:04:05.2Z two\n"),
            frame(0, b"ignored stdin"),
            frame(1, b""),
            frame(1, b"2026-01-02T03:04:05.3Z three, long enough to span\n"),
        ];
        let body = chunked(&frames);
        let want = vec![
            (Source::Stdout, b"2026-01-02T03:04:05.1Z one\n".to_vec()),
            (Source::Stderr, b"2026-01-02T03:04:05.2Z two\n".to_vec()),
            (
                Source::Stdout,
                b"2026-01-02T03:04:05.3Z three, long enough to span\n".to_vec(),
            ),
        ];
        for i in 0..=body.len() {
            for j in i..=body.len() {
                let (mut b, mut l) = (new_chunked(), Lines::new(false));
                let (got, done) = decode(&mut b, &mut l, &[&body[..i], &body[i..j], &body[j..]]);
                assert_eq!(got, want, "split at {i}, {j}");
                assert!(done, "split at {i}, {j}");
            }
        }
        // One byte at a time.
        let (mut b, mut l) = (new_chunked(), Lines::new(false));
        let parts: Vec<&[u8]> = body.chunks(1).collect();
        assert_eq!(decode(&mut b, &mut l, &parts), (want, true));
    }

    #[test]
    fn frames_spanning_chunks_are_put_together() {
        // The daemon never does this, but HTTP allows it: a frame cut across two chunks.
        let f = [frame(1, b"T a\n"), frame(2, b"T b\n")].concat();
        let body = chunked(&[f[..5].to_vec(), f[5..14].to_vec(), f[14..].to_vec()]);
        for i in 0..=body.len() {
            let (mut b, mut l) = (new_chunked(), Lines::new(false));
            let (got, done) = decode(&mut b, &mut l, &[&body[..i], &body[i..]]);
            assert_eq!(
                got,
                vec![
                    (Source::Stdout, b"T a\n".to_vec()),
                    (Source::Stderr, b"T b\n".to_vec())
                ]
            );
            assert!(done);
        }
    }

    #[test]
    fn tty_output_splits_on_newlines_and_keeps_a_last_partial_line() {
        let raw = b"T one\r\nT two\nT three";
        for i in 0..=raw.len() {
            let mut b = Body::Length(raw.len() as u64);
            let mut l = Lines::new(true);
            let (got, done) = decode(&mut b, &mut l, &[&raw[..i], &raw[i..]]);
            assert!(done);
            let got: Vec<Vec<u8>> = got.into_iter().map(|(_, l)| l).collect();
            assert_eq!(
                got,
                vec![
                    b"T one\r\n".to_vec(),
                    b"T two\n".to_vec(),
                    b"T three".to_vec()
                ]
            );
        }
    }

    #[test]
    fn heads_say_how_the_body_is_framed() {
        let (s, b) = parse_head(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked").unwrap();
        assert_eq!(s, 200);
        assert!(matches!(b, Body::Chunked(_)));
        let (s, b) = parse_head(b"HTTP/1.1 404 Not Found\r\ncontent-length: 42").unwrap();
        assert_eq!(s, 404);
        assert!(matches!(b, Body::Length(42)));
        let (_, b) = parse_head(b"HTTP/1.0 200 OK\r\nContent-Type: x").unwrap();
        assert!(matches!(b, Body::Eof));
        assert!(parse_head(b"SSH-2.0").is_err());
    }

    #[test]
    fn bad_chunk_sizes_are_errors() {
        let mut b = new_chunked();
        assert!(b.feed(b"zz\r\n", |_| {}).is_err());
    }

    #[tokio::test]
    async fn a_stream_and_an_error_over_a_socket() {
        let (client, mut server) = tokio::io::duplex(1024);
        let serve = tokio::spawn(async move {
            let mut req = vec![0u8; 1024];
            let n = server.read(&mut req).await.unwrap();
            let req = String::from_utf8_lossy(&req[..n]).to_string();
            let body = chunked(&[frame(1, b"T hello\n"), frame(2, b"T world\n")]);
            let mut out = b"HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.multiplexed-stream\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
            out.extend_from_slice(&body);
            server.write_all(&out).await.unwrap();
            req
        });
        let mut r = match LogReader::start(
            Box::new(client),
            "docker",
            "/v1.41/containers/x/logs",
            false,
        )
        .await
        {
            Ok(r) => r,
            Err(e) => panic!("{e:?}"),
        };
        let mut got = Vec::new();
        while r
            .next_batch(|s, l| got.push((s, l.to_vec())))
            .await
            .unwrap()
        {}
        assert_eq!(
            got,
            vec![
                (Source::Stdout, b"T hello\n".to_vec()),
                (Source::Stderr, b"T world\n".to_vec())
            ]
        );
        let req = serve.await.unwrap();
        assert!(
            req.starts_with("GET /v1.41/containers/x/logs HTTP/1.1\r\n"),
            "{req}"
        );

        let (client, mut server) = tokio::io::duplex(1024);
        tokio::spawn(async move {
            let mut req = vec![0u8; 1024];
            let _ = server.read(&mut req).await.unwrap();
            let body = br#"{"message":"No such container: x"}"#;
            let head = format!(
                "HTTP/1.1 404 Not Found\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            server.write_all(head.as_bytes()).await.unwrap();
            server.write_all(body).await.unwrap();
        });
        match LogReader::start(Box::new(client), "docker", "/x", false).await {
            Err(Failure::Status(404, m)) => assert_eq!(m, "No such container: x"),
            Err(e) => panic!("{e:?}"),
            Ok(_) => panic!("an error answer opened a stream"),
        }
    }
}
