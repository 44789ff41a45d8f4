//! The reference side of most rows: the daemon's own API, spoken directly over its unix
//! socket with a minimal HTTP/1.1 client (hand-written on purpose: the reference must add as
//! little as possible between the socket and the count, and it needs the hijacked raw
//! stream of `attach` and `exec start`, which general clients do not hand out).

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

/// Label on every container the bench creates; `berth-bench-run` tells runs apart.
pub const LABEL: &str = "berth-bench";

/// The daemon at a `unix://` host.
#[derive(Clone)]
pub struct Daemon {
    socket: PathBuf,
    /// This run's id, stamped on its containers so cleanup removes exactly those.
    pub run: String,
}

/// What a response starts with.
pub struct Head {
    pub status: u16,
    chunked: bool,
    length: Option<usize>,
}

/// One keep-alive connection to the daemon.
pub struct Conn {
    io: BufReader<UnixStream>,
}

impl Daemon {
    pub fn new(host: &str) -> Result<Daemon> {
        let Some(path) = host.strip_prefix("unix://") else {
            bail!("the bench speaks to the daemon over its unix socket; got {host:?}");
        };
        Ok(Daemon {
            socket: path.into(),
            run: format!("{}-{}", std::process::id(), crate::now_ms()),
        })
    }

    pub fn socket(&self) -> &std::path::Path {
        &self.socket
    }

    pub async fn conn(&self) -> Result<Conn> {
        let s = UnixStream::connect(&self.socket)
            .await
            .with_context(|| format!("cannot connect to {}", self.socket.display()))?;
        Ok(Conn {
            io: BufReader::with_capacity(64 * 1024, s),
        })
    }

    /// One request on a fresh connection; the JSON answer (or `null` for an empty body).
    pub async fn json(&self, method: &str, path: &str, body: Option<&Value>) -> Result<Value> {
        let mut c = self.conn().await?;
        let (status, bytes) = c.request(method, path, body).await?;
        if !(200..300).contains(&status) {
            bail!(
                "{method} {path}: daemon answered {status}: {}",
                String::from_utf8_lossy(&bytes)
            );
        }
        if bytes.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&bytes).with_context(|| format!("{method} {path}: not JSON"))
    }

    /// Creates (and, when `start`, starts) a labelled container of the test image.
    /// `unix://…`, for a docker CLI on this daemon's socket.
    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    pub async fn create(
        &self,
        name: &str,
        cmd: &[&str],
        extra: Value,
        start: bool,
    ) -> Result<String> {
        let mut body = json!({
            "Image": crate::image(),
            "Cmd": cmd,
            "Labels": { LABEL: "1", "berth-bench-run": self.run },
            "HostConfig": { "NetworkMode": "none" },
        });
        if let (Some(b), Value::Object(extra)) = (body.as_object_mut(), extra) {
            b.extend(extra);
        }
        let made = self
            .json(
                "POST",
                &format!("/containers/create?name={name}"),
                Some(&body),
            )
            .await?;
        let id = made["Id"]
            .as_str()
            .context("create: no Id in the answer")?
            .to_owned();
        if start {
            self.json("POST", &format!("/containers/{id}/start"), None)
                .await?;
        }
        Ok(id)
    }

    /// Removes every container of this run (force), a few at a time.
    pub async fn remove_run(&self) -> Result<usize> {
        let filters = json!({ "label": [format!("berth-bench-run={}", self.run)] }).to_string();
        let list = self
            .json(
                "GET",
                &format!("/containers/json?all=1&filters={}", urlencode(&filters)),
                None,
            )
            .await?;
        let ids: Vec<String> = list
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|c| c["Id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let n = ids.len();
        for chunk in ids.chunks(8) {
            let jobs = chunk.iter().map(|id| async move {
                self.json("DELETE", &format!("/containers/{id}?force=1&v=1"), None)
                    .await
            });
            for r in futures::future::join_all(jobs).await {
                if let Err(e) = r {
                    eprintln!("bench: cleanup: {e:#}");
                }
            }
        }
        Ok(n)
    }

    /// `POST path` with `Upgrade: tcp`: after the daemon's 101 the connection carries the
    /// container's raw stream both ways (attach, exec start).
    pub async fn hijack(&self, path: &str, body: Option<&Value>) -> Result<UnixStream> {
        let mut c = self.conn().await?;
        let bytes = body.map(|b| b.to_string()).unwrap_or_default();
        let req = format!(
            "POST {path} HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n{bytes}",
            bytes.len()
        );
        c.io.get_mut().write_all(req.as_bytes()).await?;
        let head = c.head().await?;
        if head.status != 101 && head.status != 200 {
            bail!("{path}: daemon answered {} to the upgrade", head.status);
        }
        if !c.io.buffer().is_empty() {
            bail!("{path}: bytes arrived before the hijack completed");
        }
        Ok(c.io.into_inner())
    }
}

impl Conn {
    pub async fn send(&mut self, method: &str, path: &str, body: Option<&Value>) -> Result<()> {
        let bytes = body.map(|b| b.to_string()).unwrap_or_default();
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: docker\r\n");
        if body.is_some() {
            req.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                bytes.len()
            ));
        }
        req.push_str("\r\n");
        req.push_str(&bytes);
        self.io.get_mut().write_all(req.as_bytes()).await?;
        Ok(())
    }

    pub async fn head(&mut self) -> Result<Head> {
        let mut line = String::new();
        self.io.read_line(&mut line).await?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .with_context(|| format!("bad status line {line:?}"))?;
        let (mut chunked, mut length) = (false, None);
        loop {
            line.clear();
            if self.io.read_line(&mut line).await? == 0 {
                bail!("connection closed inside the headers");
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
                if k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked") {
                    chunked = true;
                } else if k == "content-length" {
                    length = v.parse().ok();
                }
            }
        }
        Ok(Head {
            status,
            chunked,
            length,
        })
    }

    /// The next piece of a streamed body (a chunk, or what arrived of an unframed body);
    /// None at its end.
    pub async fn next_piece(&mut self, head: &Head, buf: &mut Vec<u8>) -> Result<bool> {
        buf.clear();
        if head.chunked {
            let mut line = String::new();
            if self.io.read_line(&mut line).await? == 0 {
                return Ok(false);
            }
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .with_context(|| format!("bad chunk size {line:?}"))?;
            if size == 0 {
                line.clear();
                self.io.read_line(&mut line).await?;
                return Ok(false);
            }
            buf.resize(size, 0);
            self.io.read_exact(buf).await?;
            let mut crlf = [0u8; 2];
            self.io.read_exact(&mut crlf).await?;
            Ok(true)
        } else {
            buf.resize(64 * 1024, 0);
            let n = self.io.read(buf).await?;
            buf.truncate(n);
            Ok(n > 0)
        }
    }

    /// A whole body.
    pub async fn body(&mut self, head: &Head) -> Result<Vec<u8>> {
        if let Some(len) = head.length.filter(|_| !head.chunked) {
            let mut out = vec![0; len];
            self.io.read_exact(&mut out).await?;
            return Ok(out);
        }
        if !head.chunked && matches!(head.status, 204 | 304) {
            return Ok(Vec::new());
        }
        let (mut out, mut piece) = (Vec::new(), Vec::new());
        while self.next_piece(head, &mut piece).await? {
            out.extend_from_slice(&piece);
        }
        Ok(out)
    }

    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Vec<u8>)> {
        self.send(method, path, body).await?;
        let head = self.head().await?;
        let bytes = self.body(&head).await?;
        Ok((head.status, bytes))
    }
}

/// The daemon's multiplexed stream (a container without a tty): 8-byte headers
/// `[stream, 0, 0, 0, len u32 BE]`, each followed by `len` bytes of that stream.
#[derive(Default)]
pub struct Demux {
    pending: Vec<u8>,
}

impl Demux {
    /// Feeds bytes as they arrived; calls `each` with every complete payload.
    pub fn feed(&mut self, bytes: &[u8], mut each: impl FnMut(u8, &[u8])) {
        self.pending.extend_from_slice(bytes);
        let mut at = 0;
        while self.pending.len() - at >= 8 {
            let h = &self.pending[at..at + 8];
            let len = u32::from_be_bytes([h[4], h[5], h[6], h[7]]) as usize;
            if self.pending.len() - at - 8 < len {
                break;
            }
            each(h[0], &self.pending[at + 8..at + 8 + len]);
            at += 8 + len;
        }
        self.pending.drain(..at);
    }
}

/// Percent-encodes a query value (filters are JSON).
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::Demux;

    #[test]
    fn demux_joins_split_frames() {
        let mut d = Demux::default();
        let mut got = Vec::new();
        let frame = |s: u8, p: &[u8]| {
            let mut f = vec![s, 0, 0, 0];
            f.extend_from_slice(&(p.len() as u32).to_be_bytes());
            f.extend_from_slice(p);
            f
        };
        let mut all = frame(1, b"one\n");
        all.extend(frame(2, b"two\n"));
        for piece in all.chunks(3) {
            d.feed(piece, |s, p| got.push((s, p.to_vec())));
        }
        assert_eq!(got, vec![(1, b"one\n".to_vec()), (2, b"two\n".to_vec())]);
    }
}
