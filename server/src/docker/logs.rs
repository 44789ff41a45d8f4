//! `docker logs [-f] [-t] [--tail N] [--since T]`, as a stream that survives restarts and
//! daemon outages.
//!
//! daemon → [`log_reader`] (the socket read 64 KiB at a time) → [`pump`] → bounded channel
//! of batches (the lines of one read each) → the socket writer. History (lines older than
//! the moment the stream was opened) waits for room in the channel, so nothing of it is
//! lost; live lines never wait: when the channel is full the newest few hundred are held
//! back and older ones dropped and counted, so the client gets
//! `{"berth":"skipped","count":N}` where they were, then the latest output. Memory stays
//! bounded by the channel whatever the container writes and however slow the client reads.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bollard::query_parameters::{InspectContainerOptions, LogsOptions};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::{log_reader, Endpoint};
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

/// A log line, serialized as [`wire::LogLine`] (without its per-line allocation for the
/// stream's name).
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    /// `stdout` or `stderr` (`stdout` for a tty container, whose streams are one).
    pub stream: &'static str,
    pub line: String,
    /// RFC 3339 with nanoseconds, when `timestamps=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ts: Option<String>,
    /// A service's log line: the task (and node) that wrote it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

/// One item of the stream: a line or a notice.
#[derive(Debug, Clone)]
pub enum Item {
    Line(Line),
    Notice(wire::LogNotice),
}

/// What the channel carries: the lines of one read of the daemon's stream, or a notice.
pub type Batch = Vec<Item>;

/// A line as the daemon sends it with `timestamps=1` (`RFC3339Nano text\n`), split into
/// (timestamp, text).
pub(crate) fn split(raw: &[u8]) -> (&[u8], &[u8]) {
    let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
    let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
    match raw.iter().position(|&b| b == b' ') {
        Some(i) => (&raw[..i], &raw[i + 1..]),
        None => (raw, &[]),
    }
}

/// A daemon timestamp as (unix seconds, nanoseconds), for ordering and `since`. The
/// daemon's own form (`2006-01-02T15:04:05.999999999Z`, UTC) is read by hand, as it comes
/// with every line; anything else goes through `time`'s RFC 3339 parser.
pub(crate) fn instant(ts: &[u8]) -> Option<(i64, u32)> {
    fast_instant(ts).or_else(|| {
        let t = OffsetDateTime::parse(std::str::from_utf8(ts).ok()?, &Rfc3339).ok()?;
        Some((t.unix_timestamp(), t.nanosecond()))
    })
}

fn fast_instant(ts: &[u8]) -> Option<(i64, u32)> {
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let mut n = 0i64;
        for &b in ts.get(r)? {
            if !b.is_ascii_digit() {
                return None;
            }
            n = n * 10 + i64::from(b - b'0');
        }
        Some(n)
    };
    if ts.len() < 20 || ts[4] != b'-' || ts[7] != b'-' || ts[10] != b'T' {
        return None;
    }
    if ts[13] != b':' || ts[16] != b':' || ts.last() != Some(&b'Z') {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let frac = &ts[19..ts.len() - 1];
    let nanos = match frac.split_first() {
        None => 0,
        Some((b'.', digits)) if !digits.is_empty() && digits.len() <= 9 => {
            let n = num(20..20 + digits.len())?;
            (n * 10i64.pow(9 - digits.len() as u32)) as u32
        }
        Some(_) => return None,
    };
    // Days since 1970-01-01 (Howard Hinnant's days_from_civil).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some((days * 86_400 + h * 3600 + mi * 60 + s, nanos))
}

fn now_instant() -> (i64, u32) {
    let t = OffsetDateTime::now_utc();
    (t.unix_timestamp(), t.nanosecond())
}

/// What `inspect` says about a container's run: running, its start time and exit code,
/// and whether it has a TTY (its log stream is then raw bytes, not stream frames).
struct RunState {
    running: bool,
    started_at: String,
    exit_code: Option<i64>,
    tty: bool,
}

async fn run_state(ep: &Endpoint, id: &str) -> AppResult<RunState> {
    let id = id.to_string();
    let info = ep
        .call(|d| async move {
            d.inspect_container(&id, None::<InspectContainerOptions>)
                .await
        })
        .await?;
    let tty = info.config.and_then(|c| c.tty).unwrap_or(false);
    let state = info.state.unwrap_or_default();
    Ok(RunState {
        running: state.running.unwrap_or(false),
        started_at: state.started_at.unwrap_or_default(),
        exit_code: state.exit_code,
        tty,
    })
}

/// The newest live lines kept back while the channel is full; older ones are dropped and
/// counted, so a client that catches up sees "N skipped" and then the latest output.
const HELD: usize = 256;

/// The pump's side of the channel: history waits for room, live lines never do.
pub(crate) struct Outbox {
    tx: mpsc::Sender<Batch>,
    held: VecDeque<Item>,
    skipped: u64,
}

/// The client went away.
pub(crate) struct Closed;

pub(crate) fn notice(n: wire::LogNotice) -> Batch {
    vec![Item::Notice(n)]
}

impl Outbox {
    pub(crate) fn new(tx: mpsc::Sender<Batch>) -> Self {
        Outbox {
            tx,
            held: VecDeque::new(),
            skipped: 0,
        }
    }

    /// What is held, after the "skipped" marker if lines were dropped, as one batch.
    fn take_held(&mut self) -> Batch {
        let mut batch = Vec::with_capacity(self.held.len() + 1);
        if self.skipped > 0 {
            let count = std::mem::take(&mut self.skipped);
            batch.push(Item::Notice(wire::LogNotice::Skipped { count }));
        }
        batch.extend(self.held.drain(..));
        batch
    }

    /// Send what is held if there is room, without waiting.
    pub(crate) fn drain(&mut self) -> Result<(), Closed> {
        if !self.pending() {
            return Ok(());
        }
        if self.tx.is_closed() {
            return Err(Closed);
        }
        if self.tx.capacity() == 0 {
            return Ok(());
        }
        let batch = self.take_held();
        match self.tx.try_send(batch) {
            Ok(()) => Ok(()),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(Closed),
            // (Not while this is the only sender; put it back as it was.)
            Err(mpsc::error::TrySendError::Full(batch)) => {
                for item in batch {
                    match item {
                        Item::Notice(wire::LogNotice::Skipped { count }) => self.skipped += count,
                        item => self.held.push_back(item),
                    }
                }
                Ok(())
            }
        }
    }

    pub(crate) fn pending(&self) -> bool {
        self.skipped > 0 || !self.held.is_empty()
    }

    /// Live lines: sent at once if there is room, else held, the oldest dropped and counted.
    pub(crate) fn live(&mut self, mut batch: Batch) -> Result<(), Closed> {
        if !self.pending() {
            match self.tx.try_send(batch) {
                Ok(()) => return Ok(()),
                Err(mpsc::error::TrySendError::Closed(_)) => return Err(Closed),
                Err(mpsc::error::TrySendError::Full(b)) => batch = b,
            }
        }
        self.held.extend(batch);
        let over = self.held.len().saturating_sub(HELD);
        if over > 0 {
            self.held.drain(..over);
            self.skipped += over as u64;
        }
        self.drain()
    }

    /// Send everything held, waiting for room.
    pub(crate) async fn flush(&mut self) -> Result<(), Closed> {
        if !self.pending() {
            return Ok(());
        }
        let batch = self.take_held();
        self.tx.send(batch).await.map_err(|_| Closed)
    }

    /// Lines or notices that must not be lost: after everything before them.
    pub(crate) async fn send(&mut self, batch: Batch) -> Result<(), Closed> {
        self.flush().await?;
        self.tx.send(batch).await.map_err(|_| Closed)
    }
}

/// Feeds `tx` until the client goes away (the receiver is dropped), or, without follow,
/// until everything asked for was sent.
pub async fn pump(ep: Arc<Endpoint>, id: String, q: LogQuery, tx: mpsc::Sender<Batch>) {
    let mut out = Outbox {
        tx,
        held: VecDeque::new(),
        skipped: 0,
    };
    let _ = stream(&ep, &id, &q, &mut out).await;
}

/// Lines of one read, in order, in runs of history (true) or live lines (false).
type Runs = Vec<(bool, Batch)>;

async fn stream(ep: &Endpoint, id: &str, q: &LogQuery, out: &mut Outbox) -> Result<(), Closed> {
    let opened = now_instant();
    let mut last: Option<(i64, u32)> = None;
    let mut first = true;
    // After a run ends, one more pass without follow: the daemon may close a follow stream
    // before it sent the last lines of a container that wrote fast and stopped.
    let mut drain = false;
    let state = run_state(ep, id).await;
    let mut tty = state.as_ref().ok().map(|s| s.tty);
    let mut started_at = state.map(|s| s.started_at).unwrap_or_default();
    let mut runs: Runs = Vec::new();
    loop {
        let since = if first {
            q.since
        } else {
            // Resume from the last line seen (or from when we began, if none was).
            last.unwrap_or(opened).0
        };
        let tail = if first { q.tail.as_str() } else { "all" };
        let opened_stream = match tty {
            Some(tty) => Ok(tty),
            None => run_state(ep, id).await.map(|s| s.tty),
        };
        let opened_stream = match opened_stream {
            Ok(t) => {
                tty = Some(t);
                let req = log_reader::Request {
                    id,
                    follow: q.follow && !drain,
                    stdout: q.stdout,
                    stderr: q.stderr,
                    since: since.clamp(0, i32::MAX as i64),
                    tail,
                    tty: t,
                };
                log_reader::open(ep, &req).await
            }
            Err(e) => Err(e),
        };
        let mut failed = None;
        match opened_stream {
            Err(e) => failed = Some(e),
            Ok(mut reader) => loop {
                let mut each = |source: log_reader::Source, raw: &[u8]| {
                    let (ts, text) = split(raw);
                    let at = instant(ts);
                    // After a resume the daemon repeats the last second: skip what was sent.
                    if let (Some(at), Some(last)) = (at, last) {
                        if !first && at <= last {
                            return;
                        }
                    }
                    if at.is_some() {
                        last = at;
                    }
                    let item = Item::Line(Line {
                        stream: source.name(),
                        line: String::from_utf8_lossy(text).into_owned(),
                        ts: q
                            .timestamps
                            .then(|| String::from_utf8_lossy(ts).into_owned()),
                        task: None,
                        node: None,
                    });
                    let history = at.is_some_and(|at| at < opened);
                    match runs.last_mut() {
                        Some((h, batch)) if *h == history => batch.push(item),
                        _ => runs.push((history, vec![item])),
                    }
                };
                // While lines are held back, retry sending them even if the container is
                // quiet.
                // A host that stops answering (its health loop marks it down) is an outage
                // like a refused connection: say so and resume when it is back, rather
                // than wait on a connection nobody answers.
                let gone = || {
                    AppError::DockerUnavailable(
                        ep.unavailable()
                            .unwrap_or_else(|| format!("environment {:?} is down", ep.name)),
                    )
                };
                let read = if out.pending() {
                    tokio::select! {
                        read = reader.next_batch(&mut each) => read,
                        _ = ep.went_down() => Err(gone()),
                        _ = tokio::time::sleep(Duration::from_millis(100)) => {
                            out.drain()?;
                            continue;
                        }
                    }
                } else {
                    tokio::select! {
                        read = reader.next_batch(&mut each) => read,
                        _ = ep.went_down() => Err(gone()),
                    }
                };
                for (history, batch) in runs.drain(..) {
                    if history {
                        out.send(batch).await?;
                    } else {
                        out.live(batch)?;
                    }
                }
                match read {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            },
        }
        out.flush().await?;
        first = false;
        if let Some(err) = failed.filter(|e| matches!(e, AppError::DockerUnavailable(_))) {
            wait_for_daemon(ep, out, err).await?;
            continue;
        }
        if !q.follow {
            return out.send(notice(wire::LogNotice::End)).await;
        }
        // The stream ended: the container stopped, was removed, or the daemon went away.
        match run_state(ep, id).await {
            // A new run (a restart), still going or already over: stream its output.
            Ok(s) if s.started_at != started_at => {
                started_at = s.started_at;
                drain = false;
                out.send(notice(wire::LogNotice::Restarted)).await?;
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
                out.send(notice(stopped)).await?;
                started_at = wait_for_start(ep, id, out, &started_at).await?;
                out.send(notice(wire::LogNotice::Restarted)).await?;
            }
            Err(e @ AppError::DockerUnavailable(_)) => wait_for_daemon(ep, out, e).await?,
            // Removed: nothing more will come.
            Err(_) => return out.send(notice(wire::LogNotice::End)).await,
        }
    }
}

/// Say the daemon is gone and wait until it answers again.
async fn wait_for_daemon(ep: &Endpoint, out: &mut Outbox, err: AppError) -> Result<(), Closed> {
    let lost = wire::LogNotice::DaemonLost {
        message: err.to_string(),
    };
    out.send(notice(lost)).await?;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            _ = out.tx.closed() => return Err(Closed),
        }
        ep.reset().await;
        if let Ok(client) = ep.client().await {
            if client.ping().await.is_ok() {
                return out.send(notice(wire::LogNotice::DaemonBack)).await;
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
                    out.send(notice(wire::LogNotice::DaemonBack)).await?;
                }
                if s.started_at != started_at {
                    return Ok(s.started_at);
                }
            }
            Err(e @ AppError::DockerUnavailable(_)) => {
                if !lost {
                    lost = true;
                    let lost_notice = wire::LogNotice::DaemonLost {
                        message: e.to_string(),
                    };
                    out.send(notice(lost_notice)).await?;
                }
                ep.reset().await;
            }
            Err(_) => {
                // Removed while we waited.
                out.send(notice(wire::LogNotice::End)).await?;
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
    fn lines_split_into_time_and_text() {
        let (ts, line) = split(b"2026-01-02T03:04:05.123456789Z oops: a b\r\n");
        assert_eq!(line, b"oops: a b");
        let (secs, nanos) = instant(ts).unwrap();
        assert_eq!(nanos, 123_456_789);
        assert!(secs > 1_700_000_000);
        assert!(instant(b"2026-01-02T03:04:05.2Z").unwrap() > instant(ts).unwrap());
        assert_eq!(
            split(b"2026-01-02T03:04:05Z\n"),
            (&b"2026-01-02T03:04:05Z"[..], &b""[..])
        );
    }

    #[test]
    fn timestamps_read_by_hand_agree_with_time() {
        for ts in [
            "1970-01-01T00:00:00Z",
            "2000-02-29T23:59:59.5Z",
            "2024-12-31T12:00:00.000000001Z",
            "2026-01-02T03:04:05.123456789Z",
            "2026-03-01T00:00:00.12Z",
            "1969-12-31T23:59:59.999Z",
            "2100-03-01T01:02:03Z",
        ] {
            let t = OffsetDateTime::parse(ts, &Rfc3339).unwrap();
            let want = (t.unix_timestamp(), t.nanosecond());
            assert_eq!(fast_instant(ts.as_bytes()), Some(want), "{ts}");
        }
        // Other forms go through `time`.
        assert_eq!(fast_instant(b"2026-01-02T04:04:05+01:00"), None);
        assert_eq!(
            instant(b"2026-01-02T04:04:05+01:00"),
            instant(b"2026-01-02T03:04:05Z")
        );
        assert_eq!(instant(b"not a time"), None);
        assert_eq!(instant(b"2026-01-02T03:04:05.Z"), None);
    }

    fn line(n: usize) -> Item {
        Item::Line(Line {
            stream: "stdout",
            line: n.to_string(),
            ts: None,
            task: None,
            node: None,
        })
    }

    fn numbers(batch: &Batch) -> Vec<String> {
        batch
            .iter()
            .map(|i| match i {
                Item::Line(l) => l.line.clone(),
                Item::Notice(wire::LogNotice::Skipped { count }) => format!("skipped {count}"),
                Item::Notice(n) => format!("{n:?}"),
            })
            .collect()
    }

    #[tokio::test]
    async fn a_full_channel_keeps_the_newest_live_lines_and_counts_the_rest() {
        let (tx, mut rx) = mpsc::channel(1);
        let mut out = Outbox {
            tx,
            held: VecDeque::new(),
            skipped: 0,
        };
        assert!(out.live(vec![line(0)]).is_ok());
        assert!(out.live((1..=300).map(line).collect()).is_ok());
        assert!(out.live((301..=310).map(line).collect()).is_ok());
        assert_eq!(out.held.len(), HELD);
        assert_eq!(out.skipped, 310 - HELD as u64);
        assert_eq!(numbers(&rx.recv().await.unwrap()), ["0"]);
        // Room again: the marker, then the newest lines, in one batch.
        assert!(out.drain().is_ok());
        let batch = rx.recv().await.unwrap();
        let got = numbers(&batch);
        assert_eq!(got[0], format!("skipped {}", 310 - HELD));
        assert_eq!(got[1], (311 - HELD).to_string());
        assert_eq!(got.last().unwrap(), "310");
        assert!(!out.pending());
        // History and notices wait for room, after what is held.
        assert!(out.live(vec![line(400)]).is_ok());
        assert!(out.live(vec![line(401)]).is_ok());
        let send = tokio::spawn(async move {
            let r = out.send(notice(wire::LogNotice::End)).await.is_ok();
            (r, out)
        });
        assert_eq!(numbers(&rx.recv().await.unwrap()), ["400"]);
        assert_eq!(numbers(&rx.recv().await.unwrap()), ["401"]);
        assert_eq!(numbers(&rx.recv().await.unwrap()), ["End"]);
        assert!(send.await.unwrap().0);
    }
}
