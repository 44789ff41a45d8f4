//! One page of older log lines: the last `lines` lines written before a moment, for the
//! logs tab's "load older".
//!
//! The daemon applies `tail` to the whole log *before* `until` (its json-file and local
//! drivers cut the last N lines of the file, then filter by time), so `tail` cannot page
//! backwards. Instead the daemon is asked for a time window ending at the moment
//! (`since`..`until`) and only the newest `lines` of it are kept, in a ring: memory stays
//! at one page whatever the window holds. A window that is too short is widened (5 minutes,
//! 6 hours, then the whole log), so a chatty container is paged in one cheap read and a
//! quiet one still reaches its first line.

use std::collections::VecDeque;

use bollard::container::LogOutput;
use bollard::query_parameters::LogsOptions;
use futures::StreamExt;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use wire::{LogLine, LogPage};

use super::Endpoint;
use crate::error::{AppError, AppResult};

/// The most lines one page may ask for.
pub const MAX_LINES: usize = 5000;

/// What a page asks for.
#[derive(Debug, Clone)]
pub struct PageQuery {
    /// Lines strictly older than this moment (unix seconds, nanoseconds); None: up to now.
    pub before: Option<(i64, u32)>,
    /// Never older than this (unix seconds; 0 for the start).
    pub since: i64,
    pub lines: usize,
    pub stdout: bool,
    pub stderr: bool,
}

/// Reads an RFC 3339 moment (the `ts` of a log line) as (unix seconds, nanoseconds).
pub fn parse_moment(ts: &str) -> Option<(i64, u32)> {
    let t = OffsetDateTime::parse(ts.trim(), &Rfc3339).ok()?;
    Some((t.unix_timestamp(), t.nanosecond()))
}

/// Windows tried in turn, in seconds before the moment (None: from `since`).
const WINDOWS: [Option<i64>; 3] = [Some(300), Some(6 * 3600), None];

/// The page: the newest `q.lines` lines before `q.before`, oldest first.
pub async fn page(ep: &Endpoint, id: &str, q: &PageQuery) -> AppResult<LogPage> {
    let client = ep.client().await?;
    let end = q
        .before
        .map(|(s, _)| s)
        .unwrap_or_else(|| OffsetDateTime::now_utc().unix_timestamp());
    for window in WINDOWS {
        let since = match window {
            Some(w) => (end - w).max(q.since),
            None => q.since,
        };
        let whole = window.is_none() || since <= q.since;
        let opts = LogsOptions {
            follow: false,
            stdout: q.stdout,
            stderr: q.stderr,
            since: since.clamp(0, i32::MAX as i64) as i32,
            // The daemon's `until` is whole seconds and inclusive: one second past the
            // moment, and what is not older than it is dropped below.
            until: q
                .before
                .map_or(0, |(s, _)| (s + 1).clamp(1, i32::MAX as i64) as i32),
            timestamps: true,
            tail: "all".into(),
        };
        let mut ring: VecDeque<LogLine> = VecDeque::with_capacity(q.lines.min(1024));
        let mut dropped = false;
        let mut stream = client.logs(id, Some(opts));
        while let Some(item) = stream.next().await {
            let (name, bytes) = match item.map_err(AppError::from)? {
                LogOutput::StdErr { message } => ("stderr", message),
                LogOutput::StdOut { message } | LogOutput::Console { message } => {
                    ("stdout", message)
                }
                LogOutput::StdIn { .. } => continue,
            };
            for raw in bytes.split(|&b| b == b'\n') {
                let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
                if raw.is_empty() {
                    continue;
                }
                let raw = String::from_utf8_lossy(raw);
                let (ts, text) = raw.split_once(' ').unwrap_or((&raw, ""));
                let at = parse_moment(ts);
                if let (Some(before), Some(at)) = (q.before, at) {
                    if at >= before {
                        continue;
                    }
                }
                if ring.len() == q.lines {
                    ring.pop_front();
                    dropped = true;
                }
                ring.push_back(LogLine {
                    stream: name.into(),
                    line: text.to_string(),
                    ts: Some(ts.to_string()),
                });
            }
        }
        if ring.len() == q.lines || whole {
            return Ok(LogPage {
                more: dropped || !whole,
                lines: ring.into(),
            });
        }
    }
    unreachable!("the last window is the whole log")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_order_to_the_nanosecond() {
        let a = parse_moment("2026-01-02T03:04:05.123456789Z").unwrap();
        let b = parse_moment("2026-01-02T03:04:05.12345679Z").unwrap();
        assert_eq!(a.1, 123_456_789);
        assert!(b > a);
        assert!(parse_moment("yesterday").is_none());
    }
}
