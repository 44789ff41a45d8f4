//! `docker logs [-f] [-t] [--tail N] [--since T]`, as a stream that survives restarts and
//! daemon outages.
//!
//! daemon → [`pump`] → bounded channel → the socket writer. History (lines older than the
//! moment the stream was opened) waits for room in the channel, so nothing of it is lost;
//! live lines never wait: when the channel is full they are dropped and counted, and the
//! client gets `{"berth":"skipped","count":N}` where they were. Memory stays bounded by
//! the channel whatever the container writes and however slow the client reads.

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

/// Feeds `tx` until the client goes away (the receiver is dropped), or, without follow,
/// until everything asked for was sent.
pub async fn pump(ep: Arc<Endpoint>, id: String, q: LogQuery, tx: mpsc::Sender<Item>) {
    let opened = now_instant();
    let mut last: Option<(i64, u32)> = None;
    let mut first = true;
    let mut skipped: u64 = 0;
    let mut started_at = run_state(&ep, &id)
        .await
        .map(|s| s.started_at)
        .unwrap_or_default();
    loop {
        let opts = LogsOptions {
            follow: q.follow,
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
                if !wait_for_daemon(&ep, &tx, e).await {
                    return;
                }
                first = false;
                continue;
            }
        };
        let mut stream = client.logs(&id, Some(opts));
        let mut failed = None;
        while let Some(item) = stream.next().await {
            let out = match item {
                Ok(out) => out,
                Err(e) => {
                    failed = Some(AppError::from(e));
                    break;
                }
            };
            let Some((stream_name, ts, line)) = split(out) else {
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
            let history = at.is_some_and(|at| at < opened);
            if history {
                if skipped > 0 && !flush_skipped(&tx, &mut skipped).await {
                    return;
                }
                if tx.send(item).await.is_err() {
                    return;
                }
                continue;
            }
            if skipped > 0 {
                match tx.try_send(Item::Notice(wire::LogNotice::Skipped { count: skipped })) {
                    Ok(()) => skipped = 0,
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        skipped += 1;
                        continue;
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => return,
                }
            }
            match tx.try_send(item) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => skipped += 1,
                Err(mpsc::error::TrySendError::Closed(_)) => return,
            }
        }
        if skipped > 0 && !flush_skipped(&tx, &mut skipped).await {
            return;
        }
        first = false;
        if let Some(err) = failed.filter(|e| matches!(e, AppError::DockerUnavailable(_))) {
            if !wait_for_daemon(&ep, &tx, err).await {
                return;
            }
            continue;
        }
        if !q.follow {
            let _ = tx.send(Item::Notice(wire::LogNotice::End)).await;
            return;
        }
        // The stream ended: the container stopped, was removed, or the daemon went away.
        match run_state(&ep, &id).await {
            Ok(s) if s.running && s.started_at == started_at => {
                // Still the same run (the daemon closed the stream on us): reopen.
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Ok(s) if s.running => {
                started_at = s.started_at;
                if tx.send(Item::Notice(wire::LogNotice::Restarted)).await.is_err() {
                    return;
                }
            }
            Ok(s) => {
                if tx
                    .send(Item::Notice(wire::LogNotice::Stopped {
                        exit_code: s.exit_code,
                    }))
                    .await
                    .is_err()
                {
                    return;
                }
                match wait_for_start(&ep, &id, &tx, &started_at).await {
                    Some(new_start) => {
                        started_at = new_start;
                        if tx.send(Item::Notice(wire::LogNotice::Restarted)).await.is_err() {
                            return;
                        }
                    }
                    None => return,
                }
            }
            Err(e @ AppError::DockerUnavailable(_)) => {
                if !wait_for_daemon(&ep, &tx, e).await {
                    return;
                }
            }
            // Removed: nothing more will come.
            Err(_) => {
                let _ = tx.send(Item::Notice(wire::LogNotice::End)).await;
                return;
            }
        }
    }
}

async fn flush_skipped(tx: &mpsc::Sender<Item>, skipped: &mut u64) -> bool {
    let count = std::mem::take(skipped);
    tx.send(Item::Notice(wire::LogNotice::Skipped { count }))
        .await
        .is_ok()
}

/// Say the daemon is gone and wait until it answers again. False when the client left.
async fn wait_for_daemon(ep: &Endpoint, tx: &mpsc::Sender<Item>, err: AppError) -> bool {
    let lost = wire::LogNotice::DaemonLost {
        message: err.to_string(),
    };
    if tx.send(Item::Notice(lost)).await.is_err() {
        return false;
    }
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = tx.closed() => return false,
        }
        ep.reset().await;
        if let Ok(client) = ep.client().await {
            if client.ping().await.is_ok() {
                return tx.send(Item::Notice(wire::LogNotice::DaemonBack)).await.is_ok();
            }
        }
    }
}

/// Wait until the container runs again (a new start time). None when the client left or
/// the container was removed.
async fn wait_for_start(
    ep: &Endpoint,
    id: &str,
    tx: &mpsc::Sender<Item>,
    started_at: &str,
) -> Option<String> {
    let mut lost = false;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = tx.closed() => return None,
        }
        match run_state(ep, id).await {
            Ok(s) => {
                if lost {
                    lost = false;
                    tx.send(Item::Notice(wire::LogNotice::DaemonBack)).await.ok()?;
                }
                if s.running && s.started_at != started_at {
                    return Some(s.started_at);
                }
            }
            Err(e @ AppError::DockerUnavailable(_)) => {
                if !lost {
                    lost = true;
                    let notice = wire::LogNotice::DaemonLost {
                        message: e.to_string(),
                    };
                    tx.send(Item::Notice(notice)).await.ok()?;
                }
                ep.reset().await;
            }
            Err(_) => {
                let _ = tx.send(Item::Notice(wire::LogNotice::End)).await;
                return None;
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
