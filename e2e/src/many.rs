//! Many containers, fast: straight to the daemon's API on its unix socket, many requests
//! at once. The docker CLI costs a process (~100 ms) per container; a thousand this way
//! take seconds.
//!
//! [`Many`] labels everything it makes with one value and removes every container with
//! that label when dropped, so a failing test (a panic) cleans up too, even what it made
//! before the failure.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{json, Value};

/// Requests in flight at once.
const PARALLEL: usize = 16;

fn socket() -> String {
    let host = std::env::var("BERTH_TEST_DOCKER_HOST").expect("BERTH_TEST_DOCKER_HOST");
    host.strip_prefix("unix://")
        .unwrap_or_else(|| panic!("the bulk helper needs a unix socket, not {host}"))
        .to_owned()
}

/// Percent-encodes a query value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One request to the daemon. HTTP/1.0 on purpose: the answer is never chunked and ends
/// with the connection, so reading to the end is the whole body.
pub fn request(method: &str, path: &str, body: Option<&Value>) -> (u16, String) {
    try_request(method, path, body)
        .unwrap_or_else(|e| panic!("{method} {path} on the daemon's socket: {e}"))
}

/// [`request`] without panicking (for `Drop`, which may run during a panic).
fn try_request(method: &str, path: &str, body: Option<&Value>) -> std::io::Result<(u16, String)> {
    let mut s = UnixStream::connect(socket())?;
    s.set_read_timeout(Some(Duration::from_secs(60)))?;
    let body = body.map(Value::to_string).unwrap_or_default();
    write!(
        s,
        "{method} {path} HTTP/1.0\r\nHost: docker\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut out = Vec::new();
    s.read_to_end(&mut out)?;
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

/// Runs `f(i)` for `i` in `0..n` on [`PARALLEL`] threads.
fn parallel<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let mut out: Vec<(usize, T)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..PARALLEL.min(n.max(1)))
            .map(|_| {
                scope.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= n {
                            break mine;
                        }
                        mine.push((i, f(i)));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a worker thread"))
            .collect()
    });
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, t)| t).collect()
}

/// Containers made by one test, all labelled `berth-bulk=<tag>`.
pub struct Many {
    tag: String,
}

/// How to make one container of a batch.
pub struct Spec {
    pub name: String,
    pub labels: Vec<(String, String)>,
    /// Container ports to publish on a free host port (`-p PORT`).
    pub publish: Vec<u16>,
}

impl Many {
    /// Nothing made yet; everything labelled with `tag` goes when this is dropped.
    pub fn new(tag: &str) -> Many {
        Many {
            tag: tag.to_owned(),
        }
    }

    /// Creates (does not start) one idling container per spec, of the test image;
    /// returns their ids in the specs' order.
    pub fn create(&self, specs: &[Spec]) -> Vec<String> {
        let image = std::env::var("BERTH_TEST_IMAGE")
            .unwrap_or_else(|_| "berth-test/busybox:latest".into());
        parallel(specs.len(), |i| {
            let spec = &specs[i];
            let mut labels = serde_json::Map::new();
            labels.insert("berth-test".into(), json!("1"));
            labels.insert("berth-bulk".into(), json!(self.tag));
            for (k, v) in &spec.labels {
                labels.insert(k.clone(), json!(v));
            }
            let exposed: serde_json::Map<String, Value> = spec
                .publish
                .iter()
                .map(|p| (format!("{p}/tcp"), json!({})))
                .collect();
            let bindings: serde_json::Map<String, Value> = spec
                .publish
                .iter()
                .map(|p| (format!("{p}/tcp"), json!([{ "HostPort": "" }])))
                .collect();
            let body = json!({
                "Image": image,
                "Cmd": ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"],
                "Labels": labels,
                "ExposedPorts": exposed,
                "HostConfig": { "PortBindings": bindings },
            });
            let (status, text) = request(
                "POST",
                &format!("/containers/create?name={}", enc(&spec.name)),
                Some(&body),
            );
            assert_eq!(status, 201, "create {}: {text}", spec.name);
            let v: Value = serde_json::from_str(&text).expect("the create answer");
            v["Id"].as_str().expect("an id").to_owned()
        })
    }

    /// Starts one (by id or name).
    pub fn start(&self, id: &str) {
        let (status, text) = request("POST", &format!("/containers/{}/start", enc(id)), None);
        assert!(
            status == 204 || status == 304,
            "start {id}: {status} {text}"
        );
    }

    /// Ids of every container with this batch's label, running or not.
    pub fn ids(&self) -> Vec<String> {
        let filters = json!({ "label": [format!("berth-bulk={}", self.tag)] }).to_string();
        let path = format!("/containers/json?all=1&filters={}", enc(&filters));
        let Ok((200, text)) = try_request("GET", &path, None) else {
            return Vec::new();
        };
        let rows: Vec<Value> = serde_json::from_str(&text).unwrap_or_default();
        rows.iter()
            .filter_map(|r| r["Id"].as_str().map(str::to_owned))
            .collect()
    }
}

impl Drop for Many {
    fn drop(&mut self) {
        let ids = self.ids();
        parallel(ids.len(), |i| {
            let _ = try_request(
                "DELETE",
                &format!("/containers/{}?force=1&v=1", ids[i]),
                None,
            );
        });
    }
}
