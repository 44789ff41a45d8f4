//! A tar on its way to the daemon (a build context, an image archive), watched as it flows:
//! the small entries the policy needs (the Dockerfile, `manifest.json`) are captured, and
//! the end of the archive is held back until the policy has judged them. The daemon reads a
//! classic build's context and a `docker load` archive whole before it acts on either, so
//! nothing is built or tagged before the verdict; a refusal breaks the upload off.
//!
//! The tar format is parsed by hand (headers are fixed 512-byte blocks): the `tar` crate
//! reads from `std::io::Read`, which a stream passing through cannot be.

use std::collections::HashMap;
use std::future::Future;
use std::io::{self, Write};
use std::pin::Pin;

use bytes::Bytes;
use futures::{Stream, StreamExt};

/// Entries larger than this are not captured (a Dockerfile or manifest never is).
const MAX_CAPTURE: u64 = 1 << 20;

/// What was captured, by entry path (without a leading `./`).
pub type Captured = HashMap<String, Vec<u8>>;

enum State {
    Header,
    Body {
        left: u64,
        pad: u64,
        keep: Option<String>,
        meta: Option<u8>,
    },
    End,
}

/// The parser: fed bytes in order, it says where the archive's end marker starts.
struct Peek {
    wanted: Vec<String>,
    state: State,
    block: Vec<u8>,
    /// A PAX or GNU long name for the next entry.
    next_name: Option<String>,
    body: Vec<u8>,
    captured: Captured,
}

fn octal(field: &[u8]) -> u64 {
    // Base-256 (high bit set) for large sizes.
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        return field[1..]
            .iter()
            .fold(0u64, |a, b| (a << 8) | u64::from(*b));
    }
    let s: String = field
        .iter()
        .take_while(|b| **b != 0)
        .map(|b| *b as char)
        .collect();
    u64::from_str_radix(s.trim(), 8).unwrap_or(0)
}

fn cstr(field: &[u8]) -> String {
    let end = field.iter().position(|b| *b == 0).unwrap_or(field.len());
    String::from_utf8_lossy(&field[..end]).into_owned()
}

fn clean(path: &str) -> String {
    let mut p = path.trim_start_matches("./").trim_start_matches('/');
    while let Some(rest) = p.strip_prefix("./") {
        p = rest;
    }
    p.to_owned()
}

impl Peek {
    fn new(wanted: Vec<String>) -> Self {
        Peek {
            wanted: wanted.iter().map(|w| clean(w)).collect(),
            state: State::Header,
            block: Vec::with_capacity(512),
            next_name: None,
            body: Vec::new(),
            captured: HashMap::new(),
        }
    }

    /// Feed bytes; returns the offset in `data` at which the end marker begins, once.
    fn feed(&mut self, data: &[u8]) -> Option<usize> {
        let mut i = 0;
        while i < data.len() {
            match &mut self.state {
                State::End => return None,
                State::Header => {
                    let take = (512 - self.block.len()).min(data.len() - i);
                    let start = i;
                    self.block.extend_from_slice(&data[i..i + take]);
                    i += take;
                    if self.block.len() < 512 {
                        continue;
                    }
                    let h = std::mem::take(&mut self.block);
                    if h.iter().all(|b| *b == 0) {
                        self.state = State::End;
                        // Hold from this block's last byte on: bytes of it that already went
                        // (when it spans chunks) are no block the daemon can act on.
                        return Some((start + take).saturating_sub(512));
                    }
                    let size = octal(&h[124..136]);
                    let kind = h[156];
                    let mut name = cstr(&h[0..100]);
                    if &h[257..262] == b"ustar" {
                        let prefix = cstr(&h[345..500]);
                        if !prefix.is_empty() {
                            name = format!("{prefix}/{name}");
                        }
                    }
                    let meta = matches!(kind, b'x' | b'L').then_some(kind);
                    if meta.is_none() {
                        if let Some(long) = self.next_name.take() {
                            name = long;
                        }
                    }
                    let name = clean(&name);
                    let wanted = meta.is_none() && self.wanted.contains(&name);
                    let regular = matches!(kind, b'0' | 0);
                    if wanted && (!regular || size > MAX_CAPTURE) {
                        // A link or a huge file where a small file was expected: say so,
                        // under the name with a `!` before it, so the judge can refuse.
                        self.captured.insert(format!("!{name}"), Vec::new());
                    }
                    let keep = (meta.is_some() || (wanted && regular)) && size <= MAX_CAPTURE;
                    self.body.clear();
                    self.state = State::Body {
                        left: size,
                        pad: (512 - size % 512) % 512,
                        keep: keep.then_some(name),
                        meta,
                    };
                    self.finish_if_empty();
                }
                State::Body {
                    left, pad, keep, ..
                } => {
                    if *left > 0 {
                        let take = (*left).min((data.len() - i) as u64) as usize;
                        if keep.is_some() {
                            self.body.extend_from_slice(&data[i..i + take]);
                        }
                        *left -= take as u64;
                        i += take;
                    } else {
                        let take = (*pad).min((data.len() - i) as u64) as usize;
                        *pad -= take as u64;
                        i += take;
                    }
                    self.finish_if_empty();
                }
            }
        }
        None
    }

    fn finish_if_empty(&mut self) {
        let State::Body {
            left: 0,
            pad: 0,
            keep,
            meta,
        } = &mut self.state
        else {
            return;
        };
        let keep = keep.take();
        let meta = *meta;
        let body = std::mem::take(&mut self.body);
        self.state = State::Header;
        match (meta, keep) {
            (Some(b'L'), _) => self.next_name = Some(cstr(&body)),
            (Some(_), _) => {
                // PAX records: "LEN key=value\n".
                let text = String::from_utf8_lossy(&body);
                for rec in text.split('\n') {
                    if let Some((_, kv)) = rec.split_once(' ') {
                        if let Some(path) = kv.strip_prefix("path=") {
                            self.next_name = Some(path.to_owned());
                        }
                    }
                }
            }
            (None, Some(name)) => {
                self.captured.insert(name, body);
            }
            (None, None) => {}
        }
    }
}

/// Decompresses a gzip archive alongside, for the parser only (the bytes pass on as sent).
struct Inflate(flate2::write::GzDecoder<Vec<u8>>);

/// How a stream is compressed, from its first bytes.
fn compression(first: &[u8]) -> Option<&'static str> {
    match first {
        [0x1f, 0x8b, ..] => Some("gzip"),
        [b'B', b'Z', b'h', ..] => Some("bzip2"),
        [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => Some("xz"),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Some("zstd"),
        _ => None,
    }
}

/// The judgement on what was captured: Ok, or the refusal (kept by the caller to report).
pub type Verdict = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

/// Pass `input` on, capturing `wanted` entries, and hold the archive's end until `judge`
/// has answered on them. A refusal ends the stream with an error (the upload breaks off);
/// `judge` is also called (with what was seen) when the input ends without an end marker.
pub fn gate<S, J>(
    input: S,
    wanted: Vec<String>,
    judge: J,
) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static
where
    S: Stream<Item = io::Result<Bytes>> + Send + Unpin + 'static,
    J: FnOnce(Captured) -> Verdict + Send + 'static,
{
    struct St<S, J> {
        input: S,
        peek: Peek,
        inflate: Option<Inflate>,
        first: bool,
        held: Vec<Bytes>,
        judge: Option<J>,
        done: bool,
    }
    let st = St {
        input,
        peek: Peek::new(wanted),
        inflate: None,
        first: true,
        held: Vec::new(),
        judge: Some(judge),
        done: false,
    };
    futures::stream::unfold(st, |mut st| async move {
        if st.done {
            return None;
        }
        loop {
            // Once the end marker was seen, everything after it waits for the verdict.
            let ended = matches!(st.peek.state, State::End);
            match st.input.next().await {
                Some(Ok(chunk)) => {
                    if st.first {
                        st.first = false;
                        match compression(&chunk) {
                            Some("gzip") => {
                                st.inflate =
                                    Some(Inflate(flate2::write::GzDecoder::new(Vec::new())))
                            }
                            Some(other) => {
                                st.done = true;
                                let msg = format!(
                                    "berth reads only plain or gzip archives, not {other}: unpack it or use gzip"
                                );
                                return Some((Err(io::Error::other(msg)), st));
                            }
                            None => {}
                        }
                    }
                    if ended {
                        st.held.push(chunk);
                        continue;
                    }
                    let cut = match st.inflate.as_mut() {
                        Some(Inflate(dec)) => {
                            // flush: the decoder otherwise keeps this chunk's output until
                            // the next write, a chunk too late to hold the marker back.
                            if dec.write_all(&chunk).and_then(|()| dec.flush()).is_err() {
                                st.done = true;
                                let msg = "the archive is not valid gzip".to_owned();
                                return Some((Err(io::Error::other(msg)), st));
                            }
                            let plain = std::mem::take(dec.get_mut());
                            // The compressed bytes cannot be split at the marker: hold the
                            // whole chunk in which it appears.
                            st.peek.feed(&plain).map(|_| 0)
                        }
                        None => st.peek.feed(&chunk),
                    };
                    match cut {
                        None => return Some((Ok(chunk), st)),
                        Some(at) => {
                            st.held.push(chunk.slice(at..));
                            if at > 0 {
                                return Some((Ok(chunk.slice(..at)), st));
                            }
                        }
                    }
                }
                Some(Err(e)) => {
                    st.done = true;
                    return Some((Err(e), st));
                }
                None => {
                    st.done = true;
                    if let Some(judge) = st.judge.take() {
                        let captured = std::mem::take(&mut st.peek.captured);
                        if let Err(why) = judge(captured).await {
                            return Some((Err(io::Error::other(why)), st));
                        }
                    }
                    let rest: Vec<u8> = st.held.iter().flat_map(|b| b.iter().copied()).collect();
                    if rest.is_empty() {
                        return None;
                    }
                    return Some((Ok(Bytes::from(rest)), st));
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(entries: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (name, data) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            b.append_data(&mut h, name, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    async fn run(bytes: Vec<u8>, chunk: usize, refuse: bool) -> (Vec<u8>, Option<Captured>, bool) {
        let chunks: Vec<io::Result<Bytes>> = bytes
            .chunks(chunk)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(None));
        let slot = seen.clone();
        let s = gate(
            futures::stream::iter(chunks),
            vec!["Dockerfile".into(), "manifest.json".into()],
            move |c| {
                *slot.lock().unwrap() = Some(c);
                Box::pin(async move {
                    if refuse {
                        Err("no".into())
                    } else {
                        Ok(())
                    }
                })
            },
        );
        let items: Vec<io::Result<Bytes>> = s.collect().await;
        let failed = items.iter().any(|i| i.is_err());
        let out = items
            .into_iter()
            .flatten()
            .flat_map(|b| b.to_vec())
            .collect();
        let captured = seen.lock().unwrap().take();
        (out, captured, failed)
    }

    #[tokio::test]
    async fn captures_and_holds_the_end_at_every_chunk_size() {
        let long = "d/".repeat(80) + "x";
        let bytes = archive(&[
            ("./Dockerfile", b"FROM busybox\n"),
            (long.as_str(), &[7u8; 3000]),
            ("manifest.json", b"[]"),
        ]);
        for chunk in [1, 7, 511, 512, 513, 4096, 1 << 20] {
            let (out, captured, failed) = run(bytes.clone(), chunk, false).await;
            assert!(!failed);
            assert_eq!(out, bytes, "chunk {chunk}");
            let c = captured.unwrap();
            assert_eq!(c["Dockerfile"], b"FROM busybox\n");
            assert_eq!(c["manifest.json"], b"[]");
            let (out, _, failed) = run(bytes.clone(), chunk, true).await;
            assert!(failed);
            // The daemon never got a whole zero block, so never the end of the archive.
            assert!(out.len() < bytes.len() - 1024 + 512, "chunk {chunk}");
            assert!(out.len() >= bytes.len() - 1024 - 512, "chunk {chunk}");
        }
    }

    #[tokio::test]
    async fn gzip_is_read_alongside() {
        let bytes = archive(&[("manifest.json", b"[{\"RepoTags\":[\"a:1\"]}]")]);
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&bytes).unwrap();
        let gz = enc.finish().unwrap();
        let (out, captured, failed) = run(gz.clone(), 100, false).await;
        assert!(!failed);
        assert_eq!(out, gz);
        assert!(captured.unwrap().contains_key("manifest.json"));
    }
}
