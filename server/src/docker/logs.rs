//! `docker logs [-f] [-t] [--tail N] [--since T]`, as a stream that survives restarts and
//! daemon outages.
//!
//! daemon → [`pump`] → bounded channel → the socket writer. History (lines older than the
//! moment the stream was opened) waits for room in the channel, so nothing of it is lost;
//! live lines never wait: when the channel is full the newest few hundred are held back and
//! older ones dropped and counted, so the client gets `{"berth":"skipped","count":N}` where
//! they were, then the latest output. Memory stays bounded by
//! the channel whatever the container writes and however slow the client reads.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bollard::container::LogOutput;
use bollard::query_parameters::{InspectContainerOptions, LogsOptions};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::Endpoint;
use crate::error::{AppError, AppResult};

/// What a log stream asks for.
#[derive(Debug, Clone)]
pub struct LogQuery {
    pub follow: bool,
    /// `all` or a number of lines.
    pub tail: String,
    /// Unix seconds; 0 for "from the start".
    pub since: i64,
    pub timestamps: bool,
    pub stdout: bool,
    pub stderr: bool,
}

/// One item of the stream: a line or a notice.
#[derive(Debug, Clone)]
pub enum Item {
    Line(wire::LogLine),
    Notice(wire::LogNotice),
}

/// A line split from the daemon's frame: (stream, timestamp, text).
fn split(out: LogOutput) -> Option<(&'static str, String, String)> {
    let (stream, bytes) = match out {
        LogOutput::StdErr { message } => ("stderr", message),
        LogOutput::StdOut { message } | LogOutput::Console { message } => ("stdout", message),
        LogOutput::StdIn { .. } => return None,
    };
    let text = String::from_utf8_lossy(&bytes);
    let text = text.strip_suffix('\n').unwrap_or(&text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    // With timestamps=true every frame starts with `RFC3339Nano `.
    let (ts, line) = text.split_once(' ').unwrap_or((text, ""));
    Some((stream, ts.to_string(), line.to_string()))
}

/// A daemon timestamp as (unix seconds, nanoseconds), for ordering and `since`.
fn instant(ts: &str) -> Option<(i64, u32)> {
    let t = OffsetDateTime::parse(ts, &Rfc3339).ok()?;
    Some((t.unix_timestamp(), t.nanosecond()))
}

fn now_instant() -> (i64, u32) {
    let t = OffsetDateTime::now_utc();
    (t.unix_timestamp(), t.nanosecond())
}

/// What `inspect` says about a container's run: running, its start time and exit code.
struct RunState {
    running: bool,
    started_at: String,
    exit_code: Option<i64>,
}

async fn run_state(ep: &Endpoint, id: &str) -> AppResult<RunState> {
    let id = id.to_string();
    let info = ep
        .call(|d| async move {
            d.inspect_container(&id, None::<InspectContainerOptions>)
                .await
        })
        .await?;
    let state = info.state.unwrap_or_default();
    Ok(RunState {
        running: state.running.unwrap_or(false),
        started_at: state.started_at.unwrap_or_default(),
        exit_code: state.exit_code,
    })
}

/// The newest live lines kept back while the channel is full; older ones are dropped and
/// counted, so a client that catches up sees "N skipped" and then the latest output.
const HELD: usize = 256;

/// The pump's side of the channel: history waits for room, live lines never do.
struct Outbox {
    tx: mpsc::Sender<Item>,
    held: VecDeque<Item>,
    skipped: u64,
}

/// The client went away.
struct Closed;

impl Outbox {
    /// Send what is held, as far as there is room, without waiting.
    fn drain(&mut self) -> Result<(), Closed> {
        if self.skipped > 0 {
            let marker = Item::Notice(wire::LogNotice::Skipped {
                count: self.skipped,
            });
            match self.tx.try_send(marker) {
                Ok(()) => self.skipped = 0,
                Err(mpsc::error::TrySendError::Full(_)) => return Ok(()),
                Err(mpsc::error::TrySendError::Closed(_)) => return Err(Closed),
            }
        }
        while let Some(item) = self.held.pop_front() {
            match self.tx.try_send(item) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(item)) => {
                    self.held.push_front(item);
                    return Ok(());
                }
                Err(mpsc::error::TrySendError::Closed(_)) => return Err(Closed),
            }
        }
        Ok(())
    }

    fn pending(&self) -> bool {
        self.skipped > 0 || !self.held.is_empty()
    }

    fn live(&mut self, item: Item) -> Result<(), Closed> {
        self.held.push_back(item);
        if self.held.len() > HELD {
            self.held.pop_front();
            self.skipped += 1;
        }
        self.drain()
    }

    /// Send everything held, waiting for room.
    async fn flush(&mut self) -> Result<(), Closed> {
        if self.skipped > 0 {
            let count = std::mem::take(&mut self.skipped);
            let marker = Item::Notice(wire::LogNotice::Skipped { count });
            self.tx.send(marker).await.map_err(|_| Closed)?;
        }
        while let Some(item) = self.held.pop_front() {
            self.tx.send(item).await.map_err(|_| Closed)?;
        }
        Ok(())
    }

    /// A line or notice that must not be lost: after everything before it.
    async fn send(&mut self, item: Item) -> Result<(), Closed> {
        self.flush().await?;
        self.tx.send(item).await.map_err(|_| Closed)
    }
}

/// Feeds `tx` until the client goes away (the receiver is dropped), or, without follow,
/// until everything asked for was sent.
pub async fn pump(ep: Arc<Endpoint>, id: String, q: LogQuery, tx: mpsc::Sender<Item>) {
    let mut out = Outbox {
        tx,
        held: VecDeque::new(),
        skipped: 0,
    };
    let _ = stream(&ep, &id, &q, &mut out).await;
}

async fn stream(ep: &Endpoint, id: &str, q: &LogQuery, out: &mut Outbox) -> Result<(), Closed> {
    let opened = now_instant();
    let mut last: Option<(i64, u32)> = None;
    let mut first = true;
    // After a run ends, one more pass without follow: the daemon may close a follow stream
    // before it sent the last lines of a container that wrote fast and stopped.
    let mut drain = false;
    let mut started_at = run_state(ep, id)
        .await
        .map(|s| s.started_at)
        .unwrap_or_default();
    loop {
        let opts = LogsOptions {
            follow: q.follow && !drain,
            stdout: q.stdout,
            stderr: q.stderr,
            since: if first {
                q.since.clamp(0, i32::MAX as i64) as i32
            } else {
                // Resume from the last line seen (or from when we began, if none was).
                last.unwrap_or(opened).0.clamp(0, i32::MAX as i64) as i32
            },
            until: 0,
            timestamps: true,
            tail: if first { q.tail.clone() } else { "all".into() },
        };
        let client = match ep.client().await {
            Ok(c) => c,
            Err(e) => {
                wait_for_daemon(ep, out, e).await?;
                first = false;
                continue;
            }
        };
        let mut lines = client.logs(id, Some(opts));
        let mut failed = None;
        loop {
            // While lines are held back, retry sending them even if the container is quiet.
            let item = if out.pending() {
                tokio::select! {
                    item = lines.next() => item,
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {
                        out.drain()?;
                        continue;
                    }
                }
            } else {
                lines.next().await
            };
            let Some(item) = item else { break };
            let frame = match item {
                Ok(frame) => frame,
                Err(e) => {
                    failed = Some(AppError::from(e));
                    break;
                }
            };
            let Some((stream_name, ts, line)) = split(frame) else {
                continue;
            };
            let at = instant(&ts);
            // After a resume the daemon repeats the last second: skip what was sent.
            if let (Some(at), Some(last)) = (at, last) {
                if !first && at <= last {
                    continue;
                }
            }
            if at.is_some() {
                last = at;
            }
            let item = Item::Line(wire::LogLine {
                stream: stream_name.to_string(),
                line,
                ts: q.timestamps.then_some(ts),
            });
            if at.is_some_and(|at| at < opened) {
                out.send(item).await?;
            } else {
                out.live(item)?;
            }
        }
        out.flush().await?;
        first = false;
        if let Some(err) = failed.filter(|e| matches!(e, AppError::DockerUnavailable(_))) {
            wait_for_daemon(ep, out, err).await?;
            continue;
        }
        if !q.follow {
            return out.send(Item::Notice(wire::LogNotice::End)).await;
        }
        // The stream ended: the container stopped, was removed, or the daemon went away.
        match run_state(ep, id).await {
            // A new run (a restart), still going or already over: stream its output.
            Ok(s) if s.started_at != started_at => {
                started_at = s.started_at;
                drain = false;
                out.send(Item::Notice(wire::LogNotice::Restarted)).await?;
            }
            // Still the same run (the daemon closed the stream on us): reopen.
            Ok(s) if s.running => tokio::time::sleep(Duration::from_millis(200)).await,
            // (Log timestamps are taken when the daemon reads the output, which may be
            // after the run ended, so the pass cannot stop at the run's end time: if the
            // container starts again meanwhile, its first lines may precede "restarted".)
            Ok(_) if !drain => drain = true,
            Ok(s) => {
                drain = false;
                let stopped = wire::LogNotice::Stopped {
                    exit_code: s.exit_code,
                };
                out.send(Item::Notice(stopped)).await?;
                started_at = wait_for_start(ep, id, out, &started_at).await?;
                out.send(Item::Notice(wire::LogNotice::Restarted)).await?;
            }
            Err(e @ AppError::DockerUnavailable(_)) => wait_for_daemon(ep, out, e).await?,
            // Removed: nothing more will come.
            Err(_) => return out.send(Item::Notice(wire::LogNotice::End)).await,
        }
    }
}

/// Say the daemon is gone and wait until it answers again.
async fn wait_for_daemon(ep: &Endpoint, out: &mut Outbox, err: AppError) -> Result<(), Closed> {
    let lost = wire::LogNotice::DaemonLost {
        message: err.to_string(),
    };
    out.send(Item::Notice(lost)).await?;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = out.tx.closed() => return Err(Closed),
        }
        ep.reset().await;
        if let Ok(client) = ep.client().await {
            if client.ping().await.is_ok() {
                return out.send(Item::Notice(wire::LogNotice::DaemonBack)).await;
            }
        }
    }
}

/// Wait until the container starts again (a new start time, whether that run still goes
/// on or is already over); returns the new start time.
async fn wait_for_start(
    ep: &Endpoint,
    id: &str,
    out: &mut Outbox,
    started_at: &str,
) -> Result<String, Closed> {
    let mut lost = false;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = out.tx.closed() => return Err(Closed),
        }
        match run_state(ep, id).await {
            Ok(s) => {
                if lost {
                    lost = false;
                    out.send(Item::Notice(wire::LogNotice::DaemonBack)).await?;
                }
                if s.started_at != started_at {
                    return Ok(s.started_at);
                }
            }
            Err(e @ AppError::DockerUnavailable(_)) => {
                if !lost {
                    lost = true;
                    let notice = wire::LogNotice::DaemonLost {
                        message: e.to_string(),
                    };
                    out.send(Item::Notice(notice)).await?;
                }
                ep.reset().await;
            }
            Err(_) => {
                // Removed while we waited.
                out.send(Item::Notice(wire::LogNotice::End)).await?;
                return Err(Closed);
            }
        }
    }
}

/// The logs as text, for a download: one line each, `TS ` first when asked.
pub fn text(
    client: bollard::Docker,
    id: String,
    q: LogQuery,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
    let opts = LogsOptions {
        follow: false,
        stdout: q.stdout,
        stderr: q.stderr,
        since: q.since.clamp(0, i32::MAX as i64) as i32,
        until: 0,
        timestamps: q.timestamps,
        tail: q.tail,
    };
    client.logs(&id, Some(opts)).map(|item| match item {
        Ok(out) => {
            let mut bytes = out.into_bytes().to_vec();
            if !bytes.ends_with(b"\n") {
                bytes.push(b'\n');
            }
            Ok(Bytes::from(bytes))
        }
        Err(e) => Err(std::io::Error::other(e.to_string())),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_split_into_stream_time_and_text() {
        let out = LogOutput::StdErr {
            message: Bytes::from_static(b"2026-01-02T03:04:05.123456789Z oops: a b\r\n"),
        };
        let (s, ts, line) = split(out).unwrap();
        assert_eq!((s, line.as_str()), ("stderr", "oops: a b"));
        let (secs, nanos) = instant(&ts).unwrap();
        assert_eq!(nanos, 123_456_789);
        assert!(secs > 1_700_000_000);
        assert!(instant("2026-01-02T03:04:05.2Z").unwrap() > instant(&ts).unwrap());
    }
}
