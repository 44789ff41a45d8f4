//! `docker service logs -f`: every task's output, merged by the manager, read straight off
//! its socket (bollard 0.19 has no service logs) with the container log reader, and fed to
//! the same bounded outbox as a container's logs: history waits for room, live lines never
//! do (the newest are held back, older ones dropped and counted).
//!
//! With `details=1` the daemon puts the task's attributes before each message
//! (`TS com.docker.swarm.node.id=…,com.docker.swarm.service.id=…,com.docker.swarm.task.id=… text`):
//! each line says which task and node wrote it.

use std::sync::Arc;

use tokio::sync::mpsc;

use super::logs::{instant, notice, split, Batch, Closed, Item, Line, LogQuery, Outbox};
use super::{log_reader, Endpoint};

/// The task and node of a line, and its text, from the daemon's details prefix.
fn details(text: &[u8]) -> (Option<String>, Option<String>, &[u8]) {
    let (first, rest) = match text.iter().position(|&b| b == b' ') {
        Some(i) => (&text[..i], &text[i + 1..]),
        None => (text, &b""[..]),
    };
    let first = String::from_utf8_lossy(first);
    if !first.contains("com.docker.swarm.") {
        return (None, None, text);
    }
    let (mut task, mut node) = (None, None);
    for kv in first.split(',') {
        match kv.split_once('=') {
            Some(("com.docker.swarm.task.id", v)) => task = Some(v.to_owned()),
            Some(("com.docker.swarm.node.id", v)) => node = Some(v.to_owned()),
            _ => {}
        }
    }
    (task, node, rest)
}

/// Feeds `tx` until the client goes away, or, without follow, until everything was sent;
/// a stream the daemon ends (the service removed, the manager gone) ends with a notice.
pub async fn pump(ep: Arc<Endpoint>, id: String, q: LogQuery, tty: bool, tx: mpsc::Sender<Batch>) {
    let mut out = Outbox::new(tx);
    let _ = stream(&ep, &id, &q, tty, &mut out).await;
}

async fn stream(
    ep: &Endpoint,
    id: &str,
    q: &LogQuery,
    tty: bool,
    out: &mut Outbox,
) -> Result<(), Closed> {
    let opened = {
        let t = time::OffsetDateTime::now_utc();
        (t.unix_timestamp(), t.nanosecond())
    };
    let opening = async {
        let version = ep.client().await?.client_version();
        let io = ep.dial().await?;
        let path = format!(
            "/v{version}/services/{}/logs?follow={}&stdout={}&stderr={}&since={}&tail={}&timestamps=1&details=1",
            percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC),
            u8::from(q.follow),
            u8::from(q.stdout),
            u8::from(q.stderr),
            q.since.max(0),
            percent_encoding::utf8_percent_encode(&q.tail, percent_encoding::NON_ALPHANUMERIC),
        );
        log_reader::open_path(ep, io, "docker", &path, tty).await
    };
    let mut reader = match opening.await {
        Ok(r) => r,
        Err(e) => {
            let lost = wire::LogNotice::DaemonLost {
                message: e.to_string(),
            };
            out.send(notice(lost)).await?;
            return out.send(notice(wire::LogNotice::End)).await;
        }
    };
    let mut runs: Vec<(bool, Batch)> = Vec::new();
    loop {
        let mut each = |source: log_reader::Source, raw: &[u8]| {
            let (ts, text) = split(raw);
            let history = instant(ts).is_some_and(|at| at < opened);
            let (task, node, text) = details(text);
            let item = Item::Line(Line {
                stream: source.name(),
                line: String::from_utf8_lossy(text).into_owned(),
                ts: q
                    .timestamps
                    .then(|| String::from_utf8_lossy(ts).into_owned()),
                task,
                node,
            });
            match runs.last_mut() {
                Some((h, batch)) if *h == history => batch.push(item),
                _ => runs.push((history, vec![item])),
            }
        };
        let read = if out.pending() {
            tokio::select! {
                read = reader.next_batch(&mut each) => read,
                _ = ep.went_down() => Ok(false),
                _ = tokio::time::sleep(std::time::Duration::from_millis(100)) => {
                    out.drain()?;
                    continue;
                }
            }
        } else {
            tokio::select! {
                read = reader.next_batch(&mut each) => read,
                _ = ep.went_down() => Ok(false),
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
                out.flush().await?;
                let lost = wire::LogNotice::DaemonLost {
                    message: e.to_string(),
                };
                out.send(notice(lost)).await?;
                break;
            }
        }
    }
    out.flush().await?;
    out.send(notice(wire::LogNotice::End)).await
}

#[cfg(test)]
mod tests {
    use super::details;

    #[test]
    fn task_and_node_from_the_details() {
        let (task, node, text) = details(
            b"com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,com.docker.swarm.task.id=t1 hello world",
        );
        assert_eq!(task.as_deref(), Some("t1"));
        assert_eq!(node.as_deref(), Some("n1"));
        assert_eq!(text, b"hello world");
        let (task, _, text) = details(b"plain line");
        assert_eq!(task, None);
        assert_eq!(text, b"plain line");
    }
}
